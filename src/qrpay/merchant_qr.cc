#include "qrpay/merchant_qr.h"

#include <array>
#include <charconv>
#include <vector>

#include "core/hex.h"
#include "crypto/mac.h"
#include "qr/mpm.h"
#include "qr/mpm_spec.h"
#include "qr/utf8.h"

namespace tapstack::qrpay {
namespace {

using namespace qr::mpm_ids;  // NOLINT(google-build-using-namespace): the MPM ids, by name

// The sub-ids of the layout in merchant_qr.h.
constexpr std::string_view kSubPlatform = "01";  // inside 26
constexpr std::string_view kSubMerchant = "02";  // inside 26
constexpr std::string_view kSubExpiry = "01";    // inside 80
constexpr std::string_view kSubMac = "02";       // inside 80
constexpr std::string_view kMacDomain = "tapstack-mpm-v1";
constexpr std::size_t kExpiryDigitsMax = 12;

bool IsLowerAlnumDash(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }
bool IsUpperAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsOrderChar(char c) {
  return IsUpperAlnum(c) || (c >= 'a' && c <= 'z') || c == '-';
}

template <typename Pred>
Status CheckToken(std::string_view field, std::string_view value, std::size_t max_bytes, Pred ok,
                  std::string_view expected) {
  if (value.empty() || value.size() > max_bytes) {
    return InvalidArgument(std::string(field) + ": expected 1-" + std::to_string(max_bytes) + " " +
                           std::string(expected) + ", got " + std::to_string(value.size()) +
                           " characters");
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!ok(value[i])) {
      return InvalidArgument(std::string(field) + ": expected " + std::string(expected) +
                             ", found " + qr::QuoteForMessage(value.substr(i, 1)) + " at offset " +
                             std::to_string(i));
    }
  }
  return Status::Ok();
}

Status CheckText(std::string_view field, std::string_view value, std::size_t max_chars) {
  if (qr::FindInvalidUtf8(value)) return InvalidArgument(std::string(field) + ": not valid UTF-8");
  const std::size_t chars = qr::Utf8CharCount(value);
  if (chars == 0 || chars > max_chars) {
    return InvalidArgument(std::string(field) + ": expected 1-" + std::to_string(max_chars) +
                           " characters, got " + std::to_string(chars));
  }
  return Status::Ok();
}

Status CheckProfile(const MerchantProfile& m) {
  TS_RETURN_IF_ERROR(CheckToken("platform_id", m.platform_id, kPlatformIdBytesMax,
                                IsLowerAlnumDash, "of a-z 0-9 -"));
  TS_RETURN_IF_ERROR(
      CheckToken("merchant_id", m.merchant_id, kMerchantIdBytesMax, IsUpperAlnum, "of A-Z 0-9"));
  TS_RETURN_IF_ERROR(CheckText("name", m.name, kMerchantNameCharsMax));
  TS_RETURN_IF_ERROR(CheckText("city", m.city, kMerchantCityCharsMax));
  if (!CountryByAlpha2(m.country).ok()) {
    return InvalidArgument("country: expected an ISO 3166-1 alpha-2 code tapstack knows, got " +
                           qr::QuoteForMessage(m.country));
  }
  if (m.currency == nullptr) return InvalidArgument("currency: required");
  if (m.mcc.size() != 4 || !IsAllDigits(m.mcc)) {
    return InvalidArgument("mcc: expected 4 digits (ISO 18245), got " + qr::QuoteForMessage(m.mcc));
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

std::string CurrencyDigits(const Currency& currency) {
  std::string digits = std::to_string(currency.numeric);
  return std::string(3 - std::min<std::size_t>(3, digits.size()), '0') + digits;
}

Result<std::string> MacHex(const ScannedMerchantQr& code, const crypto::SecretBytes& key) {
  const std::string input = MerchantQrMacInput(code);
  TS_ASSIGN_OR_RETURN(Bytes mac, crypto::HmacSha256(key, ByteView(reinterpret_cast<const std::uint8_t*>(input.data()), input.size())));
  return HexEncode(ByteView(mac.data(), kMerchantQrMacHexDigits / 2));
}

Result<std::string> Encode(const ScannedMerchantQr& code, const crypto::SecretBytes& key) {
  TS_RETURN_IF_ERROR(CheckKey(key));
  TS_ASSIGN_OR_RETURN(std::string mac, MacHex(code, key));
  const MerchantProfile& m = code.merchant;
  using qr::MpmObject;
  std::vector<MpmObject> objects;
  objects.push_back(MpmObject::Primitive("00", "01"));
  objects.push_back(
      MpmObject::Primitive(std::string(kIdPointOfInitiation), std::string(code.dynamic ? kDynamic : kStatic)));
  objects.push_back(MpmObject::Template(
      std::string(kIdMerchantAccount),
      {MpmObject::Primitive(std::string(kSubGui), std::string(kMerchantQrGui)),
       MpmObject::Primitive(std::string(kSubPlatform), m.platform_id),
       MpmObject::Primitive(std::string(kSubMerchant), m.merchant_id)}));
  objects.push_back(MpmObject::Primitive(std::string(kIdMcc), m.mcc));
  objects.push_back(MpmObject::Primitive(std::string(kIdCurrency), CurrencyDigits(*m.currency)));
  if (code.amount) {
    objects.push_back(MpmObject::Primitive(std::string(kIdAmount), code.amount->ToDecimalString()));
  }
  objects.push_back(MpmObject::Primitive(std::string(kIdCountry), m.country));
  objects.push_back(MpmObject::Primitive(std::string(kIdName), m.name));
  objects.push_back(MpmObject::Primitive(std::string(kIdCity), m.city));
  if (code.dynamic) {
    objects.push_back(MpmObject::Template(
        std::string(kIdAdditionalData),
        {MpmObject::Primitive(std::string(kSubBillNumber), code.order_id)}));
  }
  std::vector<MpmObject> tapstack = {
      MpmObject::Primitive(std::string(kSubGui), std::string(kMerchantQrGui))};
  if (code.dynamic) {
    tapstack.push_back(
        MpmObject::Primitive(std::string(kSubExpiry), std::to_string(code.expires_unix_s)));
  }
  tapstack.push_back(MpmObject::Primitive(std::string(kSubMac), mac));
  objects.push_back(MpmObject::Template(std::string(kIdTapstackData), std::move(tapstack)));
  return qr::EncodeMpm(objects);
}

const qr::MpmObject* FindTapstackAccount(const qr::MpmDecoded& decoded) {
  for (const qr::MpmObject& object : decoded.objects) {
    const int id = (object.id[0] - '0') * 10 + (object.id[1] - '0');
    if (id < 26 || id > 51) continue;
    const qr::MpmObject* gui = object.Find(kSubGui);
    if (gui != nullptr && gui->value == kMerchantQrGui) return &object;
  }
  return nullptr;
}

Result<std::int64_t> ParseUnixSeconds(std::string_view field, std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.size() > kExpiryDigitsMax || !IsAllDigits(text) || ec != std::errc() ||
      end != text.data() + text.size() || value <= 0) {
    return InvalidArgument(std::string(field) + ": expected unix seconds (1-12 digits), got " +
                           qr::QuoteForMessage(text));
  }
  return value;
}

}  // namespace

std::string MerchantQrMacInput(const ScannedMerchantQr& code) {
  const MerchantProfile& m = code.merchant;
  const std::array<std::string, 12> fields = {
      std::string(kMacDomain),
      std::string(code.dynamic ? kDynamic : kStatic),
      m.platform_id,
      m.merchant_id,
      m.name,
      m.city,
      m.country,
      m.currency != nullptr ? CurrencyDigits(*m.currency) : std::string(),
      m.mcc,
      code.amount ? std::to_string(code.amount->minor_units()) : std::string(),
      code.order_id,
      code.dynamic ? std::to_string(code.expires_unix_s) : std::string()};
  std::string input;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) input.push_back('\x1F');
    input += fields[i];
  }
  return input;
}

Result<std::string> MakeStaticMerchantQr(const MerchantProfile& merchant,
                                         const crypto::SecretBytes& key) {
  TS_RETURN_IF_ERROR(CheckProfile(merchant));
  ScannedMerchantQr code;
  code.merchant = merchant;
  return Encode(code, key);
}

Result<std::string> MakeDynamicMerchantQr(const MerchantProfile& merchant, const DynamicOrder& order,
                                          const crypto::SecretBytes& key) {
  TS_RETURN_IF_ERROR(CheckProfile(merchant));
  TS_RETURN_IF_ERROR(
      CheckToken("order_id", order.order_id, kOrderIdBytesMax, IsOrderChar, "of A-Z a-z 0-9 -"));
  if (!(order.amount.currency() == *merchant.currency)) {
    return InvalidArgument("amount: expected the merchant's currency " +
                           std::string(merchant.currency->alpha) + ", got " +
                           std::string(order.amount.currency().alpha));
  }
  if (order.amount.minor_units() <= 0) {
    return InvalidArgument("amount: expected more than zero, got " + order.amount.ToString());
  }
  if (order.expires_unix_s <= 0) return InvalidArgument("expires_unix_s: expected > 0");
  ScannedMerchantQr code;
  code.dynamic = true;
  code.merchant = merchant;
  code.amount = order.amount;
  code.order_id = order.order_id;
  code.expires_unix_s = order.expires_unix_s;
  return Encode(code, key);
}

Result<ScannedMerchantQr> ReadMerchantQr(std::string_view payload) {
  const qr::MpmDecoded decoded = qr::DecodeMpm(payload);
  TS_RETURN_IF_ERROR(decoded.status());
  const qr::MpmObject* account = FindTapstackAccount(decoded);
  if (account == nullptr) {
    return InvalidArgument(
        "merchant account: no template 26-51 with identifier \"" + std::string(kMerchantQrGui) +
        "\": a merchant code of another scheme");
  }
  auto value_of = [](const qr::MpmObject* object) {
    return object != nullptr ? object->value : std::string();
  };
  ScannedMerchantQr code;
  const std::string initiation = value_of(decoded.Find(kIdPointOfInitiation));
  if (initiation != kStatic && initiation != kDynamic) {
    return InvalidArgument("id 01: expected \"11\" (static) or \"12\" (dynamic) point of initiation");
  }
  code.dynamic = initiation == kDynamic;
  MerchantProfile& m = code.merchant;
  m.platform_id = value_of(account->Find(kSubPlatform));
  m.merchant_id = value_of(account->Find(kSubMerchant));
  m.mcc = value_of(decoded.Find(kIdMcc));
  m.country = value_of(decoded.Find(kIdCountry));
  m.name = value_of(decoded.Find(kIdName));
  m.city = value_of(decoded.Find(kIdCity));
  const std::string currency_digits = value_of(decoded.Find(kIdCurrency));
  std::uint16_t numeric = 0;
  std::from_chars(currency_digits.data(), currency_digits.data() + currency_digits.size(), numeric);
  auto currency = CurrencyByNumeric(numeric);
  if (!currency.ok()) {
    return InvalidArgument("id 53: currency " + currency_digits + " is not one tapstack settles in");
  }
  m.currency = *currency;
  TS_RETURN_IF_ERROR(CheckProfile(m));

  const qr::MpmObject* tapstack = nullptr;
  if (const qr::MpmObject* t = decoded.Find(kIdTapstackData);
      t != nullptr && value_of(t->Find(kSubGui)) == kMerchantQrGui) {
    tapstack = t;
  }
  code.mac_hex = tapstack != nullptr ? value_of(tapstack->Find(kSubMac)) : std::string();
  if (code.mac_hex.size() != kMerchantQrMacHexDigits || !HexDecode(code.mac_hex).ok()) {
    return InvalidArgument("id 80.02: expected the tapstack MAC, " +
                           std::to_string(kMerchantQrMacHexDigits) + " hex digits");
  }
  const qr::MpmObject* amount = decoded.Find(kIdAmount);
  if (!code.dynamic) {
    if (amount != nullptr) {
      return InvalidArgument("id 54: a static code carries no amount (the payer enters it)");
    }
    return code;
  }
  if (amount == nullptr) return InvalidArgument("id 54: a dynamic code must carry the amount");
  TS_ASSIGN_OR_RETURN(Amount parsed, Amount::Parse(amount->value, *m.currency));
  if (parsed.minor_units() <= 0) return InvalidArgument("id 54: expected an amount above zero");
  code.amount = parsed;
  const qr::MpmObject* additional = decoded.Find(kIdAdditionalData);
  code.order_id = additional != nullptr ? value_of(additional->Find(kSubBillNumber)) : std::string();
  if (Status s = CheckToken("id 62.01 order id", code.order_id, kOrderIdBytesMax, IsOrderChar,
                            "of A-Z a-z 0-9 -");
      !s.ok()) {
    return s;
  }
  TS_ASSIGN_OR_RETURN(code.expires_unix_s,
                      ParseUnixSeconds("id 80.01 expiry", value_of(tapstack->Find(kSubExpiry))));
  return code;
}

Status VerifyMerchantQr(const ScannedMerchantQr& code, const crypto::SecretBytes& key,
                        std::int64_t now_unix_s) {
  TS_RETURN_IF_ERROR(CheckKey(key));
  TS_ASSIGN_OR_RETURN(std::string expected, MacHex(code, key));
  TS_ASSIGN_OR_RETURN(Bytes expected_bytes, HexDecode(expected));
  auto printed = HexDecode(code.mac_hex);
  if (!printed.ok() || !crypto::ConstantTimeEquals(*printed, expected_bytes)) {
    return CryptoFailure(
        "mac: the code was altered after it was issued (its MAC does not match)");
  }
  if (code.dynamic && now_unix_s >= code.expires_unix_s) {
    return FailedPrecondition("expiry: the code expired at " + std::to_string(code.expires_unix_s) +
                              ", now " + std::to_string(now_unix_s));
  }
  return Status::Ok();
}

}  // namespace tapstack::qrpay
