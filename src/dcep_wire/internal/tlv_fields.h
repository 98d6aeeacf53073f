// Internal helpers shared by the dcep_wire codecs: strict single-object decoding, a reader for the
// primitive fields of one template (each tag at most once, unknown tags refused, errors naming the
// tag and the field) and the signed-envelope shape  outer { body template | 5F37 signature (64) }.
// Not part of the public interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/signature.h"
#include "emv/tlv.h"

namespace tapstack::dcep_wire::internal {

inline constexpr emv::TlvTag kTagSignature = 0x5F37;

// The complete encoding (tag, length and value) of a decoded node, a view into the tree's source.
ByteView NodeBytes(const emv::TlvTree& tree, const emv::TlvNode& node);

// Decodes `input` as exactly one object tagged `tag`: no padding, nothing after it. Errors
// (kInvalidArgument) name `what` and the tag; (kOutOfRange) for input above `bytes_max`.
Status DecodeOne(ByteView input, emv::TlvTag tag, std::string_view what, std::size_t bytes_max,
                 emv::TlvTree& tree);

// Reads the children of one constructed node.
class FieldReader {
 public:
  FieldReader(const emv::TlvTree& tree, const emv::TlvNode& parent, std::string_view what)
      : tree_(tree), parent_(parent), what_(what) {}

  // Refuses a child whose tag is not in `allowed` and any tag present twice.
  Status CheckTags(std::initializer_list<emv::TlvTag> allowed) const;

  // The child node (required). Errors: "<what>: tag 93 (serial) missing".
  Result<const emv::TlvNode*> Node(emv::TlvTag tag, std::string_view field) const;
  // The value of a required primitive child.
  Result<ByteView> Value(emv::TlvTag tag, std::string_view field) const;
  // A value of exactly `width` bytes.
  Result<ByteView> Fixed(emv::TlvTag tag, std::string_view field, std::size_t width) const;
  // A big-endian unsigned integer of exactly `width` bytes (1-8).
  Result<std::uint64_t> Uint(emv::TlvTag tag, std::string_view field, std::size_t width) const;
  // An 8-byte amount in fen, 0 to INT64_MAX.
  Result<std::int64_t> Amount(emv::TlvTag tag, std::string_view field) const;
  // 8-byte unix seconds, 0 to INT64_MAX.
  Result<std::int64_t> UnixSeconds(emv::TlvTag tag, std::string_view field) const;
  // Printable ASCII (21-7E), 1 to `bytes_max` bytes.
  Result<std::string> Ascii(emv::TlvTag tag, std::string_view field, std::size_t bytes_max) const;
  // A device id: 1-kDeviceIdBytesMax of a-z 0-9 - _.
  Result<std::string> DeviceId(emv::TlvTag tag, std::string_view field) const;

 private:
  Status Error(emv::TlvTag tag, std::string_view field, std::string_view problem) const;

  const emv::TlvTree& tree_;
  const emv::TlvNode& parent_;
  std::string_view what_;
};

// The two parts of outer { body | 5F37 signature }.
struct SignedParts {
  const emv::TlvNode* body = nullptr;  // the body template node
  ByteView body_bytes;                 // its complete encoding: what the signature covers
  ByteView signature;                  // 64 bytes
};

// Reads `outer` as exactly { body_tag | 5F37 (64) } in that order.
Result<SignedParts> ReadSigned(const emv::TlvTree& tree, const emv::TlvNode& outer,
                               emv::TlvTag body_tag, std::string_view what);

// outer { body_tlv | 5F37 Sign(key, body_tlv, raw) }.
Result<Bytes> SignEnvelope(emv::TlvTag outer, ByteView body_tlv, const crypto::PrivateKey& key);

// Verify(key, body, signature, raw), with an error naming `what`.
Status VerifyBody(const crypto::PublicKey& key, ByteView body, ByteView signature,
                  std::string_view what);

// Builds a template's value field by field; the first error sticks.
class TlvWriter {
 public:
  void Put(emv::TlvTag tag, ByteView value);
  void PutUint(emv::TlvTag tag, std::uint64_t value, std::size_t width);
  void PutText(emv::TlvTag tag, std::string_view text) { Put(tag, AsBytes(text)); }
  // Appends already-encoded objects (nested templates).
  void PutRaw(ByteView encoded) { out_.insert(out_.end(), encoded.begin(), encoded.end()); }
  // tag { everything put so far }.
  Result<Bytes> Finish(emv::TlvTag tag) const;

 private:
  Bytes out_;
  Status status_;
};

// Field checks used before encoding.
Status CheckAscii(std::string_view text, std::string_view field, std::size_t bytes_max);
Status CheckDeviceIdText(std::string_view id, std::string_view field);
Status CheckAmount(std::int64_t fen, std::string_view field);

}  // namespace tapstack::dcep_wire::internal
