// Platform, area 9: agent cash-in (the Easypaisa / JazzCash model in Pakistan): a user hands cash
// to an agent's shop and the agent credits the user's balance from its prefunded float. The float
// is an "agent:<id>" ledger account that must not go below zero, so an agent never credits more
// than it prefunded and the platform never lends to its agents.
#include "qrpay/platform.h"
#include "qrpay/platform_impl.h"

namespace tapstack::qrpay {

using namespace internal;  // NOLINT(google-build-using-namespace): the platform's own helpers
using store::Store;

Result<Receipt> Platform::CashIn(std::string_view agent_id, std::string_view account_id,
                                 const Amount& amount, std::string_view idempotency_key) {
  Impl& p = *impl_;
  auto agent_or = p.config->Agent(agent_id);
  if (!agent_or.ok() || (*agent_or)->platform_id != p.id) {
    return NotFound("agent_id: \"" + std::string(agent_id) + "\" is not an agent of " + p.id);
  }
  const AgentInfo& agent = **agent_or;
  TS_RETURN_IF_ERROR(p.CheckHomeAmount(amount));
  TS_ASSIGN_OR_RETURN(Bytes digest, Digest({"cash_in", agent_id, account_id, amount.ToString()}));
  Impl::OpState state = p.RunOp(
      "cash_in", agent.id, idempotency_key, LowerHex(digest),
      [&](Store& tx, const std::string& op_id, bool&) -> Result<Receipt> {
        TS_ASSIGN_OR_RETURN(const AccountRow a, LoadAccountRow(tx, account_id));
        const std::string agent_label = "agent:" + agent.id;
        TS_RETURN_IF_ERROR(p.CheckFunds(agent_label, "agent funds", amount.minor_units()));
        TS_RETURN_IF_ERROR(p.CheckBalanceCap(a, amount.minor_units()));
        TS_ASSIGN_OR_RETURN(ledger::Transfer t, p.MakeTransfer(op_id, "cash-in", agent_label,
                                                               a.label, amount, kTransferCashIn));
        TS_RETURN_IF_ERROR(p.ApplyTransfers(tx, {t}));
        const std::int64_t now = p.NowMs();
        TS_RETURN_IF_ERROR(
            p.Post(tx, op_id, a.label, "cash_in", agent.name, amount.minor_units(), now));
        Receipt r = Impl::NewReceipt(op_id, "cash_in", a.account_id, amount, amount, now);
        r.merchant_id = agent.id;
        r.merchant_name = agent.name;
        return r;
      });
  return std::move(state.result);
}

}  // namespace tapstack::qrpay
