#include "server/qr_story.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <thread>

#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>

#include "acquirer/consumer_presented.h"
#include "acquirer/in_app_payment.h"
#include "acquirer/pos_terminal.h"
#include "qr/mpm.h"
#include "server/qr_world.h"
#include "wallet/wallet_service.h"

namespace tapstack::server {
namespace {

constexpr std::string_view kHome = "tapstack-cn";
constexpr std::string_view kPartner = "induspay-pk";
constexpr std::string_view kNoodles = "BJNOODLES01";
constexpr std::string_view kDumplings = "SHDUMPLING01";
constexpr std::string_view kMoscow = "MOSARBAT01";
constexpr std::string_view kLondon = "LDNCAMDEN01";
constexpr std::string_view kLahore = "LHRANARKALI01";
constexpr std::string_view kRefundOperator = "globalrefund-demo";
constexpr std::string_view kLahoreAgent = "agent-lahore-01";
// A visitor's card: demo card 0 of bank 3 (Harbour City Bank, Hong Kong, billed in HKD).
constexpr int kVisitorBank = 3;
// Li Lei's card: demo card 0 of bank 0 (Pearl River Commercial Bank, CN).
constexpr int kHomeBank = 0;

// The narration and the checks every step shares.
class Narrator {
 public:
  Narrator(std::ostream* out, QrStoryReport& report) : out_(out), report_(report) {}

  void Step(const std::string& title) {
    ++report_.steps;
    if (out_ != nullptr) *out_ << "\n== " << report_.steps << ". " << title << "\n";
  }
  void Say(const std::string& line) {
    if (out_ != nullptr) *out_ << "   " << line << "\n";
  }
  // A refusal the story expects: `status` must fail with `code` and mention `needle`.
  Status Refused(const Status& status, ErrorCode code, std::string_view needle,
                 const std::string& what) {
    if (status.ok()) return Internal(what + ": expected a refusal, but it was accepted");
    if (status.code() != code || status.message().find(needle) == std::string::npos) {
      return Internal(what + ": expected " + std::string(ErrorCodeName(code)) + " mentioning \"" +
                      std::string(needle) + "\", got " + status.ToString());
    }
    ++report_.refusals_checked;
    Say("refused, as it must be: " + status.message());
    return Status::Ok();
  }
  Status Check(bool condition, const std::string& what) {
    return condition ? Status::Ok() : Internal("expected " + what);
  }

 private:
  std::ostream* out_;
  QrStoryReport& report_;
};

std::string Money(const Amount& amount) { return amount.ToString(); }

// The wallet app on a phone: the user's fingerprint, then the secure element makes the in-app
// cryptogram for the order the platform's payment request describes.
Result<nlohmann::json> PayInApp(DemoPhone& phone, const qrpay::CardPaymentRequest& request) {
  phone.se->BiometricVerified();
  acquirer::InAppOrder order;
  order.merchant_name = request.merchant_name.substr(0, acquirer::kInAppMerchantNameBytesMax);
  order.amount = request.amount;
  order.country_numeric = request.merchant_country_numeric;
  order.unpredictable_number_hex = request.unpredictable_number;
  order.device_id = phone.device_id;
  order.requestor_id = std::string(wallet::kDemoRequestorId);
  device::SecureElement* se = phone.se.get();
  return acquirer::MakeInAppPayment([se](ByteView capdu) { return se->Transmit(capdu); },
                                    SystemClock::Instance(), order);
}

// A merchant's card terminal over the network (the seed's merchant `index`), waited on.
Result<acquirer::PurchaseResult> SendPurchase(QrWorld& world, int merchant_index,
                                              const acquirer::Purchase& purchase) {
  const demo::DemoMerchant& m = world.demo().merchants.at(static_cast<std::size_t>(merchant_index));
  acquirer::TerminalConfig config;
  config.terminal_id = m.terminal_id;
  config.merchant_id = m.merchant_id;
  config.name_location = m.name + " " + m.city;
  config.mcc = m.mcc;
  config.acquirer_id = m.acquirer_id;
  acquirer::PosTerminal terminal(config, world.rail().acquirer_link(), SystemClock::Instance());
  std::promise<acquirer::PurchaseResult> done;
  auto answered = done.get_future();
  terminal.Purchase(purchase, [&done](acquirer::PurchaseResult r) { done.set_value(std::move(r)); });
  return answered.get();
}

class Story {
 public:
  Story(const QrStoryOptions& options, QrWorld& world, QrStoryReport& report)
      : world_(world), say_(options.out, report), report_(report) {}

  // ---- shared opening: a phone with a bound card, an account with money on it ----
  Status Open(std::int64_t top_up_fen) {
    TS_ASSIGN_OR_RETURN(home_, world_.platform(kHome));
    say_.Step("Li Lei binds his bank card to his phone and opens a tapstack Pay account");
    TS_ASSIGN_OR_RETURN(phone_, world_.BindPhone("li-lei-phone", kHomeBank, 0, "LI LEI", "+8613800138000"));
    say_.Say("card " + phone_.masked_pan + " of " + phone_.bank_name + " → token •" +
             phone_.token.token_number.substr(phone_.token.token_number.size() - 4) +
             " in the phone's secure element (SMS step passed)");
    TS_ASSIGN_OR_RETURN(account_, home_->OpenAccount("li-lei", Cny(), 2));
    say_.Say("account " + account_.account_id + ", level 2 (" + account_.limits.verified_with +
             "), merchants see only \"" + account_.alias + "\"");

    say_.Step("He tops up " + Money(Amount(top_up_fen, Cny())) + " from the card");
    TS_ASSIGN_OR_RETURN(const qrpay::CardPaymentRequest request,
                        home_->StartTopUp(account_.account_id, Amount(top_up_fen, Cny()), phone_.device_id));
    say_.Say("payment request: " + request.merchant_name + ", " + Money(request.amount) +
             ", unpredictable number " + request.unpredictable_number);
    TS_ASSIGN_OR_RETURN(const nlohmann::json payment, PayInApp(phone_, request));
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt topped, home_->CompleteTopUp(request.order_id, payment));
    say_.Say("the issuer approved the in-app token payment (" + topped.reference + "); balance " +
             Money(*Balance()));
    return say_.Check(Balance()->minor_units() == top_up_fen, "the balance to equal the top-up");
  }

  // ---- demo qr ----
  Status ScanStatic() {
    say_.Step("He scans Old Beijing Noodles' printed code and types CNY 38.00");
    TS_ASSIGN_OR_RETURN(const std::string code, home_->MerchantStaticQr(kNoodles));
    say_.Say("the code: " + code);
    TS_ASSIGN_OR_RETURN(const qrpay::ScanResult scan, home_->Scan(code));
    say_.Say("the app shows: " + scan.merchant_name + ", " + scan.city + " — you enter the amount");
    TS_ASSIGN_OR_RETURN(first_payment_, home_->PayMerchantQr(account_.account_id, code, Amount(3800, Cny()), "noodles-1"));
    say_.Say("paid " + Money(first_payment_.amount) + ", receipt " + first_payment_.receipt_id);
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt again,
                        home_->PayMerchantQr(account_.account_id, code, Amount(3800, Cny()), "noodles-1"));
    say_.Say("the app retried with the same idempotency key: " +
             std::string(again.replayed ? "the first receipt came back, nothing paid twice" : "PAID TWICE"));
    return say_.Check(again.replayed && again.receipt_id == first_payment_.receipt_id, "a replay");
  }

  Status ScanDynamic() {
    say_.Step("The noodle shop's till shows a code for order T17-0042, CNY 23.50");
    TS_ASSIGN_OR_RETURN(const std::string code,
                        home_->MerchantDynamicQr(kNoodles, "T17-0042", Amount(2350, Cny()), 300));
    TS_ASSIGN_OR_RETURN(const qrpay::ScanResult scan, home_->Scan(code));
    say_.Say("the app shows: " + scan.merchant_name + ", " + Money(*scan.amount) + ", order " + scan.order_id);
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt paid, home_->PayMerchantQr(account_.account_id, code, std::nullopt, "t17-0042"));
    say_.Say("paid " + Money(paid.amount));
    TS_RETURN_IF_ERROR(say_.Refused(
        home_->PayMerchantQr(account_.account_id, code, std::nullopt, "t17-0042-again").status(),
        ErrorCode::kFailedPrecondition, "already", "paying the same order twice"));

    say_.Step("Someone edits the amount of a code to CNY 0.01 and fixes the CRC");
    TS_ASSIGN_OR_RETURN(const std::string fresh,
                        home_->MerchantDynamicQr(kNoodles, "T17-0043", Amount(6800, Cny()), 300));
    qr::MpmDecoded decoded = qr::DecodeMpm(fresh);
    for (qr::MpmObject& object : decoded.objects) {
      if (object.id == "54") object.value = "0.01";
    }
    TS_ASSIGN_OR_RETURN(const std::string tampered, qr::EncodeMpm(decoded.objects));
    say_.Say("the CRC checks out, the code decodes: " + tampered);
    TS_RETURN_IF_ERROR(say_.Refused(
        home_->PayMerchantQr(account_.account_id, tampered, std::nullopt, "t17-0043").status(),
        ErrorCode::kCryptoFailure, "altered", "a tampered code"));

    say_.Step("A code that expired a second ago");
    TS_ASSIGN_OR_RETURN(const std::string short_lived,
                        home_->MerchantDynamicQr(kNoodles, "T17-0044", Amount(1200, Cny()), 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(1'100));
    return say_.Refused(
        home_->PayMerchantQr(account_.account_id, short_lived, std::nullopt, "t17-0044").status(),
        ErrorCode::kFailedPrecondition, "expired", "an expired code");
  }

  Status ShowPaymentCode() {
    say_.Step("At Nanxiang Dumpling House he shows his payment code; the cashier scans it");
    TS_ASSIGN_OR_RETURN(const qrpay::PaymentCode code, home_->IssuePaymentCode(account_.account_id, phone_.device_id));
    say_.Say("the phone shows " + code.code + " (one payment, valid 60 s)");
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt paid,
                        home_->PayByPaymentCode(kDumplings, code.code, Amount(5600, Cny()), "till-7-0001"));
    say_.Say("the scanner charged " + Money(paid.amount) + "; the merchant saw the payer as \"" +
             account_.alias + "\"");
    return say_.Refused(home_->PayByPaymentCode(kDumplings, code.code, Amount(100, Cny()), "till-7-0002").status(),
                        ErrorCode::kFailedPrecondition, "used", "a used payment code");
  }

  Status ShowEmvCode() {
    say_.Step("At Shanghai Tea House (a card merchant) he shows an EMVCo payment code");
    phone_.se->BiometricVerified();
    device::SecureElement* se = phone_.se.get();
    acquirer::ConsumerCodeOptions options;
    options.application_label = "tapstack";
    TS_ASSIGN_OR_RETURN(const std::string code,
                        acquirer::MakeConsumerPresentedCode([se](ByteView capdu) { return se->Transmit(capdu); },
                                                            SystemClock::Instance(), options));
    say_.Say("the phone shows a QR code carrying " + std::to_string(code.size()) +
             " characters of base64: the token, the ATC and a cryptogram (" + code.substr(0, 24) + "…)");
    TS_ASSIGN_OR_RETURN(const acquirer::Purchase purchase,
                        acquirer::ConsumerPresentedPurchase(code, Amount(4200, Cny()), SystemClock::Instance().NowUnixMillis()));
    TS_ASSIGN_OR_RETURN(const acquirer::PurchaseResult first, SendPurchase(world_, 1, purchase));
    say_.Say("the scanner sent an authorisation (DE22 032) through the acquirer: DE39 " +
             first.response_code() + (first.approved() ? " approved by " + phone_.bank_name : ""));
    TS_RETURN_IF_ERROR(say_.Check(first.approved(), "the issuer to approve the shown code"));
    TS_ASSIGN_OR_RETURN(const acquirer::PurchaseResult second, SendPurchase(world_, 1, purchase));
    say_.Say("the same code scanned again: DE39 " + second.response_code() +
             " (the cryptogram's ATC is spent: one code, one payment)");
    ++report_.refusals_checked;
    return say_.Check(!second.approved(), "a second use of the code to be declined");
  }

  Status RefundAndLimits() {
    say_.Step("The noodle shop refunds CNY 10.00 of the first bowl");
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt refund,
                        home_->RefundPayment(kNoodles, first_payment_.receipt_id, Amount(1000, Cny()), "refund-1"));
    say_.Say("refunded " + Money(refund.amount) + "; balance " + Money(*Balance()));
    TS_RETURN_IF_ERROR(say_.Refused(
        home_->RefundPayment(kNoodles, first_payment_.receipt_id, Amount(3000, Cny()), "refund-2").status(),
        ErrorCode::kOutOfRange, "", "refunding more than was paid"));

    say_.Step("Han Meimei's phone-only (level 1) account tries to spend past its daily limit");
    TS_ASSIGN_OR_RETURN(const qrpay::AccountInfo han, home_->OpenAccount("han-meimei", Cny(), 1));
    TS_ASSIGN_OR_RETURN(const DemoPhone han_phone, BindSecondPhone());
    (void)han_phone;
    say_.Say("level 1 allows " + Money(Amount(han.limits.daily_max_minor, Cny())) + " a day");
    TS_ASSIGN_OR_RETURN(const std::string code, home_->MerchantStaticQr(kNoodles));
    return say_.Refused(home_->PayMerchantQr(han.account_id, code, Amount(han.limits.daily_max_minor + 100, Cny()), "big").status(),
                        ErrorCode::kOutOfRange, "daily_max_minor", "a payment above the daily limit");
  }

  Status Withdraw() {
    say_.Step("He withdraws CNY 100.00 back to his card");
    TS_ASSIGN_OR_RETURN(const std::vector<qrpay::FundingCard> cards, home_->FundingCards(account_.account_id));
    TS_RETURN_IF_ERROR(say_.Check(!cards.empty(), "the top-up card to be remembered as a funding card"));
    const std::int64_t before = Balance()->minor_units();
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt out,
                        home_->Withdraw(account_.account_id, cards[0].card_id, Amount(10000, Cny()), "withdraw-1"));
    say_.Say("credit to token •" + cards[0].token_last4 + " through the network (" + out.reference +
             "); balance " + Money(*Balance()));
    return say_.Check(Balance()->minor_units() == before - 10000, "the balance to fall by the withdrawal");
  }

  Status StatementAndAudit() {
    say_.Step("The month's statement and the platform's audit");
    const std::int64_t now = SystemClock::Instance().NowUnixMillis();
    const std::time_t seconds = static_cast<std::time_t>(now / 1000 + 8 * 3600);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char month[32];
    std::snprintf(month, sizeof month, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
    TS_ASSIGN_OR_RETURN(const qrpay::Statement statement, home_->MonthlyStatement(account_.account_id, month));
    say_.Say("statement " + statement.month + ": opening " + Money(statement.opening_balance));
    for (const qrpay::StatementEntry& e : statement.entries) {
      say_.Say("  " + e.kind + "  " + e.counterparty + "  " + Money(e.amount) + "  → " + Money(e.balance_after));
    }
    say_.Say("closing " + Money(statement.closing_balance));
    TS_RETURN_IF_ERROR(say_.Check(statement.closing_balance == *Balance(), "the statement to close at the balance"));
    return AuditAll();
  }

  // ---- demo abroad ----
  Status PayMoscow() {
    say_.Step("In Moscow, Arbat Souvenirs shows a code for RUB 1,250.00");
    TS_ASSIGN_OR_RETURN(qrpay::Platform * home, world_.platform(kHome));
    TS_ASSIGN_OR_RETURN(const std::string code,
                        home->MerchantDynamicQr(kMoscow, "ARB-5521", Amount(125000, *CurrencyByAlpha("RUB").value()), 300));
    TS_ASSIGN_OR_RETURN(const qrpay::Quote quote, home->QuoteMerchantQr(account_.account_id, code, std::nullopt));
    say_.Say("before he confirms, the app shows: " + Money(quote.merchant_amount) + " = " +
             Money(quote.payer_amount) + " at " + quote.rate + " CNY per RUB (" + quote.rate_source +
             ", " + quote.business_date + ") plus " + std::to_string(quote.markup_bps) + " bp markup");
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt paid, home->PayQuote(account_.account_id, quote.quote_id, "arbat-1"));
    TS_ASSIGN_OR_RETURN(const Amount merchant, home->MerchantBalance(kMoscow));
    say_.Say("charged " + Money(paid.payer_amount) + "; Arbat Souvenirs credited " + Money(merchant));
    return say_.Check(paid.payer_amount == quote.payer_amount, "the charge to be what the quote showed");
  }

  Status ShowCodeLondon() {
    say_.Step("At Camden Market in London he shows his payment code for GBP 12.40");
    TS_ASSIGN_OR_RETURN(const qrpay::PaymentCode code, home_->IssuePaymentCode(account_.account_id, phone_.device_id));
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt paid,
                        home_->PayByPaymentCode(kLondon, code.code, Amount(1240, *CurrencyByAlpha("GBP").value()), "camden-1"));
    say_.Say("the stall's scanner took " + Money(paid.amount) + "; his balance paid " + Money(paid.payer_amount) +
             " at " + paid.rate + " + " + std::to_string(paid.markup_bps) + " bp");
    return say_.Check(paid.payer_amount.currency() == Cny() && paid.payer_amount.minor_units() > 0,
                      "the payer to be charged in CNY");
  }

  Status PayPartner() {
    TS_ASSIGN_OR_RETURN(qrpay::Platform * partner, world_.platform(kPartner));
    say_.Step("In Lahore he scans a code of IndusPay, a partner wallet in Pakistan");
    TS_ASSIGN_OR_RETURN(const std::string code,
                        partner->MerchantDynamicQr(kLahore, "ANK-0907", Amount(350000, *CurrencyByAlpha("PKR").value()), 300));
    TS_ASSIGN_OR_RETURN(const qrpay::Quote quote, home_->QuoteMerchantQr(account_.account_id, code, std::nullopt));
    say_.Say("the app shows " + quote.merchant_name + ": " + Money(quote.merchant_amount) + " = " +
             Money(quote.payer_amount) + " (rate " + quote.rate + ", " + std::to_string(quote.markup_bps) + " bp)");
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt paid, home_->PayQuote(account_.account_id, quote.quote_id, "lahore-1"));
    TS_ASSIGN_OR_RETURN(const Amount merchant, partner->MerchantBalance(kLahore));
    say_.Say("the network's QR clearing carried it to IndusPay (" + paid.reference + "); the merchant has " +
             Money(merchant) + " in IndusPay's own ledger");

    say_.Step("Ayesha, an IndusPay user visiting Beijing, pays Old Beijing Noodles");
    TS_ASSIGN_OR_RETURN(const qrpay::AccountInfo ayesha, partner->OpenAccount("ayesha", *CurrencyByAlpha("PKR").value(), 3));
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt cash,
                        partner->CashIn(kLahoreAgent, ayesha.account_id,
                                        Amount(5'000'000, *CurrencyByAlpha("PKR").value()), "ayesha-cash-1"));
    say_.Say("she put " + Money(cash.amount) + " on her IndusPay balance at an agent in Lahore");
    TS_ASSIGN_OR_RETURN(const std::string noodles, home_->MerchantDynamicQr(kNoodles, "T17-0101", Amount(4600, Cny()), 300));
    TS_ASSIGN_OR_RETURN(const qrpay::Quote back, partner->QuoteMerchantQr(ayesha.account_id, noodles, std::nullopt));
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt paid_back, partner->PayQuote(ayesha.account_id, back.quote_id, "bj-1"));
    say_.Say("charged " + Money(paid_back.payer_amount) + " for " + Money(paid_back.amount) + " at " + paid_back.rate);
    return Status::Ok();
  }

  Status VisitorCard() {
    say_.Step("Chan Tai Man, visiting from Hong Kong, binds his Harbour City Bank card and pays by card");
    TS_ASSIGN_OR_RETURN(DemoPhone visitor,
                        world_.BindPhone("chan-tai-man-phone", kVisitorBank, 0, "CHAN TAI MAN", "+85291234567"));
    TS_ASSIGN_OR_RETURN(const qrpay::AccountInfo account, home_->OpenAccount("chan-tai-man", Cny(), 1));
    say_.Say("card " + visitor.masked_pan + " (" + visitor.bank_country + ") bound; a foreign card: "
             "free up to CNY 200, 3% above, at most USD 5,000 a payment and USD 50,000 a year");
    TS_ASSIGN_OR_RETURN(const std::string code,
                        home_->MerchantDynamicQr(kNoodles, "T17-0200", Amount(35'000, Cny()), 300));
    TS_ASSIGN_OR_RETURN(const qrpay::CardPaymentRequest request,
                        home_->StartCardPayment(account.account_id, code, std::nullopt, visitor.bank_country,
                                                visitor.device_id));
    say_.Say("the app shows " + Money(request.amount) + " to pay by card (the fee included)");
    TS_ASSIGN_OR_RETURN(const nlohmann::json payment, PayInApp(visitor, request));
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt paid, home_->CompleteCardPayment(request.order_id, payment));
    say_.Say("his bank approved " + Money(paid.payer_amount) + " (the network bills it in HKD): " +
             Money(paid.amount) + " to the merchant, fee " + Money(paid.fee));
    TS_RETURN_IF_ERROR(say_.Check(paid.fee.minor_units() == 35'000 * 3 / 100, "a 3% fee above CNY 200"));
    TS_ASSIGN_OR_RETURN(const std::string big,
                        home_->MerchantDynamicQr(kNoodles, "T17-0201", Amount(4'000'000, Cny()), 300));
    return say_.Refused(home_->StartCardPayment(account.account_id, big, std::nullopt, visitor.bank_country,
                                                visitor.device_id)
                            .status(),
                        ErrorCode::kOutOfRange, "per_transaction_max_usd_minor",
                        "a visitor's card payment above USD 5,000");
  }

  Status TaxRefund() {
    say_.Step("A VAT refund for a London receipt, credited in CNY");
    TS_ASSIGN_OR_RETURN(const qrpay::Receipt refund,
                        home_->TaxRefund(kRefundOperator, account_.account_id, "GB-LHR-884213",
                                         Amount(4560, *CurrencyByAlpha("GBP").value()), "vat-1"));
    say_.Say("Global Refund credited " + Money(refund.payer_amount) + " for " + Money(refund.amount) +
             " at " + refund.rate + " (receipt " + refund.reference + ")");
    return say_.Refused(home_->TaxRefund(kRefundOperator, account_.account_id, "GB-LHR-884213",
                                         Amount(4560, *CurrencyByAlpha("GBP").value()), "vat-2")
                            .status(),
                        ErrorCode::kAlreadyExists, "GB-LHR-884213", "the same receipt refunded twice");
  }

  Status SettleAbroad() {
    say_.Step("Settlement: each merchant in its own currency, both sides shown");
    const std::string today = Today();
    for (const std::string_view merchant : {kMoscow, kLondon}) {
      TS_ASSIGN_OR_RETURN(const qrpay::SettlementReport report, home_->Settlement(merchant, today));
      for (const qrpay::SettlementLine& line : report.lines) {
        say_.Say(std::string(merchant) + "  " + line.kind + "  merchant " + Money(line.merchant_amount) +
                 "  payer " + Money(line.payer_amount) + "  rate " + line.rate);
      }
    }
    TS_ASSIGN_OR_RETURN(const network::ClearingSettlement cut, world_.clearing().CutOff(today));
    std::map<std::string, std::int64_t> per_currency;
    for (const network::ClearingPosition& p : cut.positions) {
      say_.Say("clearing " + p.platform_id + " " + p.currency + " " + std::to_string(p.net_minor) +
               " (" + std::to_string(p.payments) + " payments)");
      per_currency[p.currency] += p.net_minor;
    }
    for (const auto& [currency, sum] : per_currency) {
      TS_RETURN_IF_ERROR(say_.Check(sum == 0, "clearing positions in " + currency + " to sum to zero"));
    }
    return AuditAll();
  }

  Result<Amount> Balance() {
    TS_ASSIGN_OR_RETURN(const qrpay::AccountInfo info, home_->Account(account_.account_id));
    return info.balance;
  }
  std::int64_t balance_minor() {
    auto b = Balance();
    return b.ok() ? b->minor_units() : 0;
  }

 private:
  Result<DemoPhone> BindSecondPhone() {
    return world_.BindPhone("han-meimei-phone", kHomeBank, 1, "HAN MEIMEI", "+8613900139000");
  }

  Status AuditAll() {
    for (const qrpay::PlatformInfo& info : world_.config().platforms) {
      TS_ASSIGN_OR_RETURN(qrpay::Platform * platform, world_.platform(info.id));
      TS_ASSIGN_OR_RETURN(const qrpay::PlatformAudit audit, platform->Audit());
      say_.Say("audit " + info.id + ": " + std::to_string(audit.ledger_accounts) + " ledger accounts, " +
               std::to_string(audit.journal_entries) + " journal entries; debits = credits per currency, "
               "journal = ledger");
    }
    report_.audit_ok = true;
    return Status::Ok();
  }

  static std::string Today() {
    const std::time_t seconds = static_cast<std::time_t>(SystemClock::Instance().NowUnixMillis() / 1000 + 8 * 3600);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char date[32];
    std::snprintf(date, sizeof date, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return date;
  }

  QrWorld& world_;
  Narrator say_;
  QrStoryReport& report_;
  qrpay::Platform* home_ = nullptr;
  DemoPhone phone_;
  qrpay::AccountInfo account_;
  qrpay::Receipt first_payment_;
};

Result<std::unique_ptr<QrWorld>> FreshWorld(const QrStoryOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(options.data_dir, ec) && !std::filesystem::is_empty(options.data_dir, ec)) {
    return FailedPrecondition("data_dir " + options.data_dir.string() +
                              ": must not exist or be empty (the story starts from nothing)");
  }
  QrWorldOptions world;
  world.data_dir = options.data_dir;
  return QrWorld::Start(world);
}

}  // namespace

Result<QrStoryReport> RunQrStory(const QrStoryOptions& options) {
  TS_ASSIGN_OR_RETURN(std::unique_ptr<QrWorld> world, FreshWorld(options));
  QrStoryReport report;
  Story story(options, *world, report);
  TS_RETURN_IF_ERROR(story.Open(50'000));
  TS_RETURN_IF_ERROR(story.ScanStatic());
  TS_RETURN_IF_ERROR(story.ScanDynamic());
  TS_RETURN_IF_ERROR(story.ShowPaymentCode());
  TS_RETURN_IF_ERROR(story.ShowEmvCode());
  TS_RETURN_IF_ERROR(story.RefundAndLimits());
  TS_RETURN_IF_ERROR(story.Withdraw());
  TS_RETURN_IF_ERROR(story.StatementAndAudit());
  report.payer_balance_minor = story.balance_minor();
  return report;
}

Result<QrStoryReport> RunAbroadStory(const QrStoryOptions& options) {
  TS_ASSIGN_OR_RETURN(std::unique_ptr<QrWorld> world, FreshWorld(options));
  QrStoryReport report;
  Story story(options, *world, report);
  TS_RETURN_IF_ERROR(story.Open(500'000));
  TS_RETURN_IF_ERROR(story.PayMoscow());
  TS_RETURN_IF_ERROR(story.ShowCodeLondon());
  TS_RETURN_IF_ERROR(story.PayPartner());
  TS_RETURN_IF_ERROR(story.VisitorCard());
  TS_RETURN_IF_ERROR(story.TaxRefund());
  TS_RETURN_IF_ERROR(story.SettleAbroad());
  report.payer_balance_minor = story.balance_minor();
  return report;
}

}  // namespace tapstack::server
