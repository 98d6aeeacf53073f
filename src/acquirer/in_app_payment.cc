#include "acquirer/in_app_payment.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <utility>

#include "core/hex.h"
#include "core/pan.h"
#include "emv/contactless_commands.h"
#include "emv/tlv.h"
#include "iso8583/token_data.h"

namespace tapstack::acquirer {

namespace {

using nlohmann::json;

constexpr std::uint64_t kN12Max = 999'999'999'999;
constexpr std::size_t kTokenDigitsMin = 13;  // emv-and-tokenization.md section 2: 13-19 digits
constexpr std::size_t kTokenDigitsMax = 19;
constexpr std::size_t kRequestorIdDigits = 11;
// Book 4 Annex A1: 9F35 "34" = unattended, online only, operated by the cardholder (the phone is
// the terminal). 9F33: no card data input, "no CVM required" (the device verified the user,
// CDCVM), CDA.
constexpr std::uint8_t kInAppTerminalType = 0x34;
constexpr std::array<std::uint8_t, 3> kInAppTerminalCapabilities = {0x00, 0x08, 0x08};

// Yields the merchant's unpredictable number to the kernel, once: an in-app kernel must send the
// number the merchant chose for the order, never one of its own.
class MerchantUnpredictableNumber final : public RandomSource {
 public:
  explicit MerchantUnpredictableNumber(Bytes number) : number_(std::move(number)) {}
  Status Fill(std::span<std::uint8_t> out) override {
    if (used_ || out.size() != number_.size()) {
      std::fill(out.begin(), out.end(), std::uint8_t{0});
      return Internal("in-app kernel asked for a second or other-sized unpredictable number");
    }
    std::copy(number_.begin(), number_.end(), out.begin());
    used_ = true;
    return Status::Ok();
  }

 private:
  Bytes number_;
  bool used_ = false;
};

bool IsPrintableNoSpace(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c <= '~'; });
}

bool IsPrintable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= ' ' && c <= '~'; });
}

Result<Bytes> ParseUnpredictableNumber(std::string_view hex, std::string_view field) {
  Result<Bytes> bytes = HexDecode(hex);
  if (!bytes.ok() || bytes->size() != kInAppUnpredictableNumberBytes) {
    return InvalidArgument(std::string(field) + ": expected 8 hex digits (9F37, 4 bytes)");
  }
  return bytes;
}

Status CheckDeviceId(std::string_view device_id, std::string_view field) {
  if (device_id.empty() || device_id.size() > kInAppDeviceIdBytesMax ||
      !IsPrintableNoSpace(device_id)) {
    return InvalidArgument(std::string(field) + ": expected 1-" +
                           std::to_string(kInAppDeviceIdBytesMax) +
                           " printable ASCII characters without spaces");
  }
  return Status::Ok();
}

Status CheckRequestorId(std::string_view requestor_id, std::string_view field) {
  if (requestor_id.size() != kRequestorIdDigits || !IsAllDigits(requestor_id)) {
    return InvalidArgument(std::string(field) + ": expected 11 digits (token requestor id)");
  }
  return Status::Ok();
}

Status CheckAmount(const Amount& amount, std::string_view field) {
  if (amount.minor_units() <= 0 || static_cast<std::uint64_t>(amount.minor_units()) > kN12Max) {
    return InvalidArgument(std::string(field) + ": expected 1.." + std::to_string(kN12Max) +
                           " minor units (9F02 is n12), got " +
                           std::to_string(amount.minor_units()));
  }
  return Status::Ok();
}

// The string member `name` of `data`; an empty view when it is absent and optional.
Result<std::string_view> StringMember(const json& data, const char* name, bool required) {
  const auto it = data.find(name);
  if (it == data.end()) {
    if (required) return InvalidArgument(std::string("payment_data.") + name + ": missing");
    return std::string_view();
  }
  if (!it->is_string()) {
    return InvalidArgument(std::string("payment_data.") + name + ": expected a string");
  }
  return std::string_view(it->get_ref<const std::string&>());
}

// The value of `tag` in DE55, of exactly `length` bytes.
Result<ByteView> IccValue(const emv::TlvTree& tree, emv::TlvTag tag, std::string_view name,
                          std::size_t length) {
  const emv::TlvNode* node = tree.FindRoot(tag);
  const std::string what =
      "payment_data.emv_data " + emv::TlvTagHex(tag) + " (" + std::string(name) + ")";
  if (node == nullptr) return InvalidArgument(what + ": missing");
  if (node->value.size() != length) {
    return InvalidArgument(what + ": expected " + std::to_string(length) + " bytes, got " +
                           std::to_string(node->value.size()));
  }
  return node->value;
}

Status ExpectIccValue(const emv::TlvTree& tree, emv::TlvTag tag, std::string_view name,
                      ByteView expected, std::string_view expected_what) {
  TS_ASSIGN_OR_RETURN(const ByteView value, IccValue(tree, tag, name, expected.size()));
  if (!std::equal(value.begin(), value.end(), expected.begin(), expected.end())) {
    return InvalidArgument("payment_data.emv_data " + emv::TlvTagHex(tag) + " (" +
                           std::string(name) + "): " + HexEncode(value) + ", expected " +
                           HexEncode(expected) + " (" + std::string(expected_what) + ")");
  }
  return Status::Ok();
}

}  // namespace

Result<nlohmann::json> MakeInAppPayment(ApduTransport secure_element, const Clock& clock,
                                        const InAppOrder& order) {
  if (order.merchant_name.empty() || order.merchant_name.size() > kInAppMerchantNameBytesMax ||
      !IsPrintable(order.merchant_name)) {
    return InvalidArgument("order.merchant_name: expected 1-" +
                           std::to_string(kInAppMerchantNameBytesMax) + " printable characters");
  }
  TS_RETURN_IF_ERROR(CheckAmount(order.amount, "order.amount"));
  if (order.country_numeric == 0 || order.country_numeric > 999) {
    return InvalidArgument("order.country_numeric: expected an ISO 3166-1 numeric code 1-999");
  }
  TS_ASSIGN_OR_RETURN(Bytes number, ParseUnpredictableNumber(order.unpredictable_number_hex,
                                                             "order.unpredictable_number_hex"));
  TS_RETURN_IF_ERROR(CheckDeviceId(order.device_id, "order.device_id"));
  if (!order.requestor_id.empty()) {
    TS_RETURN_IF_ERROR(CheckRequestorId(order.requestor_id, "order.requestor_id"));
  }

  ContactlessTerminalData data;
  data.amount_authorised_minor = static_cast<std::uint64_t>(order.amount.minor_units());
  data.currency_numeric = order.amount.currency().numeric;
  data.country_numeric = order.country_numeric;
  data.terminal_type = kInAppTerminalType;
  data.terminal_capabilities = kInAppTerminalCapabilities;
  MerchantUnpredictableNumber merchant_number(number);
  ContactlessKernelOptions kernel_options;
  if (!order.aid.empty()) kernel_options.supported_aid_prefixes = {order.aid};
  ContactlessKernel kernel(std::move(secure_element), merchant_number, clock, kernel_options);
  TS_ASSIGN_OR_RETURN(const ContactlessResult result, kernel.Run(data));
  if (result.outcome != KernelOutcome::kOnlineRequest) {
    return FailedPrecondition(
        "the card declined offline (AAC): the user has not passed the biometric check, or the "
        "token cannot pay");
  }
  // The kernel sent the merchant's number (the source above yields nothing else); check the
  // result says so before the number leaves the phone bound to this order.
  const std::optional<ByteView> sent = result.terminal_data.Get(0x9F37);
  if (!sent.has_value() || !std::equal(sent->begin(), sent->end(), number.begin(), number.end())) {
    return Internal("the kernel did not send the merchant's unpredictable number");
  }

  json payment = {
      {"type", kInAppPaymentType},          {"token", result.token_number},
      {"token_expiry", result.expiry_yymm}, {"emv_data", HexEncode(result.icc_data)},
      {"device_id", order.device_id},
  };
  if (!result.psn.empty()) payment["psn"] = result.psn;
  if (!order.requestor_id.empty()) payment["requestor_id"] = order.requestor_id;
  return payment;
}

Result<Purchase> InAppPurchaseFromJson(const nlohmann::json& payment_data,
                                       const Amount& expected_amount,
                                       std::string_view expected_unpredictable_number_hex) {
  TS_RETURN_IF_ERROR(CheckAmount(expected_amount, "expected amount"));
  TS_ASSIGN_OR_RETURN(
      const Bytes expected_number,
      ParseUnpredictableNumber(expected_unpredictable_number_hex, "expected unpredictable number"));
  if (!payment_data.is_object()) return InvalidArgument("payment_data: expected a JSON object");

  TS_ASSIGN_OR_RETURN(const std::string_view type, StringMember(payment_data, "type", true));
  if (type != kInAppPaymentType) {
    return InvalidArgument("payment_data.type: expected \"emv\"");
  }
  // The token is a payment credential: messages never quote it.
  TS_ASSIGN_OR_RETURN(const std::string_view token, StringMember(payment_data, "token", true));
  if (token.size() < kTokenDigitsMin || token.size() > kTokenDigitsMax || !LuhnValid(token)) {
    return InvalidArgument("payment_data.token: expected 13-19 digits with a valid Luhn digit");
  }
  TS_ASSIGN_OR_RETURN(const std::string_view expiry,
                      StringMember(payment_data, "token_expiry", true));
  if (expiry.size() != 4 || !IsAllDigits(expiry) || expiry.substr(2) < "01" ||
      expiry.substr(2) > "12") {
    return InvalidArgument("payment_data.token_expiry: expected YYMM");
  }
  TS_ASSIGN_OR_RETURN(const std::string_view psn, StringMember(payment_data, "psn", false));
  if (!psn.empty() && (psn.size() != 2 || !IsAllDigits(psn))) {
    return InvalidArgument("payment_data.psn: expected 2 digits (5F34)");
  }
  TS_ASSIGN_OR_RETURN(const std::string_view device_id,
                      StringMember(payment_data, "device_id", true));
  TS_RETURN_IF_ERROR(CheckDeviceId(device_id, "payment_data.device_id"));
  TS_ASSIGN_OR_RETURN(const std::string_view requestor_id,
                      StringMember(payment_data, "requestor_id", false));
  if (payment_data.contains("requestor_id")) {
    TS_RETURN_IF_ERROR(CheckRequestorId(requestor_id, "payment_data.requestor_id"));
  }

  TS_ASSIGN_OR_RETURN(const std::string_view emv_hex, StringMember(payment_data, "emv_data", true));
  Result<Bytes> emv = HexDecode(emv_hex);
  if (!emv.ok()) return InvalidArgument("payment_data.emv_data: " + emv.status().message());
  if (emv->empty() || emv->size() > kInAppEmvDataBytesMax) {
    return InvalidArgument("payment_data.emv_data: expected 1-" +
                           std::to_string(kInAppEmvDataBytesMax) + " bytes, got " +
                           std::to_string(emv->size()));
  }
  const Bytes& icc = *emv;
  Result<emv::TlvTree> tree = emv::DecodeTlv(ByteView(icc));
  if (!tree.ok()) return InvalidArgument("payment_data.emv_data: " + tree.status().message());
  // One value per tag: the TSP and the issuer must read the same amount and number as here.
  std::set<emv::TlvTag> seen;
  for (const emv::TlvNode& node : tree->roots()) {
    if (!seen.insert(node.tag).second) {
      return InvalidArgument("payment_data.emv_data: tag " + emv::TlvTagHex(node.tag) +
                             " appears twice");
    }
  }

  TS_RETURN_IF_ERROR(IccValue(*tree, 0x9F26, "application cryptogram", 8).status());
  TS_RETURN_IF_ERROR(IccValue(*tree, 0x9F36, "ATC", 2).status());
  TS_ASSIGN_OR_RETURN(const ByteView cid, IccValue(*tree, 0x9F27, "cryptogram information", 1));
  if (emv::CryptogramTypeFromCid(cid[0]) != emv::CryptogramType::kArqc) {
    return InvalidArgument("payment_data.emv_data 9F27 (cryptogram information): " +
                           HexEncode(cid) + ", expected an ARQC (type bits 10)");
  }
  TS_ASSIGN_OR_RETURN(const Bytes amount,
                      BcdEncodeFixed(std::to_string(expected_amount.minor_units()), 6));
  TS_RETURN_IF_ERROR(
      ExpectIccValue(*tree, 0x9F02, "amount authorised", amount, "the order's amount"));
  TS_ASSIGN_OR_RETURN(const Bytes currency,
                      BcdEncodeFixed(std::to_string(expected_amount.currency().numeric), 2));
  TS_RETURN_IF_ERROR(
      ExpectIccValue(*tree, 0x5F2A, "transaction currency", currency, "the order's currency"));
  TS_RETURN_IF_ERROR(ExpectIccValue(*tree, 0x9F37, "unpredictable number", expected_number,
                                    "the number given for this order"));

  iso8583::TokenData de48;
  de48.Set(iso8583::token_tag::kDeviceId, device_id);
  if (!requestor_id.empty()) de48.Set(iso8583::token_tag::kRequestorId, requestor_id);
  TS_ASSIGN_OR_RETURN(std::string token_data, de48.ToField());

  Purchase purchase;
  purchase.pan = std::string(token);
  purchase.expiry = std::string(expiry);
  purchase.amount = expected_amount;
  purchase.entry = EntryMode::kInAppChip;
  purchase.icc_data.assign(icc.begin(), icc.end());
  if (!psn.empty()) purchase.card_sequence_number = "0" + std::string(psn);
  purchase.token_data = std::move(token_data);
  return purchase;
}

Result<std::string> NewInAppUnpredictableNumber(RandomSource& random) {
  std::array<std::uint8_t, kInAppUnpredictableNumberBytes> number{};
  TS_RETURN_IF_ERROR(random.Fill(number));
  return HexEncode(number);
}

}  // namespace tapstack::acquirer
