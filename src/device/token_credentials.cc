#include "device/token_credentials.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "core/hex.h"
#include "emv/tlv.h"

namespace tapstack::device {

namespace {

constexpr emv::TlvTag kTagTokenId = 0xDF01;
constexpr emv::TlvTag kTagTokenNumber = 0xDF02;
constexpr emv::TlvTag kTagExpiry = 0xDF03;
constexpr emv::TlvTag kTagPsn = 0xDF04;
constexpr emv::TlvTag kTagProfile = 0xDF05;
constexpr emv::TlvTag kTagMode = 0xDF06;
constexpr emv::TlvTag kTagMasterKey = 0xDF07;
constexpr emv::TlvTag kTagLimitedUseKey = 0xFF20;
constexpr emv::TlvTag kTagKeyAtc = 0xDF21;
constexpr emv::TlvTag kTagKeyValue = 0xDF22;
constexpr std::size_t kProfileNameBytesMax = 32;

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

Status CheckKeys(const TokenCredentials& c) {
  if (c.limited_use_keys.empty() || c.limited_use_keys.size() > kLimitedUseKeysPerBatchMax) {
    return InvalidArgument("limited-use keys: expected 1-" +
                           std::to_string(kLimitedUseKeysPerBatchMax) + " per batch");
  }
  std::set<std::uint16_t> atcs;
  for (const LimitedUseKey& key : c.limited_use_keys) {
    if (key.atc == 0) return InvalidArgument("limited-use key: ATC 0 is never used");
    if (!atcs.insert(key.atc).second) {
      return InvalidArgument("limited-use key: ATC " + std::to_string(key.atc) + " repeated");
    }
    if (key.session_key.size() != kCardKeyBytes) {
      return InvalidArgument("limited-use key: session key must be 16 bytes");
    }
  }
  return Status::Ok();
}

std::string Text(ByteView v) { return std::string(v.begin(), v.end()); }

}  // namespace

Status CheckTokenCredentials(const TokenCredentials& c, bool replenishment) {
  if (c.token_id.empty() || c.token_id.size() > kTokenIdBytesMax || !Printable(c.token_id)) {
    return InvalidArgument("token id: expected 1-64 printable ASCII characters");
  }
  if (replenishment) {
    if (c.mode != KeyMode::kLimitedUse) return InvalidArgument("replenishment: mode must be HCE");
    return CheckKeys(c);
  }
  if (!IsAllDigits(c.token_number) || c.token_number.size() < 13 || c.token_number.size() > 19) {
    return InvalidArgument("token number: expected 13-19 digits");
  }
  if (c.expiry_yymm.size() != 4 || !IsAllDigits(c.expiry_yymm) || c.expiry_yymm.substr(2) < "01" ||
      c.expiry_yymm.substr(2) > "12") {
    return InvalidArgument("expiry: expected YYMM");
  }
  if (c.psn.size() != 2 || !IsAllDigits(c.psn)) return InvalidArgument("psn: expected 2 digits");
  if (c.profile_name.empty() || c.profile_name.size() > kProfileNameBytesMax ||
      !Printable(c.profile_name)) {
    return InvalidArgument("profile name: expected 1-32 printable characters");
  }
  switch (c.mode) {
    case KeyMode::kMasterKey:
      if (c.icc_master_key.size() != kCardKeyBytes) {
        return InvalidArgument("icc master key: expected 16 bytes");
      }
      if (!c.limited_use_keys.empty()) {
        return InvalidArgument("master-key mode carries no limited-use keys");
      }
      return Status::Ok();
    case KeyMode::kLimitedUse:
      if (!c.icc_master_key.empty()) {
        return InvalidArgument("limited-use mode carries no master key");
      }
      return CheckKeys(c);
  }
  return InvalidArgument("key mode: expected 1 (master key) or 2 (limited use)");
}

Result<crypto::SecretBytes> EncodeTokenCredentials(const TokenCredentials& c, bool replenishment) {
  TS_RETURN_IF_ERROR(CheckTokenCredentials(c, replenishment));
  Bytes out;
  Status st;
  auto add = [&](emv::TlvTag tag, ByteView value) {
    if (st.ok()) st = emv::AppendTlv(out, tag, value);
  };
  add(kTagTokenId, AsBytes(c.token_id));
  if (!replenishment) {
    add(kTagTokenNumber, AsBytes(c.token_number));
    add(kTagExpiry, AsBytes(c.expiry_yymm));
    add(kTagPsn, AsBytes(c.psn));
    add(kTagProfile, AsBytes(c.profile_name));
  }
  const std::uint8_t mode = static_cast<std::uint8_t>(c.mode);
  add(kTagMode, ByteView(&mode, 1));
  if (c.mode == KeyMode::kMasterKey) add(kTagMasterKey, c.icc_master_key.reveal());
  for (const LimitedUseKey& key : c.limited_use_keys) {
    Bytes inner;
    const Bytes atc = UintToBytes(key.atc, 2);
    if (st.ok()) st = emv::AppendTlv(inner, kTagKeyAtc, atc);
    if (st.ok()) st = emv::AppendTlv(inner, kTagKeyValue, key.session_key.reveal());
    add(kTagLimitedUseKey, inner);
    SecureWipe(inner.data(), inner.size());
  }
  if (!st.ok()) {
    SecureWipe(out.data(), out.size());
    return st;
  }
  return crypto::SecretBytes(std::move(out));
}

Result<TokenCredentials> DecodeTokenCredentials(ByteView encoded, bool replenishment) {
  emv::TlvDecodeOptions options;
  options.allow_padding = false;
  TS_ASSIGN_OR_RETURN(const emv::TlvTree tree, emv::DecodeTlv(encoded, options));
  TokenCredentials c;
  std::set<emv::TlvTag> seen;
  bool has_mode = false;
  for (const emv::TlvNode& node : tree.roots()) {
    if (node.tag != kTagLimitedUseKey && !seen.insert(node.tag).second) {
      return InvalidArgument("token credentials: tag " + emv::TlvTagHex(node.tag) + " repeated");
    }
    switch (node.tag) {
      case kTagTokenId:
        c.token_id = Text(node.value);
        break;
      case kTagTokenNumber:
        c.token_number = Text(node.value);
        break;
      case kTagExpiry:
        c.expiry_yymm = Text(node.value);
        break;
      case kTagPsn:
        c.psn = Text(node.value);
        break;
      case kTagProfile:
        c.profile_name = Text(node.value);
        break;
      case kTagMode:
        if (node.value.size() != 1) return InvalidArgument("token credentials: mode not 1 byte");
        c.mode = static_cast<KeyMode>(node.value[0]);
        has_mode = true;
        break;
      case kTagMasterKey:
        c.icc_master_key = crypto::SecretBytes(node.value);
        break;
      case kTagLimitedUseKey: {
        const emv::TlvNode* atc = tree.FindChild(node, kTagKeyAtc);
        const emv::TlvNode* key = tree.FindChild(node, kTagKeyValue);
        if (atc == nullptr || key == nullptr || atc->value.size() != 2) {
          return InvalidArgument("token credentials: FF20 needs DF21 (2 bytes) and DF22");
        }
        c.limited_use_keys.push_back(LimitedUseKey{
            static_cast<std::uint16_t>(BytesToUint(atc->value)), crypto::SecretBytes(key->value)});
        break;
      }
      default:
        return InvalidArgument("token credentials: unknown tag " + emv::TlvTagHex(node.tag));
    }
  }
  if (!has_mode) return InvalidArgument("token credentials: no key mode (DF06)");
  if (!replenishment && c.psn.empty()) c.psn = "00";
  TS_RETURN_IF_ERROR(CheckTokenCredentials(c, replenishment));
  return c;
}

}  // namespace tapstack::device
