#include "dcep/merchant_qr.h"

#include <array>
#include <vector>

#include "core/bytes.h"
#include "core/hex.h"
#include "crypto/mac.h"
#include "dcep/tiers.h"
#include "qr/mpm.h"
#include "qr/mpm_spec.h"
#include "qr/utf8.h"

namespace tapstack::dcep {
namespace {

using namespace qr::mpm_ids;  // NOLINT(google-build-using-namespace): the MPM ids, by name

// The sub-ids of the layout in merchant_qr.h.
constexpr std::string_view kSubOperator = "01";  // inside 26
constexpr std::string_view kSubMerchant = "02";  // inside 26
constexpr std::string_view kSubExpiry = "01";    // inside 80
constexpr std::string_view kSubMac = "02";       // inside 80
constexpr std::string_view kCnyNumeric = "156";  // ISO 4217
constexpr std::string_view kCountryCn = "CN";    // ISO 3166-1 alpha-2
constexpr std::string_view kMacDomain = "tapstack-dcep-mpm-v1";
constexpr std::size_t kAmountCharsMax = 13;  // MPM 54

bool IsMerchantChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}
bool IsOrderChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Field names: how encode (the issuer's own struct) and parse (a scanned payload) call a field.
struct Field {
  std::string_view struct_name;
  std::string_view object;
};
constexpr Field kOperator{"operator_id", "id 26.01"};
constexpr Field kMerchant{"merchant_id", "id 26.02"};
constexpr Field kMcc{"mcc", "id 52"};
constexpr Field kName{"name", "id 59"};
constexpr Field kCity{"city", "id 60"};
constexpr Field kAmount{"amount_fen", "id 54"};
constexpr Field kOrder{"order_id", "id 62.01"};
constexpr Field kExpiry{"expires_unix_s", "id 80.01"};

std::string Name(const Field& field, bool scanned) {
  return std::string(scanned ? field.object : field.struct_name);
}

template <typename Pred>
Status CheckToken(const std::string& field, std::string_view value, std::size_t max_bytes, Pred ok,
                  std::string_view expected) {
  if (value.empty() || value.size() > max_bytes) {
    return InvalidArgument(field + ": expected 1-" + std::to_string(max_bytes) + " " +
                           std::string(expected) + ", got " + std::to_string(value.size()) +
                           " characters");
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!ok(value[i])) {
      return InvalidArgument(field + ": expected " + std::string(expected) + ", found " +
                             qr::QuoteForMessage(value.substr(i, 1)) + " at offset " +
                             std::to_string(i));
    }
  }
  return Status::Ok();
}

Status CheckText(const std::string& field, std::string_view value, std::size_t max_chars) {
  if (qr::FindInvalidUtf8(value)) return InvalidArgument(field + ": not valid UTF-8");
  const std::size_t chars = qr::Utf8CharCount(value);
  if (chars == 0 || chars > max_chars) {
    return InvalidArgument(field + ": expected 1-" + std::to_string(max_chars) +
                           " characters, got " + std::to_string(chars));
  }
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      return InvalidArgument(field + ": expected text without control characters");
    }
  }
  return Status::Ok();
}

// Every rule of merchant_qr.h on `code`'s fields (not the MAC).
Status CheckCode(const MerchantQr& code, bool scanned) {
  if (Status s = CheckOperatorId(Name(kOperator, scanned), code.operator_id); !s.ok()) return s;
  TS_RETURN_IF_ERROR(CheckToken(Name(kMerchant, scanned), code.merchant_id, kQrMerchantIdBytesMax,
                                IsMerchantChar, "of a-z 0-9 - _"));
  if (code.mcc.size() != 4 || !IsAllDigits(code.mcc)) {
    return InvalidArgument(Name(kMcc, scanned) + ": expected 4 digits (ISO 18245), got " +
                           qr::QuoteForMessage(code.mcc));
  }
  TS_RETURN_IF_ERROR(CheckText(Name(kName, scanned), code.name, kQrMerchantNameCharsMax));
  TS_RETURN_IF_ERROR(CheckText(Name(kCity, scanned), code.city, kQrMerchantCityCharsMax));
  if (!code.dynamic) {
    if (code.amount_fen != 0) {
      return InvalidArgument(Name(kAmount, scanned) +
                             ": a static code carries no amount (the payer enters it)");
    }
    if (!code.order_id.empty()) {
      return InvalidArgument(Name(kOrder, scanned) + ": a static code carries no order");
    }
    if (code.expires_unix_s != 0) {
      return InvalidArgument(Name(kExpiry, scanned) + ": a static code does not expire");
    }
    return Status::Ok();
  }
  if (code.amount_fen <= 0 || code.amount_fen > kQrAmountFenMax) {
    return InvalidArgument(Name(kAmount, scanned) + ": expected 1-" +
                           std::to_string(kQrAmountFenMax) + " fen, got " +
                           std::to_string(code.amount_fen));
  }
  TS_RETURN_IF_ERROR(CheckToken(Name(kOrder, scanned), code.order_id, kQrOrderIdBytesMax,
                                IsOrderChar, "of A-Z a-z 0-9 -"));
  if (code.expires_unix_s <= 0) {
    return InvalidArgument(Name(kExpiry, scanned) + ": expected unix seconds > 0");
  }
  return Status::Ok();
}

Status CheckKey(const crypto::SecretBytes& key) {
  if (key.size() < kMerchantQrKeyBytesMin) {
    return InvalidArgument("key: expected at least " + std::to_string(kMerchantQrKeyBytesMin) +
                           " bytes, got " + std::to_string(key.size()));
  }
  return Status::Ok();
}

Result<Bytes> Mac(const MerchantQr& code, const crypto::SecretBytes& key) {
  TS_ASSIGN_OR_RETURN(Bytes mac, crypto::HmacSha256(key, AsBytes(MerchantQrMacInput(code))));
  mac.resize(kMerchantQrMacHexDigits / 2);
  return mac;
}

// "26.00": yuan with two decimals (CNY's ISO 4217 exponent).
std::string YuanText(std::int64_t fen) {
  const std::int64_t cents = fen % 100;
  return std::to_string(fen / 100) + "." + (cents < 10 ? "0" : "") + std::to_string(cents);
}

// MPM §4.7.4 shapes for CNY: "98.73", "98.7", "98." and "98"; digits and at most one '.', at
// most 2 decimals, above zero.
Result<std::int64_t> ParseYuan(std::string_view text) {
  const auto bad = [&] {
    return InvalidArgument("id 54: expected a positive amount in yuan with at most 2 decimals "
                           "(\"26.00\"), got " + qr::QuoteForMessage(text));
  };
  if (text.empty() || text.size() > kAmountCharsMax) return bad();
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || fraction.size() > 2) return bad();
  for (const char c : whole) {
    if (!IsDigit(c)) return bad();
  }
  for (const char c : fraction) {
    if (!IsDigit(c)) return bad();
  }
  // At most 13 characters, so the value fits easily: no overflow check needed beyond that.
  std::int64_t fen = 0;
  for (const char c : whole) fen = fen * 10 + (c - '0');
  for (std::size_t i = 0; i < 2; ++i) {
    fen = fen * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  }
  if (fen <= 0 || fen > kQrAmountFenMax) return bad();
  return fen;
}

Result<std::int64_t> ParseExpiry(std::string_view text) {
  if (text.empty() || text.size() > kQrExpiryDigitsMax || !IsAllDigits(text)) {
    return InvalidArgument("id 80.01: expected the expiry in unix seconds (1-" +
                           std::to_string(kQrExpiryDigitsMax) + " digits), got " +
                           qr::QuoteForMessage(text));
  }
  std::int64_t value = 0;
  for (const char c : text) value = value * 10 + (c - '0');
  if (value <= 0) return InvalidArgument("id 80.01: expected the expiry in unix seconds > 0");
  return value;
}

const qr::MpmObject* FindOurAccount(const qr::MpmDecoded& decoded) {
  for (const qr::MpmObject& object : decoded.objects) {
    if (object.id.size() != 2 || !IsDigit(object.id[0]) || !IsDigit(object.id[1])) continue;
    const int id = (object.id[0] - '0') * 10 + (object.id[1] - '0');
    if (id < 26 || id > 51) continue;
    const qr::MpmObject* gui = object.Find(kSubGui);
    if (gui != nullptr && gui->value == kMerchantQrGui) return &object;
  }
  return nullptr;
}

std::string ValueOf(const qr::MpmObject* object) {
  return object != nullptr ? object->value : std::string();
}

}  // namespace

std::string MerchantQrMacInput(const MerchantQr& code) {
  const std::array<std::string, 9> fields = {
      std::string(code.dynamic ? kDynamic : kStatic),
      code.operator_id,
      code.merchant_id,
      code.mcc,
      code.name,
      code.city,
      code.dynamic ? std::to_string(code.amount_fen) : std::string(),
      code.order_id,
      code.dynamic ? std::to_string(code.expires_unix_s) : std::string()};
  std::string input(kMacDomain);
  for (const std::string& field : fields) {
    input += '|';
    input += std::to_string(field.size());
    input += ':';
    input += field;
  }
  return input;
}

std::string FitMerchantQrText(std::string_view text, std::size_t chars_max) {
  std::size_t advanced = 0;
  std::string out(text.substr(0, qr::Utf8Advance(text, 0, chars_max, advanced)));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

Result<std::string> EncodeMerchantQr(const MerchantQr& code, const crypto::SecretBytes& key) {
  TS_RETURN_IF_ERROR(CheckCode(code, /*scanned=*/false));
  TS_RETURN_IF_ERROR(CheckKey(key));
  TS_ASSIGN_OR_RETURN(const Bytes mac, Mac(code, key));
  using qr::MpmObject;
  const auto primitive = [](std::string_view id, std::string value) {
    return MpmObject::Primitive(std::string(id), std::move(value));
  };
  std::vector<MpmObject> objects;
  objects.push_back(primitive(kIdFormat, "01"));
  objects.push_back(primitive(kIdPointOfInitiation, std::string(code.dynamic ? kDynamic : kStatic)));
  objects.push_back(MpmObject::Template(std::string(kIdMerchantAccount),
                                        {primitive(kSubGui, std::string(kMerchantQrGui)),
                                         primitive(kSubOperator, code.operator_id),
                                         primitive(kSubMerchant, code.merchant_id)}));
  objects.push_back(primitive(kIdMcc, code.mcc));
  objects.push_back(primitive(kIdCurrency, std::string(kCnyNumeric)));
  if (code.dynamic) objects.push_back(primitive(kIdAmount, YuanText(code.amount_fen)));
  objects.push_back(primitive(kIdCountry, std::string(kCountryCn)));
  objects.push_back(primitive(kIdName, code.name));
  objects.push_back(primitive(kIdCity, code.city));
  if (code.dynamic) {
    objects.push_back(MpmObject::Template(std::string(kIdAdditionalData),
                                          {primitive(kSubBillNumber, code.order_id)}));
  }
  std::vector<MpmObject> ours = {primitive(kSubGui, std::string(kMerchantQrGui))};
  if (code.dynamic) ours.push_back(primitive(kSubExpiry, std::to_string(code.expires_unix_s)));
  ours.push_back(primitive(kSubMac, HexEncode(mac)));
  objects.push_back(MpmObject::Template(std::string(kIdTapstackData), std::move(ours)));
  return qr::EncodeMpm(objects);
}

Result<MerchantQr> ParseMerchantQr(std::string_view payload) {
  const qr::MpmDecoded decoded = qr::DecodeMpm(payload);
  TS_RETURN_IF_ERROR(decoded.status());
  const qr::MpmObject* account = FindOurAccount(decoded);
  if (account == nullptr) {
    return InvalidArgument("id 26: expected a template 26-51 with identifier \"" +
                           std::string(kMerchantQrGui) +
                           "\" (this is a merchant code of another scheme)");
  }
  MerchantQr code;
  const std::string initiation = ValueOf(decoded.Find(kIdPointOfInitiation));
  if (initiation != kStatic && initiation != kDynamic) {
    return InvalidArgument("id 01: expected \"11\" (static) or \"12\" (dynamic), got " +
                           qr::QuoteForMessage(initiation));
  }
  code.dynamic = initiation == kDynamic;
  code.operator_id = ValueOf(account->Find(kSubOperator));
  code.merchant_id = ValueOf(account->Find(kSubMerchant));
  code.mcc = ValueOf(decoded.Find(kIdMcc));
  code.name = ValueOf(decoded.Find(kIdName));
  code.city = ValueOf(decoded.Find(kIdCity));
  if (const std::string currency = ValueOf(decoded.Find(kIdCurrency)); currency != kCnyNumeric) {
    return InvalidArgument("id 53: expected \"156\" (CNY): e-CNY is paid in CNY only, got " +
                           qr::QuoteForMessage(currency));
  }
  if (const std::string country = ValueOf(decoded.Find(kIdCountry)); country != kCountryCn) {
    return InvalidArgument("id 58: expected \"CN\", got " + qr::QuoteForMessage(country));
  }

  const qr::MpmObject* amount = decoded.Find(kIdAmount);
  const qr::MpmObject* additional = decoded.Find(kIdAdditionalData);
  const qr::MpmObject* order = additional != nullptr ? additional->Find(kSubBillNumber) : nullptr;
  const qr::MpmObject* ours = decoded.Find(kIdTapstackData);
  if (ours == nullptr || ValueOf(ours->Find(kSubGui)) != kMerchantQrGui) {
    return InvalidArgument("id 80: expected a template with identifier \"" +
                           std::string(kMerchantQrGui) + "\" carrying the MAC");
  }
  const qr::MpmObject* expiry = ours->Find(kSubExpiry);
  if (code.dynamic) {
    if (amount == nullptr) return InvalidArgument("id 54: a dynamic code must carry the amount");
    TS_ASSIGN_OR_RETURN(code.amount_fen, ParseYuan(amount->value));
    if (order == nullptr) return InvalidArgument("id 62.01: a dynamic code must carry the order id");
    code.order_id = order->value;
    if (expiry == nullptr) return InvalidArgument("id 80.01: a dynamic code must carry its expiry");
    TS_ASSIGN_OR_RETURN(code.expires_unix_s, ParseExpiry(expiry->value));
  } else {
    if (amount != nullptr) {
      return InvalidArgument("id 54: a static code carries no amount (the payer enters it)");
    }
    if (order != nullptr) return InvalidArgument("id 62.01: a static code carries no order");
    if (expiry != nullptr) return InvalidArgument("id 80.01: a static code does not expire");
  }
  TS_RETURN_IF_ERROR(CheckCode(code, /*scanned=*/true));
  code.mac_hex = ValueOf(ours->Find(kSubMac));
  if (code.mac_hex.size() != kMerchantQrMacHexDigits || !HexDecode(code.mac_hex).ok()) {
    return InvalidArgument("id 80.02: expected the MAC, " +
                           std::to_string(kMerchantQrMacHexDigits) + " hex digits, got " +
                           qr::QuoteForMessage(code.mac_hex));
  }
  return code;
}

Status VerifyMerchantQr(const MerchantQr& code, const crypto::SecretBytes& key,
                        std::int64_t now_unix_s) {
  TS_RETURN_IF_ERROR(CheckKey(key));
  TS_ASSIGN_OR_RETURN(const Bytes expected, Mac(code, key));
  const Result<Bytes> printed = HexDecode(code.mac_hex);
  if (!printed.ok() || !crypto::ConstantTimeEquals(*printed, expected)) {
    return CryptoFailure("mac: the code was altered after it was issued (its MAC does not match)");
  }
  if (code.dynamic && now_unix_s >= code.expires_unix_s) {
    return FailedPrecondition("expires_unix_s: the code expired at " +
                              std::to_string(code.expires_unix_s) + ", now " +
                              std::to_string(now_unix_s));
  }
  return Status::Ok();
}

}  // namespace tapstack::dcep
