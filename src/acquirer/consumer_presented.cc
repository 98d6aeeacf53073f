#include "acquirer/consumer_presented.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <utility>

#include "core/hex.h"
#include "core/pan.h"
#include "crypto/csprng.h"
#include "emv/contactless_commands.h"
#include "emv/tlv.h"
#include "qr/cpm.h"

namespace tapstack::acquirer {

namespace {

constexpr std::uint64_t kN12Max = 999'999'999'999;
constexpr std::size_t kTokenDigitsMin = 13;  // emv-and-tokenization.md section 2: 13-19 digits
constexpr std::size_t kTokenDigitsMax = 19;
constexpr std::int64_t kMillisPerSecond = 1000;

// Tags of the payload (CPM v1.0 Table 3/4; EMV Book 3 Annex A).
constexpr std::uint32_t kTagPayloadFormat = 0x85;
constexpr std::uint32_t kTagApplicationTemplate = 0x61;
constexpr std::uint32_t kTagCommonDataTemplate = 0x62;
constexpr std::uint32_t kTagTransparentTemplate = 0x63;
constexpr std::uint32_t kTagAdfName = 0x4F;
constexpr std::uint32_t kTagLabel = 0x50;
constexpr std::uint32_t kTagTrack2 = 0x57;
constexpr std::uint32_t kTagPsn = 0x5F34;
constexpr std::uint32_t kTagPanLast4 = 0x9F25;
constexpr std::uint32_t kTagDfName = 0x84;
constexpr std::uint32_t kTagTransactionDate = 0x9A;    // n6 YYMMDD
constexpr std::uint32_t kTagTransactionTime = 0x9F21;  // n6 HHMMSS
constexpr std::string_view kPayloadFormatCpv01 = "CPV01";

// The phone is the "terminal" that ran the kernel, as for an in-app payment (in_app_payment.cc):
// 9F35 "34" unattended, online only, cardholder-operated; 9F33 no card data input, "no CVM
// required" (CDCVM on the phone), CDA.
constexpr std::uint8_t kPhoneTerminalType = 0x34;
constexpr std::array<std::uint8_t, 3> kPhoneTerminalCapabilities = {0x00, 0x08, 0x08};

// Gives the kernel one fixed wall-clock reading, so 9A (which the kernel writes) and 9F21 (which
// this file writes) come from the same instant even across midnight.
class FrozenClock final : public Clock {
 public:
  FrozenClock(const Clock& base, std::int64_t unix_millis)
      : base_(base), unix_millis_(unix_millis) {}
  std::int64_t NowUnixMillis() const override { return unix_millis_; }
  std::int64_t MonotonicNanos() const override { return base_.MonotonicNanos(); }

 private:
  const Clock& base_;
  std::int64_t unix_millis_;
};

bool IsPrintable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= ' ' && c <= '~'; });
}

Status CheckAmount(const Amount& amount) {
  if (amount.minor_units() <= 0 || static_cast<std::uint64_t>(amount.minor_units()) > kN12Max) {
    return InvalidArgument("amount: expected 1.." + std::to_string(kN12Max) +
                           " minor units (DE4 is n12), got " +
                           std::to_string(amount.minor_units()));
  }
  return Status::Ok();
}

// UTC civil time of `unix_millis` as (YYMMDD, HHMMSS) digit strings.
std::pair<std::string, std::string> UtcDigits(std::int64_t unix_millis) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(unix_millis)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{floor<seconds>(t - day)};
  auto two = [](long v) {
    std::string s = std::to_string(v % 100);
    return s.size() == 1 ? "0" + s : s;
  };
  return {two(static_cast<int>(ymd.year())) + two(static_cast<unsigned>(ymd.month())) +
              two(static_cast<unsigned>(ymd.day())),
          two(hms.hours().count()) + two(hms.minutes().count()) + two(hms.seconds().count())};
}

// Unix millis of 9A (YYMMDD, years 2000-2099) and 9F21 (HHMMSS), UTC; nullopt when not a time.
std::optional<std::int64_t> UnixMillisOf(std::string_view yymmdd, std::string_view hhmmss) {
  using namespace std::chrono;
  if (yymmdd.size() != 6 || hhmmss.size() != 6 || !IsAllDigits(yymmdd) || !IsAllDigits(hhmmss)) {
    return std::nullopt;
  }
  auto num = [](std::string_view s) { return (s[0] - '0') * 10 + (s[1] - '0'); };
  const year_month_day ymd{year(2000 + num(yymmdd.substr(0, 2))),
                           month(static_cast<unsigned>(num(yymmdd.substr(2, 2)))),
                           day(static_cast<unsigned>(num(yymmdd.substr(4, 2))))};
  const int h = num(hhmmss.substr(0, 2));
  const int m = num(hhmmss.substr(2, 2));
  const int s = num(hhmmss.substr(4, 2));
  if (!ymd.ok() || h > 23 || m > 59 || s > 59) return std::nullopt;
  const sys_seconds t = sys_days(ymd) + hours(h) + minutes(m) + seconds(s);
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

std::string Path(const qr::CpmObject& object) { return "61." + object.tag_hex(); }

// The one value of `tag` in template 63, of `length` bytes (any length when 0).
Result<ByteView> TransparentValue(const qr::CpmObject& transparent, std::uint32_t tag,
                                  std::string_view name, std::size_t length) {
  const qr::CpmObject* object = transparent.Find(tag);
  const std::string what = "code 61.63." + emv::TlvTagHex(tag) + " (" + std::string(name) + ")";
  if (object == nullptr) return InvalidArgument(what + ": missing");
  if (object->constructed()) return InvalidArgument(what + ": expected a primitive object");
  if (length != 0 && object->value.size() != length) {
    return InvalidArgument(what + ": expected " + std::to_string(length) + " bytes, got " +
                           std::to_string(object->value.size()));
  }
  if (length == 0 && object->value.empty()) return InvalidArgument(what + ": empty");
  return ByteView(object->value);
}

Result<std::string> BcdDigits(ByteView value, std::uint32_t tag, std::string_view name) {
  Result<std::string> digits = BcdDecode(value);
  if (!digits.ok() || !IsAllDigits(*digits)) {
    return InvalidArgument("code 61.63." + emv::TlvTagHex(tag) + " (" + std::string(name) +
                           "): expected BCD digits, got " + HexEncode(value));
  }
  return digits;
}

// The first 61 whose 4F is accepted (exact, or longer with an accepted AID as prefix).
const qr::CpmObject* AcceptedApplication(const qr::CpmDecoded& decoded,
                                         const std::vector<Bytes>& accepted) {
  for (const qr::CpmObject& object : decoded.objects) {
    if (object.tag != kTagApplicationTemplate) continue;
    const qr::CpmObject* aid = object.Find(kTagAdfName);
    if (aid == nullptr) continue;
    const bool ok = std::any_of(accepted.begin(), accepted.end(), [&](const Bytes& prefix) {
      return aid->value.size() >= prefix.size() &&
             std::equal(prefix.begin(), prefix.end(), aid->value.begin());
    });
    if (ok) return &object;
  }
  return nullptr;
}

}  // namespace

Result<std::string> MakeConsumerPresentedCode(ApduTransport secure_element, const Clock& clock,
                                              const ConsumerCodeOptions& options) {
  if (options.currency == nullptr || options.currency->numeric == 0 ||
      options.currency->numeric > 999) {
    return InvalidArgument("options.currency: expected an ISO 4217 currency (5F2A)");
  }
  if (options.country_numeric == 0 || options.country_numeric > 999) {
    return InvalidArgument("options.country_numeric: expected an ISO 3166-1 numeric code 1-999");
  }
  if (!options.application_label.empty() &&
      (options.application_label.size() > kConsumerCodeLabelBytesMax ||
       !IsPrintable(options.application_label))) {
    return InvalidArgument("options.application_label: expected 1-" +
                           std::to_string(kConsumerCodeLabelBytesMax) +
                           " printable ASCII characters (50)");
  }
  if (!options.pan_last4.empty() &&
      (options.pan_last4.size() != 4 || !IsAllDigits(options.pan_last4))) {
    return InvalidArgument("options.pan_last4: expected 4 digits (9F25)");
  }

  const std::int64_t now = clock.NowUnixMillis();
  const FrozenClock frozen(clock, now);
  crypto::Csprng csprng;
  RandomSource& random = options.random != nullptr ? *options.random : csprng;

  ContactlessTerminalData data;
  data.amount_authorised_minor = 0;  // unknown to the phone: the TSP lets DE4 be authorised
  data.currency_numeric = options.currency->numeric;
  data.country_numeric = options.country_numeric;
  data.terminal_type = kPhoneTerminalType;
  data.terminal_capabilities = kPhoneTerminalCapabilities;
  ContactlessKernel kernel(std::move(secure_element), random, frozen, options.kernel);
  TS_ASSIGN_OR_RETURN(const ContactlessResult result, kernel.Run(data));
  if (result.outcome != KernelOutcome::kOnlineRequest) {
    return FailedPrecondition(
        "the card declined offline (AAC): the user has not passed the biometric check, or the "
        "token cannot pay");
  }

  // 63: the kernel's DE55 objects in their order, then the generation time of day.
  TS_ASSIGN_OR_RETURN(const emv::TlvTree icc, emv::DecodeTlv(ByteView(result.icc_data)));
  std::vector<qr::CpmObject> transparent;
  for (const emv::TlvNode& node : icc.roots()) {
    transparent.push_back(
        qr::CpmObject::Primitive(node.tag, Bytes(node.value.begin(), node.value.end())));
  }
  const auto [yymmdd, hhmmss] = UtcDigits(now);
  TS_ASSIGN_OR_RETURN(Bytes time, BcdEncodeFixed(hhmmss, 3));
  transparent.push_back(qr::CpmObject::Primitive(kTagTransactionTime, std::move(time)));

  std::vector<qr::CpmObject> application;
  application.push_back(qr::CpmObject::Primitive(kTagAdfName, result.aid));
  if (!options.application_label.empty()) {
    application.push_back(qr::CpmObject::Text(kTagLabel, options.application_label));
  }
  application.push_back(qr::CpmObject::Primitive(kTagTrack2, result.track2_equivalent));
  if (const std::optional<ByteView> psn = result.card_data.Get(kTagPsn); psn.has_value()) {
    application.push_back(qr::CpmObject::Primitive(kTagPsn, Bytes(psn->begin(), psn->end())));
  }
  if (!options.pan_last4.empty()) {
    TS_ASSIGN_OR_RETURN(Bytes last4, BcdEncodeFixed(options.pan_last4, 2));
    application.push_back(qr::CpmObject::Primitive(kTagPanLast4, std::move(last4)));
  }
  application.push_back(qr::CpmObject::Template(kTagTransparentTemplate, std::move(transparent)));

  const std::array<qr::CpmObject, 2> payload = {
      qr::CpmObject::Text(kTagPayloadFormat, kPayloadFormatCpv01),
      qr::CpmObject::Template(kTagApplicationTemplate, std::move(application)),
  };
  return qr::EncodeCpm(payload);
}

Result<Purchase> ConsumerPresentedPurchase(std::string_view text, const Amount& amount,
                                           std::int64_t now_unix_millis,
                                           const ConsumerScanOptions& options) {
  TS_RETURN_IF_ERROR(CheckAmount(amount));
  if (text.substr(0, qr::kCpmBase64Prefix.size()) != qr::kCpmBase64Prefix) {
    return InvalidArgument(
        "code: expected the consumer-presented prefix \"hQVDUFY\" (85 05 \"CPV\" in base64)");
  }
  const qr::CpmDecoded decoded = qr::DecodeCpm(text);
  if (!decoded.valid()) return InvalidArgument("code: " + decoded.status().message());

  const qr::CpmObject* app = AcceptedApplication(decoded, options.accepted_aids);
  if (app == nullptr) {
    return InvalidArgument("code 61.4F: no application template with an AID this merchant accepts");
  }
  const qr::CpmObject* aid = app->Find(kTagAdfName);

  // 57: the token (never quoted in messages), "D", YYMM, service code, discretionary data.
  const qr::CpmObject* track2 = app->Find(kTagTrack2);
  if (track2 == nullptr) {
    if (const qr::CpmObject* common = decoded.Find(kTagCommonDataTemplate)) {
      track2 = common->Find(kTagTrack2);
    }
  }
  if (track2 == nullptr) return InvalidArgument("code 61.57 (track 2 equivalent): missing");
  const std::string t2 = HexEncode(track2->value);
  const std::size_t separator = t2.find('D');
  if (separator == std::string::npos || separator < kTokenDigitsMin ||
      separator > kTokenDigitsMax || !IsAllDigits(t2.substr(0, separator)) ||
      !LuhnValid(t2.substr(0, separator))) {
    return InvalidArgument(
        "code 61.57 (track 2 equivalent): expected a 13-19 digit token with a valid Luhn digit "
        "before the separator D");
  }
  const std::string token = t2.substr(0, separator);
  const std::string expiry = t2.substr(separator + 1, 4);
  if (expiry.size() != 4 || !IsAllDigits(expiry) || expiry.substr(2) < "01" ||
      expiry.substr(2) > "12") {
    return InvalidArgument("code 61.57 (track 2 equivalent): expected YYMM after the separator D");
  }
  std::string psn;
  if (const qr::CpmObject* p = app->Find(kTagPsn)) {
    Result<std::string> digits = BcdDecode(p->value);
    if (p->value.size() != 1 || !digits.ok() || !IsAllDigits(*digits)) {
      return InvalidArgument("code " + Path(*p) +
                             " (PAN sequence number): expected one byte of two BCD digits");
    }
    psn = *digits;
  }

  // 63: the cryptogram data, each tag once (the TSP and the issuer must read what is read here).
  const qr::CpmObject* transparent = app->Find(kTagTransparentTemplate);
  if (transparent == nullptr || transparent->children.empty()) {
    return InvalidArgument(
        "code 61.63 (application specific transparent template): missing or empty; it carries "
        "the cryptogram");
  }
  std::set<std::uint32_t> seen;
  for (const qr::CpmObject& child : transparent->children) {
    if (!seen.insert(child.tag).second) {
      return InvalidArgument("code 61.63." + child.tag_hex() + ": appears twice");
    }
    if (child.constructed()) {
      return InvalidArgument("code 61.63." + child.tag_hex() +
                             ": expected primitive objects only (they become DE55)");
    }
  }
  TS_RETURN_IF_ERROR(TransparentValue(*transparent, 0x9F26, "application cryptogram", 8).status());
  TS_RETURN_IF_ERROR(TransparentValue(*transparent, 0x9F36, "ATC", 2).status());
  TS_RETURN_IF_ERROR(TransparentValue(*transparent, 0x9F10, "issuer application data", 0).status());
  TS_RETURN_IF_ERROR(TransparentValue(*transparent, 0x9F37, "unpredictable number", 4).status());
  TS_ASSIGN_OR_RETURN(const ByteView cid,
                      TransparentValue(*transparent, 0x9F27, "cryptogram information", 1));
  if (emv::CryptogramTypeFromCid(cid[0]) != emv::CryptogramType::kArqc) {
    return InvalidArgument("code 61.63.9F27 (cryptogram information): " + HexEncode(cid) +
                           ", expected an ARQC (type bits 10)");
  }
  if (const qr::CpmObject* df_name = transparent->Find(kTagDfName);
      df_name != nullptr && df_name->value != aid->value) {
    return InvalidArgument("code 61.63.84 (DF name): " + HexEncode(df_name->value) +
                           ", expected the template's 4F " + HexEncode(aid->value));
  }
  TS_ASSIGN_OR_RETURN(const ByteView amount_bcd,
                      TransparentValue(*transparent, 0x9F02, "amount authorised", 6));
  TS_ASSIGN_OR_RETURN(const std::string amount_digits,
                      BcdDigits(amount_bcd, 0x9F02, "amount authorised"));
  const std::uint64_t code_amount = std::stoull(amount_digits);
  if (code_amount != 0 && code_amount != static_cast<std::uint64_t>(amount.minor_units())) {
    return InvalidArgument("code 61.63.9F02 (amount authorised): " + amount_digits +
                           ", expected 0 (amount unknown to the phone) or the sale's " +
                           std::to_string(amount.minor_units()));
  }
  TS_ASSIGN_OR_RETURN(const ByteView currency_bcd,
                      TransparentValue(*transparent, 0x5F2A, "transaction currency", 2));
  TS_ASSIGN_OR_RETURN(const std::string currency_digits,
                      BcdDigits(currency_bcd, 0x5F2A, "transaction currency"));
  if (std::stoul(currency_digits) != amount.currency().numeric) {
    return InvalidArgument("code 61.63.5F2A (transaction currency): " + currency_digits +
                           ", expected the sale's currency " +
                           std::string(amount.currency().alpha) + " (" +
                           std::to_string(amount.currency().numeric) + ")");
  }

  // Generation time: 9A (covered by the ARQC) and 9F21 (not covered; see the header).
  TS_ASSIGN_OR_RETURN(const ByteView date_bcd,
                      TransparentValue(*transparent, kTagTransactionDate, "transaction date", 3));
  TS_ASSIGN_OR_RETURN(const ByteView time_bcd,
                      TransparentValue(*transparent, kTagTransactionTime, "transaction time", 3));
  TS_ASSIGN_OR_RETURN(const std::string date,
                      BcdDigits(date_bcd, kTagTransactionDate, "transaction date"));
  TS_ASSIGN_OR_RETURN(const std::string time,
                      BcdDigits(time_bcd, kTagTransactionTime, "transaction time"));
  const std::optional<std::int64_t> made = UnixMillisOf(date, time);
  if (!made.has_value()) {
    return InvalidArgument("code 61.63.9A/9F21 (generation date and time): " + date + " " + time +
                           " is not a valid YYMMDD HHMMSS");
  }
  const std::int64_t age_millis = now_unix_millis - *made;
  if (age_millis > options.validity_seconds * kMillisPerSecond) {
    return FailedPrecondition(
        "code 61.63.9A/9F21 (generation time): made " +
        std::to_string(age_millis / kMillisPerSecond) + " s ago; a code is valid for " +
        std::to_string(options.validity_seconds) + " s: ask the customer to refresh it");
  }
  if (-age_millis > options.clock_skew_seconds * kMillisPerSecond) {
    return FailedPrecondition(
        "code 61.63.9A/9F21 (generation time): " + std::to_string(-age_millis / kMillisPerSecond) +
        " s ahead of the scanner's clock; at most " + std::to_string(options.clock_skew_seconds) +
        " s allowed");
  }

  // DE55: template 63's objects in their order.
  Bytes icc;
  for (const qr::CpmObject& child : transparent->children) {
    TS_RETURN_IF_ERROR(emv::AppendTlv(icc, child.tag, child.value));
  }
  if (icc.size() > kConsumerCodeIccDataBytesMax) {
    return InvalidArgument("code 61.63: " + std::to_string(icc.size()) +
                           " bytes of cryptogram data; DE55 holds at most " +
                           std::to_string(kConsumerCodeIccDataBytesMax));
  }

  Purchase purchase;
  purchase.pan = token;
  purchase.expiry = expiry;
  purchase.amount = amount;
  purchase.entry = EntryMode::kConsumerQr;
  purchase.icc_data.assign(icc.begin(), icc.end());
  if (!psn.empty()) purchase.card_sequence_number = "0" + psn;
  return purchase;
}

}  // namespace tapstack::acquirer
