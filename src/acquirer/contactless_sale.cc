#include "acquirer/contactless_sale.h"

#include <future>
#include <utility>

#include "emv/tlv.h"

namespace tapstack::acquirer {

namespace {

// The tag 91 value in the response's DE55, or empty.
Bytes IssuerAuthenticationData(const iso8583::Message& response) {
  const std::optional<std::string_view> de55 = response.Get(55);
  if (!de55) return {};
  Result<emv::TlvTree> tree = emv::DecodeTlv(AsBytes(*de55));
  if (!tree.ok()) return {};
  const emv::TlvNode* tag91 = tree->FindRoot(0x91);
  if (tag91 == nullptr) return {};
  return Bytes(tag91->value.begin(), tag91->value.end());
}

}  // namespace

Result<ContactlessSaleResult> RunContactlessSale(ContactlessKernel& kernel, PosTerminal& terminal,
                                                 const TerminalConfig& config, const Amount& amount,
                                                 const emv::CryptogramProfile& profile) {
  ContactlessSaleResult sale;
  sale.purchase.response = Unavailable("not sent: the card declined offline");
  ContactlessTerminalData data;
  data.amount_authorised_minor = static_cast<std::uint64_t>(amount.minor_units());
  data.currency_numeric = amount.currency().numeric;
  data.country_numeric = config.country_numeric;
  TS_ASSIGN_OR_RETURN(sale.tap, kernel.Run(data));

  if (sale.tap.outcome == KernelOutcome::kOnlineRequest) {
    Purchase purchase;
    purchase.amount = amount;
    purchase.pan = sale.tap.token_number;
    purchase.expiry = sale.tap.expiry_yymm;
    purchase.entry = EntryMode::kContactless;
    purchase.icc_data.assign(sale.tap.icc_data.begin(), sale.tap.icc_data.end());
    std::promise<PurchaseResult> done;
    terminal.Purchase(purchase, [&done](PurchaseResult r) { done.set_value(std::move(r)); });
    sale.purchase = done.get_future().get();
    sale.sent_online = true;
    sale.approved = sale.purchase.approved();
    if (sale.approved) {
      const Bytes tag91 = IssuerAuthenticationData(*sale.purchase.response);
      sale.issuer_authenticated =
          !tag91.empty() && kernel.ExternalAuthenticate(profile, tag91).ok();
    }
  }
  sale.receipt_line = FormatReceiptLine(config, amount, sale);
  return sale;
}

std::string FormatReceiptLine(const TerminalConfig& config, const Amount& amount,
                              const ContactlessSaleResult& sale) {
  std::string line = config.terminal_id + " " + config.name_location + " | " +
                     std::string(amount.currency().alpha) + " " + amount.ToDecimalString() +
                     " | token ";
  const std::string& token = sale.tap.token_number;
  if (token.size() > 4) {
    line += std::string(token.size() - 4, '*') + token.substr(token.size() - 4);
  } else {
    line += "?";
  }
  line += " | ";
  if (!sale.sent_online) return line + "DECLINED BY CARD (offline)";
  if (!sale.purchase.response.ok()) return line + "NO ANSWER (reversed)";
  const iso8583::Message& r = *sale.purchase.response;
  if (!sale.approved) {
    line += "DECLINED " + sale.purchase.response_code();
    if (auto why = r.Get(44)) line += " (" + std::string(*why) + ")";
    return line;
  }
  line += "APPROVED 00";
  if (auto auth = r.Get(38)) line += " auth " + std::string(*auth);
  return line + (sale.issuer_authenticated ? " | ARPC ok" : " | ARPC not verified");
}

}  // namespace tapstack::acquirer
