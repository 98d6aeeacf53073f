#include "ledger/types.h"

namespace tapstack::ledger {

namespace {

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Id128::ToHex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kDigits[(high >> (4 * i)) & 0xF];
    out[31 - i] = kDigits[(low >> (4 * i)) & 0xF];
  }
  return out;
}

Result<Id128> Id128::ParseHex(std::string_view hex) {
  if (hex.empty() || hex.size() > 32) {
    return InvalidArgument("id: expected 1 to 32 hex digits, got " + std::to_string(hex.size()));
  }
  Id128 id;
  for (std::size_t i = 0; i < hex.size(); ++i) {
    const int v = HexDigitValue(hex[i]);
    if (v < 0) return InvalidArgument("id: not a hex digit at offset " + std::to_string(i));
    id.high = (id.high << 4) | (id.low >> 60);
    id.low = (id.low << 4) | static_cast<std::uint64_t>(v);
  }
  return id;
}

std::string_view PendingStateName(PendingState state) {
  switch (state) {
    case PendingState::kNone:
      return "none";
    case PendingState::kPending:
      return "pending";
    case PendingState::kPosted:
      return "posted";
    case PendingState::kVoided:
      return "voided";
    case PendingState::kExpired:
      return "expired";
  }
  return "unknown";
}

std::string_view CreateAccountResultName(CreateAccountResult result) {
  using R = CreateAccountResult;
  switch (result) {
    case R::kOk:
      return "ok";
    case R::kLinkedEventFailed:
      return "linked_event_failed";
    case R::kLinkedEventChainOpen:
      return "linked_event_chain_open";
    case R::kTimestampMustBeZero:
      return "timestamp_must_be_zero";
    case R::kReservedField:
      return "reserved_field";
    case R::kReservedFlag:
      return "reserved_flag";
    case R::kIdMustNotBeZero:
      return "id_must_not_be_zero";
    case R::kIdMustNotBeIntMax:
      return "id_must_not_be_int_max";
    case R::kExistsWithDifferentFlags:
      return "exists_with_different_flags";
    case R::kExistsWithDifferentUserData128:
      return "exists_with_different_user_data_128";
    case R::kExistsWithDifferentUserData64:
      return "exists_with_different_user_data_64";
    case R::kExistsWithDifferentUserData32:
      return "exists_with_different_user_data_32";
    case R::kExistsWithDifferentLedger:
      return "exists_with_different_ledger";
    case R::kExistsWithDifferentCode:
      return "exists_with_different_code";
    case R::kExistsWithDifferentCreditLimit:
      return "exists_with_different_credit_limit";
    case R::kExists:
      return "exists";
    case R::kFlagsAreMutuallyExclusive:
      return "flags_are_mutually_exclusive";
    case R::kDebitsPendingMustBeZero:
      return "debits_pending_must_be_zero";
    case R::kDebitsPostedMustBeZero:
      return "debits_posted_must_be_zero";
    case R::kCreditsPendingMustBeZero:
      return "credits_pending_must_be_zero";
    case R::kCreditsPostedMustBeZero:
      return "credits_posted_must_be_zero";
    case R::kCreditLimitRequiresBalanceFlag:
      return "credit_limit_requires_balance_flag";
    case R::kLedgerMustNotBeZero:
      return "ledger_must_not_be_zero";
    case R::kCodeMustNotBeZero:
      return "code_must_not_be_zero";
  }
  return "unknown";
}

std::string_view CreateTransferResultName(CreateTransferResult result) {
  using R = CreateTransferResult;
  switch (result) {
    case R::kOk:
      return "ok";
    case R::kLinkedEventFailed:
      return "linked_event_failed";
    case R::kLinkedEventChainOpen:
      return "linked_event_chain_open";
    case R::kTimestampMustBeZero:
      return "timestamp_must_be_zero";
    case R::kReservedField:
      return "reserved_field";
    case R::kReservedFlag:
      return "reserved_flag";
    case R::kIdMustNotBeZero:
      return "id_must_not_be_zero";
    case R::kIdMustNotBeIntMax:
      return "id_must_not_be_int_max";
    case R::kIdAlreadyFailed:
      return "id_already_failed";
    case R::kExistsWithDifferentFlags:
      return "exists_with_different_flags";
    case R::kExistsWithDifferentPendingId:
      return "exists_with_different_pending_id";
    case R::kExistsWithDifferentTimeout:
      return "exists_with_different_timeout";
    case R::kExistsWithDifferentDebitAccountId:
      return "exists_with_different_debit_account_id";
    case R::kExistsWithDifferentCreditAccountId:
      return "exists_with_different_credit_account_id";
    case R::kExistsWithDifferentAmount:
      return "exists_with_different_amount";
    case R::kExistsWithDifferentUserData128:
      return "exists_with_different_user_data_128";
    case R::kExistsWithDifferentUserData64:
      return "exists_with_different_user_data_64";
    case R::kExistsWithDifferentUserData32:
      return "exists_with_different_user_data_32";
    case R::kExistsWithDifferentLedger:
      return "exists_with_different_ledger";
    case R::kExistsWithDifferentCode:
      return "exists_with_different_code";
    case R::kExists:
      return "exists";
    case R::kFlagsAreMutuallyExclusive:
      return "flags_are_mutually_exclusive";
    case R::kPendingIdMustBeZero:
      return "pending_id_must_be_zero";
    case R::kPendingIdMustNotBeZero:
      return "pending_id_must_not_be_zero";
    case R::kPendingIdMustNotBeIntMax:
      return "pending_id_must_not_be_int_max";
    case R::kPendingIdMustBeDifferent:
      return "pending_id_must_be_different";
    case R::kTimeoutReservedForPendingTransfer:
      return "timeout_reserved_for_pending_transfer";
    case R::kDebitAccountIdMustNotBeZero:
      return "debit_account_id_must_not_be_zero";
    case R::kDebitAccountIdMustNotBeIntMax:
      return "debit_account_id_must_not_be_int_max";
    case R::kCreditAccountIdMustNotBeZero:
      return "credit_account_id_must_not_be_zero";
    case R::kCreditAccountIdMustNotBeIntMax:
      return "credit_account_id_must_not_be_int_max";
    case R::kAccountsMustBeDifferent:
      return "accounts_must_be_different";
    case R::kLedgerMustNotBeZero:
      return "ledger_must_not_be_zero";
    case R::kCodeMustNotBeZero:
      return "code_must_not_be_zero";
    case R::kAmountMustNotBeZero:
      return "amount_must_not_be_zero";
    case R::kDebitAccountNotFound:
      return "debit_account_not_found";
    case R::kCreditAccountNotFound:
      return "credit_account_not_found";
    case R::kAccountsMustHaveTheSameLedger:
      return "accounts_must_have_the_same_ledger";
    case R::kTransferMustHaveTheSameLedgerAsAccounts:
      return "transfer_must_have_the_same_ledger_as_accounts";
    case R::kPendingTransferNotFound:
      return "pending_transfer_not_found";
    case R::kPendingTransferNotPending:
      return "pending_transfer_not_pending";
    case R::kPendingTransferHasDifferentDebitAccountId:
      return "pending_transfer_has_different_debit_account_id";
    case R::kPendingTransferHasDifferentCreditAccountId:
      return "pending_transfer_has_different_credit_account_id";
    case R::kPendingTransferHasDifferentLedger:
      return "pending_transfer_has_different_ledger";
    case R::kPendingTransferHasDifferentCode:
      return "pending_transfer_has_different_code";
    case R::kExceedsPendingTransferAmount:
      return "exceeds_pending_transfer_amount";
    case R::kPendingTransferHasDifferentAmount:
      return "pending_transfer_has_different_amount";
    case R::kPendingTransferAlreadyPosted:
      return "pending_transfer_already_posted";
    case R::kPendingTransferAlreadyVoided:
      return "pending_transfer_already_voided";
    case R::kPendingTransferExpired:
      return "pending_transfer_expired";
    case R::kOverflowsDebitsPending:
      return "overflows_debits_pending";
    case R::kOverflowsCreditsPending:
      return "overflows_credits_pending";
    case R::kOverflowsDebitsPosted:
      return "overflows_debits_posted";
    case R::kOverflowsCreditsPosted:
      return "overflows_credits_posted";
    case R::kOverflowsDebits:
      return "overflows_debits";
    case R::kOverflowsCredits:
      return "overflows_credits";
    case R::kOverflowsTimeout:
      return "overflows_timeout";
    case R::kExceedsCredits:
      return "exceeds_credits";
    case R::kExceedsDebits:
      return "exceeds_debits";
  }
  return "unknown";
}

bool IsTransientFailure(CreateTransferResult result) {
  using R = CreateTransferResult;
  switch (result) {
    case R::kDebitAccountNotFound:
    case R::kCreditAccountNotFound:
    case R::kPendingTransferNotFound:
    case R::kOverflowsDebitsPending:
    case R::kOverflowsCreditsPending:
    case R::kOverflowsDebitsPosted:
    case R::kOverflowsCreditsPosted:
    case R::kOverflowsDebits:
    case R::kOverflowsCredits:
    case R::kOverflowsTimeout:
    case R::kExceedsCredits:
    case R::kExceedsDebits:
      return true;
    default:
      return false;
  }
}

}  // namespace tapstack::ledger
