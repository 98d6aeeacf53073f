#include "dcep/central_bank.h"

#include <array>
#include <limits>

#include "dcep/tiers.h"

namespace tapstack::dcep {

namespace {

using ledger::CreateTransferResult;

Status CheckAmount(std::int64_t amount_fen) {
  if (amount_fen <= 0) return InvalidArgument("amount_fen: expected an integer > 0");
  return Status::Ok();
}

Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax) {
    return InvalidArgument("idempotency_key: expected 1-" +
                           std::to_string(kIdempotencyKeyBytesMax) + " bytes");
  }
  return Status::Ok();
}

bool IsExistsWithDifferent(CreateTransferResult r) {
  return r >= CreateTransferResult::kExistsWithDifferentFlags &&
         r <= CreateTransferResult::kExistsWithDifferentCode;
}

ledger::Account NewAccount(ledger::Id128 id, std::uint32_t ledger_id, std::uint16_t code,
                           std::uint16_t flags) {
  ledger::Account account;
  account.id = id;
  account.ledger = ledger_id;
  account.code = code;
  account.flags = flags;
  return account;
}

ledger::Transfer NewTransfer(ledger::Id128 id, ledger::Id128 debit, ledger::Id128 credit,
                             std::uint32_t ledger_id, std::uint16_t code, std::int64_t amount,
                             ledger::Id128 digest, bool linked) {
  ledger::Transfer t;
  t.id = id;
  t.debit_account_id = debit;
  t.credit_account_id = credit;
  t.ledger = ledger_id;
  t.code = code;
  t.amount = static_cast<std::uint64_t>(amount);
  t.user_data_128 = digest;
  if (linked) t.flags = ledger::transfer_flags::kLinked;
  return t;
}

Status CreateAccountsOk(ledger::Ledger& ledger, std::span<const ledger::Account> accounts) {
  TS_ASSIGN_OR_RETURN(const auto results, ledger.CreateAccounts(accounts));
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i] != ledger::CreateAccountResult::kOk &&
        results[i] != ledger::CreateAccountResult::kExists) {
      return Internal("central bank: account " + accounts[i].id.ToHex() + ": " +
                      std::string(ledger::CreateAccountResultName(results[i])));
    }
  }
  return Status::Ok();
}

std::string Digest(std::string_view op, std::string_view a, std::string_view b, std::int64_t n) {
  return std::string(op) + "|" + std::string(a) + "|" + std::string(b) + "|" + std::to_string(n);
}

}  // namespace

std::int64_t CreditBalance(const ledger::Account& a) {
  return static_cast<std::int64_t>(a.credits_posted - a.debits_posted);
}
std::int64_t DebitBalance(const ledger::Account& a) {
  return static_cast<std::int64_t>(a.debits_posted - a.credits_posted);
}

ErrorCode ErrorCodeFromName(std::string_view name) {
  for (ErrorCode code :
       {ErrorCode::kOk, ErrorCode::kInvalidArgument, ErrorCode::kOutOfRange, ErrorCode::kNotFound,
        ErrorCode::kAlreadyExists, ErrorCode::kFailedPrecondition, ErrorCode::kCryptoFailure,
        ErrorCode::kIoError, ErrorCode::kUnavailable, ErrorCode::kCorruption}) {
    if (ErrorCodeName(code) == name) return code;
  }
  return ErrorCode::kInternal;
}

CentralBank::CentralBank(std::unique_ptr<ledger::Ledger> ledger, IdDeriver ids)
    : ledger_(std::move(ledger)), ids_(std::move(ids)) {}

CentralBank::~CentralBank() { (void)Close(); }

Status CentralBank::Close() { return ledger_ ? ledger_->Close() : Status::Ok(); }

Result<std::unique_ptr<CentralBank>> CentralBank::Open(CentralBankOptions options) {
  crypto::SecretBytes key = options.id_key.empty() ? DemoDcepIdKey(kCentralBankLedgerName)
                                                   : std::move(options.id_key);
  TS_ASSIGN_OR_RETURN(IdDeriver ids, IdDeriver::Create(std::move(key)));
  ledger::LedgerOptions ledger_options;
  ledger_options.data_dir = options.data_dir;
  ledger_options.name = std::string(kCentralBankLedgerName);
  ledger_options.clock = options.clock;
  ledger_options.log_preallocate_bytes = options.ledger_preallocate_bytes;
  ledger_options.open_file = options.open_ledger_file;
  TS_ASSIGN_OR_RETURN(auto ledger, ledger::Ledger::Open(ledger_options));
  std::unique_ptr<CentralBank> bank(new CentralBank(std::move(ledger), std::move(ids)));
  TS_ASSIGN_OR_RETURN(bank->issuance_, bank->ids_.Derive("account", "issuance"));
  TS_ASSIGN_OR_RETURN(bank->liability_, bank->ids_.Derive("account", "reserve_liability"));
  TS_ASSIGN_OR_RETURN(bank->funding_, bank->ids_.Derive("account", "reserve_funding"));
  const std::array<ledger::Account, 3> fixed = {
      NewAccount(bank->issuance_, kEcnyLedgerId, account_code::kIssuance, 0),
      NewAccount(bank->liability_, kCnyReserveLedgerId, account_code::kReserveLiability, 0),
      NewAccount(bank->funding_, kCnyReserveLedgerId, account_code::kReserveFunding, 0)};
  TS_RETURN_IF_ERROR(CreateAccountsOk(*bank->ledger_, fixed));
  return bank;
}

Status CentralBank::RegisterOperator(std::string_view operator_id, std::int64_t reserve_fen) {
  TS_RETURN_IF_ERROR(CheckOperatorId("operator_id", operator_id));
  if (reserve_fen <= 0) return InvalidArgument("reserve_fen: expected an integer > 0");
  OperatorAccounts accounts;
  TS_ASSIGN_OR_RETURN(accounts.position, ids_.Derive("account", "position", operator_id));
  TS_ASSIGN_OR_RETURN(accounts.reserve, ids_.Derive("account", "reserve", operator_id));
  constexpr std::uint16_t kNoOverdraft = ledger::account_flags::kDebitsMustNotExceedCredits;
  const std::array<ledger::Account, 2> created = {
      NewAccount(accounts.position, kEcnyLedgerId, account_code::kOperatorPosition, kNoOverdraft),
      NewAccount(accounts.reserve, kCnyReserveLedgerId, account_code::kOperatorReserve,
                 kNoOverdraft)};
  TS_RETURN_IF_ERROR(CreateAccountsOk(*ledger_, created));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 id, ids_.Derive("reserve_funding", operator_id));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 digest,
                      RequestDigest(Digest("reserve", operator_id, "", reserve_fen)));
  std::vector<ledger::Transfer> chain = {NewTransfer(id, funding_, accounts.reserve,
                                                     kCnyReserveLedgerId,
                                                     transfer_code::kReserveFunding, reserve_fen,
                                                     digest, false)};
  TS_RETURN_IF_ERROR(Apply(std::move(chain), "reserve funding").status().WithContext(
      "operator " + std::string(operator_id)));
  std::lock_guard lock(mu_);
  operators_.insert_or_assign(std::string(operator_id), accounts);
  return Status::Ok();
}

Result<CentralBank::OperatorAccounts> CentralBank::AccountsOf(std::string_view operator_id) const {
  std::lock_guard lock(mu_);
  const auto it = operators_.find(operator_id);
  if (it == operators_.end()) {
    return NotFound("operator \"" + std::string(operator_id) +
                    "\" is not registered at the central bank");
  }
  return it->second;
}

std::vector<std::string> CentralBank::operator_ids() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, accounts] : operators_) ids.push_back(id);
  return ids;
}

Result<std::int64_t> CentralBank::PositionOf(ledger::Id128 account) {
  TS_ASSIGN_OR_RETURN(const std::optional<ledger::Account> found, ledger_->LookupAccount(account));
  if (!found) return Internal("central bank: account " + account.ToHex() + " missing");
  return CreditBalance(*found);
}

Result<bool> CentralBank::Apply(std::vector<ledger::Transfer> chain, std::string_view what) {
  TS_ASSIGN_OR_RETURN(const auto results, ledger_->CreateTransfers(chain));
  bool replayed = false;
  for (std::size_t i = 0; i < results.size(); ++i) {
    CreateTransferResult r = results[i];
    if (r == CreateTransferResult::kIdAlreadyFailed) {
      // A first refusal for this key: answer it again.
      TS_ASSIGN_OR_RETURN(const auto first, ledger_->LookupTransferFailure(chain[i].id));
      if (first) r = *first;
      replayed = true;
    }
    if (r == CreateTransferResult::kOk || r == CreateTransferResult::kLinkedEventFailed) continue;
    if (r == CreateTransferResult::kExists) {
      replayed = true;
      continue;
    }
    if (IsExistsWithDifferent(r)) return AlreadyExists(std::string(kKeyReusedMessage));
    if (r == CreateTransferResult::kExceedsCredits) {
      return FailedPrecondition(std::string(what) + ": the debited account holds less than " +
                                std::to_string(chain[i].amount) + " fen");
    }
    return Internal(std::string(what) + ": ledger refused transfer " + chain[i].id.ToHex() + ": " +
                    std::string(ledger::CreateTransferResultName(r)));
  }
  return replayed;
}

Result<Movement> CentralBank::Issue(std::string_view operator_id, std::int64_t amount_fen,
                                    std::string_view key) {
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  TS_ASSIGN_OR_RETURN(const OperatorAccounts accounts, AccountsOf(operator_id));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 digest,
                      RequestDigest(Digest("issue", operator_id, "", amount_fen)));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 reserve_id, ids_.Derive("issue_reserve", operator_id, key));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 issue_id, ids_.Derive("issue", operator_id, key));
  std::vector<ledger::Transfer> chain = {
      NewTransfer(reserve_id, accounts.reserve, liability_, kCnyReserveLedgerId,
                  transfer_code::kIssueReserve, amount_fen, digest, true),
      NewTransfer(issue_id, issuance_, accounts.position, kEcnyLedgerId, transfer_code::kIssue,
                  amount_fen, digest, false)};
  TS_ASSIGN_OR_RETURN(const bool replayed,
                      Apply(std::move(chain), "issue: reserve of " + std::string(operator_id)));
  TS_ASSIGN_OR_RETURN(const std::int64_t position, PositionOf(accounts.position));
  return Movement{issue_id.ToHex(), amount_fen, position, replayed};
}

Result<Movement> CentralBank::Redeem(std::string_view operator_id, std::int64_t amount_fen,
                                     std::string_view key) {
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  TS_ASSIGN_OR_RETURN(const OperatorAccounts accounts, AccountsOf(operator_id));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 digest,
                      RequestDigest(Digest("redeem", operator_id, "", amount_fen)));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 redeem_id, ids_.Derive("redeem", operator_id, key));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 reserve_id,
                      ids_.Derive("redeem_reserve", operator_id, key));
  std::vector<ledger::Transfer> chain = {
      NewTransfer(redeem_id, accounts.position, issuance_, kEcnyLedgerId, transfer_code::kRedeem,
                  amount_fen, digest, true),
      NewTransfer(reserve_id, liability_, accounts.reserve, kCnyReserveLedgerId,
                  transfer_code::kRedeemReserve, amount_fen, digest, false)};
  TS_ASSIGN_OR_RETURN(const bool replayed,
                      Apply(std::move(chain), "redeem: position of " + std::string(operator_id)));
  TS_ASSIGN_OR_RETURN(const std::int64_t position, PositionOf(accounts.position));
  return Movement{redeem_id.ToHex(), amount_fen, position, replayed};
}

Result<Movement> CentralBank::Settle(std::string_view from_operator,
                                     std::string_view to_operator, std::int64_t amount_fen,
                                     std::string_view key) {
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  if (from_operator == to_operator) {
    return InvalidArgument("to_operator: expected an operator other than from_operator");
  }
  TS_ASSIGN_OR_RETURN(const OperatorAccounts from, AccountsOf(from_operator));
  TS_ASSIGN_OR_RETURN(const OperatorAccounts to, AccountsOf(to_operator));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 digest,
                      RequestDigest(Digest("settle", from_operator, to_operator, amount_fen)));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 id, ids_.Derive("settle", from_operator, key));
  std::vector<ledger::Transfer> chain = {NewTransfer(id, from.position, to.position, kEcnyLedgerId,
                                                     transfer_code::kSettle, amount_fen, digest,
                                                     false)};
  TS_ASSIGN_OR_RETURN(const bool replayed,
                      Apply(std::move(chain), "settle: position of " + std::string(from_operator)));
  TS_ASSIGN_OR_RETURN(const std::int64_t position, PositionOf(from.position));
  return Movement{id.ToHex(), amount_fen, position, replayed};
}

Result<Movement> CentralBank::ReverseSettlement(std::string_view from_operator,
                                                std::string_view to_operator,
                                                std::int64_t amount_fen, std::string_view key) {
  TS_RETURN_IF_ERROR(CheckAmount(amount_fen));
  TS_RETURN_IF_ERROR(CheckKey(key));
  TS_ASSIGN_OR_RETURN(const OperatorAccounts from, AccountsOf(from_operator));
  TS_ASSIGN_OR_RETURN(const OperatorAccounts to, AccountsOf(to_operator));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 original, ids_.Derive("settle", from_operator, key));
  TS_ASSIGN_OR_RETURN(const auto record, ledger_->LookupTransfer(original));
  if (!record || record->transfer.debit_account_id != from.position ||
      record->transfer.credit_account_id != to.position ||
      record->transfer.amount != static_cast<std::uint64_t>(amount_fen)) {
    return NotFound("settlement: none from " + std::string(from_operator) + " to " +
                    std::string(to_operator) + " of " + std::to_string(amount_fen) +
                    " fen under this key");
  }
  TS_ASSIGN_OR_RETURN(const ledger::Id128 digest,
                      RequestDigest(Digest("reverse", from_operator, to_operator, amount_fen)));
  TS_ASSIGN_OR_RETURN(const ledger::Id128 id, ids_.Derive("settle_reversal", from_operator, key));
  std::vector<ledger::Transfer> chain = {NewTransfer(id, to.position, from.position, kEcnyLedgerId,
                                                     transfer_code::kSettle, amount_fen, digest,
                                                     false)};
  TS_ASSIGN_OR_RETURN(const bool replayed,
                      Apply(std::move(chain), "reverse settlement: position of " +
                                                  std::string(to_operator)));
  TS_ASSIGN_OR_RETURN(const std::int64_t position, PositionOf(from.position));
  return Movement{id.ToHex(), amount_fen, position, replayed};
}

Result<OperatorPosition> CentralBank::Position(std::string_view operator_id) {
  TS_ASSIGN_OR_RETURN(const OperatorAccounts accounts, AccountsOf(operator_id));
  OperatorPosition out{std::string(operator_id), 0, 0};
  TS_ASSIGN_OR_RETURN(out.position_fen, PositionOf(accounts.position));
  TS_ASSIGN_OR_RETURN(out.reserve_fen, PositionOf(accounts.reserve));
  return out;
}

Result<CentralBankAudit> CentralBank::Audit() {
  TS_RETURN_IF_ERROR(ledger_->Audit());
  CentralBankAudit audit;
  TS_ASSIGN_OR_RETURN(const auto issuance, ledger_->LookupAccount(issuance_));
  TS_ASSIGN_OR_RETURN(const auto liability, ledger_->LookupAccount(liability_));
  if (!issuance || !liability) return Internal("central bank: fixed accounts missing");
  audit.issued_fen = DebitBalance(*issuance);
  audit.liability_fen = CreditBalance(*liability);
  for (const std::string& id : operator_ids()) {
    TS_ASSIGN_OR_RETURN(OperatorPosition position, Position(id));
    audit.positions_sum_fen += position.position_fen;
    audit.reserves_sum_fen += position.reserve_fen;
    audit.positions.push_back(std::move(position));
  }
  if (audit.issued_fen != audit.positions_sum_fen) {
    return Internal("central bank audit: issued " + std::to_string(audit.issued_fen) +
                    " fen but positions sum to " + std::to_string(audit.positions_sum_fen));
  }
  if (audit.liability_fen != audit.issued_fen) {
    return Internal("central bank audit: reserve liability " +
                    std::to_string(audit.liability_fen) + " fen but issued " +
                    std::to_string(audit.issued_fen));
  }
  return audit;
}

}  // namespace tapstack::dcep
