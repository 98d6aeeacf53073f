#include "dcep_wire/internal/tlv_fields.h"

#include <algorithm>
#include <limits>
#include <set>

#include "core/hex.h"
#include "dcep_wire/limits.h"

namespace tapstack::dcep_wire::internal {

ByteView NodeBytes(const emv::TlvTree& tree, const emv::TlvNode& node) {
  const ByteView source = tree.source();
  const std::size_t end =
      static_cast<std::size_t>(node.value.data() + node.value.size() - source.data());
  return source.subspan(node.offset, end - node.offset);
}

Status DecodeOne(ByteView input, emv::TlvTag tag, std::string_view what, std::size_t bytes_max,
                 emv::TlvTree& tree) {
  const std::string name(what);
  if (input.size() > bytes_max) {
    return OutOfRange(name + ": " + std::to_string(input.size()) + " bytes, at most " +
                      std::to_string(bytes_max));
  }
  emv::TlvDecodeOptions options;
  options.allow_padding = false;  // signed bytes are canonical: nothing to skip
  Status decoded = emv::DecodeTlvInto(input, tree, options);
  if (!decoded.ok()) return InvalidArgument(name + ": " + decoded.message());
  const auto roots = tree.roots();
  if (roots.empty()) return InvalidArgument(name + ": empty input, expected tag " + emv::TlvTagHex(tag));
  if (roots.begin()->tag != tag) {
    return InvalidArgument(name + ": expected tag " + emv::TlvTagHex(tag) + ", got " +
                           emv::TlvTagHex(roots.begin()->tag));
  }
  if (std::next(roots.begin()) != roots.end()) {
    return InvalidArgument(name + ": bytes after the " + emv::TlvTagHex(tag) + " object");
  }
  return Status::Ok();
}

Status FieldReader::Error(emv::TlvTag tag, std::string_view field,
                          std::string_view problem) const {
  return InvalidArgument(std::string(what_) + ": tag " + emv::TlvTagHex(tag) + " (" +
                         std::string(field) + ") " + std::string(problem));
}

Status FieldReader::CheckTags(std::initializer_list<emv::TlvTag> allowed) const {
  std::set<emv::TlvTag> seen;
  for (const emv::TlvNode& child : tree_.children(parent_)) {
    if (std::find(allowed.begin(), allowed.end(), child.tag) == allowed.end()) {
      return InvalidArgument(std::string(what_) + ": unexpected tag " + emv::TlvTagHex(child.tag));
    }
    if (!seen.insert(child.tag).second) {
      return InvalidArgument(std::string(what_) + ": tag " + emv::TlvTagHex(child.tag) +
                             " appears twice");
    }
  }
  return Status::Ok();
}

Result<const emv::TlvNode*> FieldReader::Node(emv::TlvTag tag, std::string_view field) const {
  const emv::TlvNode* node = tree_.FindChild(parent_, tag);
  if (node == nullptr) return Error(tag, field, "missing");
  return node;
}

Result<ByteView> FieldReader::Value(emv::TlvTag tag, std::string_view field) const {
  TS_ASSIGN_OR_RETURN(const emv::TlvNode* node, Node(tag, field));
  if (node->constructed) return Error(tag, field, "must be primitive");
  return node->value;
}

Result<ByteView> FieldReader::Fixed(emv::TlvTag tag, std::string_view field,
                                    std::size_t width) const {
  TS_ASSIGN_OR_RETURN(const ByteView value, Value(tag, field));
  if (value.size() != width) {
    return Error(tag, field,
                 "must be " + std::to_string(width) + " bytes, got " + std::to_string(value.size()));
  }
  return value;
}

Result<std::uint64_t> FieldReader::Uint(emv::TlvTag tag, std::string_view field,
                                        std::size_t width) const {
  TS_ASSIGN_OR_RETURN(const ByteView value, Fixed(tag, field, width));
  return BytesToUint(value);
}

Result<std::int64_t> FieldReader::Amount(emv::TlvTag tag, std::string_view field) const {
  TS_ASSIGN_OR_RETURN(const std::uint64_t value, Uint(tag, field, kAmountBytes));
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Error(tag, field, "above the largest amount (2^63 - 1 fen)");
  }
  return static_cast<std::int64_t>(value);
}

Result<std::int64_t> FieldReader::UnixSeconds(emv::TlvTag tag, std::string_view field) const {
  TS_ASSIGN_OR_RETURN(const std::uint64_t value, Uint(tag, field, kUnixTimeBytes));
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Error(tag, field, "above 2^63 - 1 seconds");
  }
  return static_cast<std::int64_t>(value);
}

Result<std::string> FieldReader::Ascii(emv::TlvTag tag, std::string_view field,
                                       std::size_t bytes_max) const {
  TS_ASSIGN_OR_RETURN(const ByteView value, Value(tag, field));
  const std::string text(value.begin(), value.end());
  Status checked = CheckAscii(text, field, bytes_max);
  if (!checked.ok()) return Error(tag, field, checked.message());
  return text;
}

Result<std::string> FieldReader::DeviceId(emv::TlvTag tag, std::string_view field) const {
  TS_ASSIGN_OR_RETURN(const ByteView value, Value(tag, field));
  const std::string text(value.begin(), value.end());
  Status checked = CheckDeviceIdText(text, field);
  if (!checked.ok()) return Error(tag, field, checked.message());
  return text;
}

Result<SignedParts> ReadSigned(const emv::TlvTree& tree, const emv::TlvNode& outer,
                               emv::TlvTag body_tag, std::string_view what) {
  const std::string name(what);
  const auto children = tree.children(outer);
  auto it = children.begin();
  if (it == children.end() || it->tag != body_tag) {
    return InvalidArgument(name + ": expected the body template " + emv::TlvTagHex(body_tag) +
                           " first");
  }
  SignedParts parts;
  parts.body = &*it;
  parts.body_bytes = NodeBytes(tree, *it);
  ++it;
  if (it == children.end() || it->tag != kTagSignature) {
    return InvalidArgument(name + ": tag 5F37 (signature) missing after the body");
  }
  if (it->constructed || it->value.size() != crypto::kRawSignatureBytes) {
    return InvalidArgument(name + ": tag 5F37 (signature) must be 64 bytes, got " +
                           std::to_string(it->value.size()));
  }
  parts.signature = it->value;
  if (++it != children.end()) {
    return InvalidArgument(name + ": unexpected tag " + emv::TlvTagHex(it->tag) +
                           " after the signature");
  }
  return parts;
}

Result<Bytes> SignEnvelope(emv::TlvTag outer, ByteView body_tlv, const crypto::PrivateKey& key) {
  TS_ASSIGN_OR_RETURN(const Bytes signature,
                      crypto::Sign(key, body_tlv, crypto::SignatureEncoding::kRaw));
  TlvWriter writer;
  writer.PutRaw(body_tlv);
  writer.Put(kTagSignature, signature);
  return writer.Finish(outer);
}

Status VerifyBody(const crypto::PublicKey& key, ByteView body, ByteView signature,
                  std::string_view what) {
  Status verified = crypto::Verify(key, body, signature, crypto::SignatureEncoding::kRaw);
  if (!verified.ok()) {
    return CryptoFailure(std::string(what) + ": signature does not verify under the " +
                         std::string(crypto::SignatureSchemeName(key.scheme())) + " key");
  }
  return Status::Ok();
}

void TlvWriter::Put(emv::TlvTag tag, ByteView value) {
  if (!status_.ok()) return;
  status_ = emv::AppendTlv(out_, tag, value);
}

void TlvWriter::PutUint(emv::TlvTag tag, std::uint64_t value, std::size_t width) {
  Put(tag, UintToBytes(value, width));
}

Result<Bytes> TlvWriter::Finish(emv::TlvTag tag) const {
  if (!status_.ok()) return status_;
  return emv::EncodeTlv(tag, out_);
}

Status CheckAscii(std::string_view text, std::string_view field, std::size_t bytes_max) {
  const bool printable = std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x21 && static_cast<unsigned char>(c) <= 0x7E;
  });
  if (text.empty() || text.size() > bytes_max || !printable) {
    return InvalidArgument(std::string(field) + ": expected 1-" + std::to_string(bytes_max) +
                           " printable ASCII characters");
  }
  return Status::Ok();
}

Status CheckDeviceIdText(std::string_view id, std::string_view field) {
  const bool ok = !id.empty() && id.size() <= kDeviceIdBytesMax &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                  });
  if (!ok) {
    return InvalidArgument(std::string(field) + ": expected 1-" +
                           std::to_string(kDeviceIdBytesMax) + " characters of a-z 0-9 - _");
  }
  return Status::Ok();
}

Status CheckAmount(std::int64_t fen, std::string_view field) {
  if (fen < 0) return InvalidArgument(std::string(field) + ": must not be negative");
  return Status::Ok();
}

}  // namespace tapstack::dcep_wire::internal
