#include "device/transit_card_profile.h"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include "core/hex.h"
#include "emv/tlv.h"

namespace tapstack::device {

namespace {

constexpr emv::TlvTag kTagCardId = 0xDF41;
constexpr emv::TlvTag kTagIssuerId = 0xDF42;
constexpr emv::TlvTag kTagSerial = 0xDF43;
constexpr emv::TlvTag kTagStartDate = 0xDF44;
constexpr emv::TlvTag kTagExpiryDate = 0xDF45;
constexpr emv::TlvTag kTagProvince = 0xDF46;
constexpr emv::TlvTag kTagCity = 0xDF47;
constexpr emv::TlvTag kTagCardType = 0xDF48;
constexpr emv::TlvTag kTagAlgorithm = 0xDF49;
constexpr emv::TlvTag kTagKeyVersion = 0xDF4A;
constexpr emv::TlvTag kTagPurchaseKey = 0xDF4B;
constexpr emv::TlvTag kTagLoadKey = 0xDF4C;
constexpr emv::TlvTag kTagTacKey = 0xDF4D;
constexpr emv::TlvTag kTagMaintenanceKey = 0xDF4E;
constexpr emv::TlvTag kTagBalance = 0xDF4F;
constexpr emv::TlvTag kTagBalanceCap = 0xDF50;
constexpr std::size_t kTagCount = 16;

constexpr std::size_t kDateBcdBytes = 4;
constexpr std::size_t kCodeBcdBytes = 2;
constexpr std::size_t kAmountBytes = 4;

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

bool AllBcd(ByteView bytes) {
  return std::all_of(bytes.begin(), bytes.end(),
                     [](std::uint8_t b) { return (b >> 4) <= 9 && (b & 0x0F) <= 9; });
}

bool BcdCode(std::uint16_t code) {
  const std::array<std::uint8_t, 2> bytes = {static_cast<std::uint8_t>(code >> 8),
                                             static_cast<std::uint8_t>(code)};
  return AllBcd(bytes);
}

bool RealDate(std::uint32_t yyyymmdd) {
  const std::uint32_t year = yyyymmdd / 10000;
  const std::uint32_t month = yyyymmdd / 100 % 100;
  const std::uint32_t day = yyyymmdd % 100;
  if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  static constexpr std::array<std::uint32_t, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                          31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const std::uint32_t days = month == 2 && leap ? 29 : kDays[month - 1];
  return day <= days;
}

Status CheckKey(const crypto::SecretBytes& key, std::string_view field) {
  if (key.size() != crypto::kPurseKeyBytes) {
    return InvalidArgument(std::string(field) + ": expected 16 bytes, got " +
                           std::to_string(key.size()));
  }
  return Status::Ok();
}

Status ExpectSize(ByteView value, std::size_t size, std::string_view field) {
  if (value.size() != size) {
    return InvalidArgument("transit card profile: " + std::string(field) + " must be " +
                           std::to_string(size) + " bytes, got " + std::to_string(value.size()));
  }
  return Status::Ok();
}

}  // namespace

Bytes TransitDateBcd(std::uint32_t yyyymmdd) {
  Bytes out(kDateBcdBytes);
  std::uint32_t v = yyyymmdd;
  for (std::size_t i = kDateBcdBytes; i-- > 0;) {
    const std::uint32_t low = v % 10;
    v /= 10;
    const std::uint32_t high = v % 10;
    v /= 10;
    out[i] = static_cast<std::uint8_t>((high << 4) | low);
  }
  return out;
}

Result<std::uint32_t> TransitDateFromBcd(ByteView bcd) {
  if (bcd.size() != kDateBcdBytes || !AllBcd(bcd)) {
    return InvalidArgument("date: expected 4 BCD bytes YYYYMMDD");
  }
  std::uint32_t v = 0;
  for (std::uint8_t b : bcd) v = v * 100 + (b >> 4) * 10 + (b & 0x0F);
  return v;
}

Status CheckTransitCardProfile(const TransitCardProfile& p) {
  if (p.card_id.empty() || p.card_id.size() > kTransitCardIdBytesMax || !Printable(p.card_id)) {
    return InvalidArgument("card id: expected 1-64 printable ASCII characters");
  }
  if (p.issuer_id.size() != kTransitIssuerIdBytes) {
    return InvalidArgument("issuer id: expected 8 bytes, got " + std::to_string(p.issuer_id.size()));
  }
  if (p.serial.size() != kTransitSerialBytes || !AllBcd(p.serial)) {
    return InvalidArgument("serial number: expected 10 bytes of BCD digits (20 digits)");
  }
  if (!RealDate(p.start_date)) {
    return InvalidArgument("start date: expected a calendar date YYYYMMDD, got " +
                           std::to_string(p.start_date));
  }
  if (!RealDate(p.expiry_date)) {
    return InvalidArgument("expiry date: expected a calendar date YYYYMMDD, got " +
                           std::to_string(p.expiry_date));
  }
  if (p.expiry_date < p.start_date) {
    return InvalidArgument("expiry date: must not be before the start date");
  }
  if (!BcdCode(p.province_code)) return InvalidArgument("province code: expected 4 BCD digits");
  if (!BcdCode(p.city_code)) return InvalidArgument("city code: expected 4 BCD digits");
  if (p.algorithm != crypto::PurseAlgorithm::kTdes && p.algorithm != crypto::PurseAlgorithm::kSm4) {
    return InvalidArgument("algorithm: expected kTdes or kSm4");
  }
  TS_RETURN_IF_ERROR(CheckKey(p.purchase_key, "purchase key (DPK)"));
  TS_RETURN_IF_ERROR(CheckKey(p.load_key, "load key (DLK)"));
  TS_RETURN_IF_ERROR(CheckKey(p.tac_key, "TAC key (DTK)"));
  TS_RETURN_IF_ERROR(CheckKey(p.maintenance_key, "maintenance key"));
  if (p.balance_cap_fen == 0) return InvalidArgument("balance cap: must be above 0 fen");
  if (p.balance_fen > p.balance_cap_fen) {
    return InvalidArgument("balance: " + std::to_string(p.balance_fen) +
                           " fen is above the balance cap of " +
                           std::to_string(p.balance_cap_fen) + " fen");
  }
  return Status::Ok();
}

TransitCardProfile CloneTransitCardProfile(const TransitCardProfile& p) {
  TransitCardProfile c;
  c.card_id = p.card_id;
  c.issuer_id = p.issuer_id;
  c.serial = p.serial;
  c.start_date = p.start_date;
  c.expiry_date = p.expiry_date;
  c.province_code = p.province_code;
  c.city_code = p.city_code;
  c.card_type = p.card_type;
  c.algorithm = p.algorithm;
  c.key_version = p.key_version;
  c.purchase_key = p.purchase_key.Clone();
  c.load_key = p.load_key.Clone();
  c.tac_key = p.tac_key.Clone();
  c.maintenance_key = p.maintenance_key.Clone();
  c.balance_fen = p.balance_fen;
  c.balance_cap_fen = p.balance_cap_fen;
  return c;
}

crypto::SecretBytes EncodeTransitCardProfile(const TransitCardProfile& p) {
  Bytes out;
  Status st;
  auto add = [&](emv::TlvTag tag, ByteView value) {
    if (st.ok()) st = emv::AppendTlv(out, tag, value);
  };
  const std::uint8_t algorithm_id = crypto::PurseAlgorithmId(p.algorithm);
  add(kTagCardId, AsBytes(p.card_id));
  add(kTagIssuerId, p.issuer_id);
  add(kTagSerial, p.serial);
  add(kTagStartDate, TransitDateBcd(p.start_date));
  add(kTagExpiryDate, TransitDateBcd(p.expiry_date));
  add(kTagProvince, UintToBytes(p.province_code, kCodeBcdBytes));
  add(kTagCity, UintToBytes(p.city_code, kCodeBcdBytes));
  add(kTagCardType, ByteView(&p.card_type, 1));
  add(kTagAlgorithm, ByteView(&algorithm_id, 1));
  add(kTagKeyVersion, ByteView(&p.key_version, 1));
  add(kTagPurchaseKey, p.purchase_key.reveal());
  add(kTagLoadKey, p.load_key.reveal());
  add(kTagTacKey, p.tac_key.reveal());
  add(kTagMaintenanceKey, p.maintenance_key.reveal());
  add(kTagBalance, UintToBytes(p.balance_fen, kAmountBytes));
  add(kTagBalanceCap, UintToBytes(p.balance_cap_fen, kAmountBytes));
  if (!st.ok()) {
    SecureWipe(out.data(), out.size());
    return crypto::SecretBytes();
  }
  return crypto::SecretBytes(std::move(out));
}

Result<TransitCardProfile> DecodeTransitCardProfile(ByteView plaintext) {
  emv::TlvDecodeOptions options;
  options.allow_padding = false;
  TS_ASSIGN_OR_RETURN(const emv::TlvTree tree, emv::DecodeTlv(plaintext, options));
  TransitCardProfile p;
  std::set<emv::TlvTag> seen;
  for (const emv::TlvNode& node : tree.roots()) {
    if (!seen.insert(node.tag).second) {
      return InvalidArgument("transit card profile: tag " + emv::TlvTagHex(node.tag) +
                             " repeated");
    }
    const ByteView v = node.value;
    switch (node.tag) {
      case kTagCardId:
        p.card_id.assign(v.begin(), v.end());
        break;
      case kTagIssuerId:
        TS_RETURN_IF_ERROR(ExpectSize(v, kTransitIssuerIdBytes, "issuer id (DF42)"));
        p.issuer_id.assign(v.begin(), v.end());
        break;
      case kTagSerial:
        TS_RETURN_IF_ERROR(ExpectSize(v, kTransitSerialBytes, "serial number (DF43)"));
        p.serial.assign(v.begin(), v.end());
        break;
      case kTagStartDate: {
        Result<std::uint32_t> date = TransitDateFromBcd(v);
        if (!date.ok()) return InvalidArgument("transit card profile: start date (DF44): " +
                                               date.status().message());
        p.start_date = *date;
        break;
      }
      case kTagExpiryDate: {
        Result<std::uint32_t> date = TransitDateFromBcd(v);
        if (!date.ok()) return InvalidArgument("transit card profile: expiry date (DF45): " +
                                               date.status().message());
        p.expiry_date = *date;
        break;
      }
      case kTagProvince:
        TS_RETURN_IF_ERROR(ExpectSize(v, kCodeBcdBytes, "province code (DF46)"));
        p.province_code = static_cast<std::uint16_t>(BytesToUint(v));
        break;
      case kTagCity:
        TS_RETURN_IF_ERROR(ExpectSize(v, kCodeBcdBytes, "city code (DF47)"));
        p.city_code = static_cast<std::uint16_t>(BytesToUint(v));
        break;
      case kTagCardType:
        TS_RETURN_IF_ERROR(ExpectSize(v, 1, "card type (DF48)"));
        p.card_type = v[0];
        break;
      case kTagAlgorithm: {
        TS_RETURN_IF_ERROR(ExpectSize(v, 1, "algorithm id (DF49)"));
        Result<crypto::PurseAlgorithm> algorithm = crypto::PurseAlgorithmFromId(v[0]);
        if (!algorithm.ok()) {
          return InvalidArgument("transit card profile: algorithm id (DF49) " +
                                 HexEncode(v) + " is neither TDES nor SM4");
        }
        p.algorithm = *algorithm;
        break;
      }
      case kTagKeyVersion:
        TS_RETURN_IF_ERROR(ExpectSize(v, 1, "key version (DF4A)"));
        p.key_version = v[0];
        break;
      case kTagPurchaseKey:
        p.purchase_key = crypto::SecretBytes(v);
        break;
      case kTagLoadKey:
        p.load_key = crypto::SecretBytes(v);
        break;
      case kTagTacKey:
        p.tac_key = crypto::SecretBytes(v);
        break;
      case kTagMaintenanceKey:
        p.maintenance_key = crypto::SecretBytes(v);
        break;
      case kTagBalance:
        TS_RETURN_IF_ERROR(ExpectSize(v, kAmountBytes, "balance (DF4F)"));
        p.balance_fen = static_cast<std::uint32_t>(BytesToUint(v));
        break;
      case kTagBalanceCap:
        TS_RETURN_IF_ERROR(ExpectSize(v, kAmountBytes, "balance cap (DF50)"));
        p.balance_cap_fen = static_cast<std::uint32_t>(BytesToUint(v));
        break;
      default:
        return InvalidArgument("transit card profile: unknown tag " + emv::TlvTagHex(node.tag));
    }
  }
  if (seen.size() != kTagCount) {
    for (emv::TlvTag tag :
         {kTagCardId, kTagIssuerId, kTagSerial, kTagStartDate, kTagExpiryDate, kTagProvince,
          kTagCity, kTagCardType, kTagAlgorithm, kTagKeyVersion, kTagPurchaseKey, kTagLoadKey,
          kTagTacKey, kTagMaintenanceKey, kTagBalance, kTagBalanceCap}) {
      if (!seen.contains(tag)) {
        return InvalidArgument("transit card profile: tag " + emv::TlvTagHex(tag) + " missing");
      }
    }
  }
  Status checked = CheckTransitCardProfile(p);
  if (!checked.ok()) return InvalidArgument("transit card profile: " + checked.message());
  return p;
}

}  // namespace tapstack::device
