// Conditional (smart-contract) payments: the terms of a contract and the rules that move its
// locked value. Contracts are data — one of three typed templates, given as JSON — validated
// before they lock anything; the rules below are deterministic functions of the terms and the
// contract's state, so the operator that enforces them (dcep/contract_book.h) can replay them.
//
// PBOC white paper §3.2.7 (programmability "according to predefined conditions"); the Chengdu
// Longquanyi prepaid-tuition pilot (2022: each lesson releases a pro-rata share, undelivered
// lessons are refunded) is the model of the first template.
//
// Templates (JSON members; all required unless marked optional; unknown members are refused):
//   prepaid_service  {"template":"prepaid_service","payer_wallet":W,"merchant_id":M,
//                     "amount_fen":N,"units":U,"unit_name":str (optional),"expires_unix_ms":T}
//       N is locked from W. "deliver" k units (by the merchant) releases the pro-rata share of
//       k units to M; "cancel" (by the payer) refunds what is undelivered; at T the rest is
//       refunded automatically.
//   escrow           {"template":"escrow","payer_wallet":W,"payee_wallet":P,"amount_fen":N,
//                     "expires_unix_ms":T}
//       "confirm" (by the payer) releases N to P; "cancel" (by the payee: it declines the deal)
//       or T refunds W.
//   subsidy          {"template":"subsidy","payer_wallet":F,"beneficiary_wallet":B,
//                     "amount_fen":N,"allowed_mcc":["5411",...],"expires_unix_ms":T}
//       The funder F locks N for B; B "spend"s it at merchants whose MCC is allowed, before T;
//       at T the unspent rest returns to F.
// Amounts are fen (e-CNY, minor units), currency CNY implied.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tapstack::dcep {

inline constexpr std::int64_t kContractAmountFenMax = 100'000'000'000;  // 1 billion yuan
inline constexpr std::int64_t kContractUnitsMax = 10'000;
inline constexpr std::size_t kContractMccsMax = 64;
inline constexpr std::size_t kContractTermsBytesMax = 8 * 1024;
inline constexpr std::size_t kUnitNameBytesMax = 32;

enum class ContractTemplate { kPrepaidService, kEscrow, kSubsidy };

// "prepaid_service", "escrow", "subsidy".
std::string_view ContractTemplateName(ContractTemplate kind);

struct ContractTerms {
  ContractTemplate kind = ContractTemplate::kEscrow;
  std::string payer_wallet;        // who locks the value (the funder of a subsidy)
  std::string payee_wallet;        // escrow: who receives on confirmation
  std::string merchant_id;         // prepaid_service: the provider
  std::string beneficiary_wallet;  // subsidy: who may spend
  std::int64_t amount_fen = 0;
  std::int64_t units = 0;  // prepaid_service
  std::string unit_name;   // prepaid_service, for display ("lesson")
  std::vector<std::string> allowed_mcc;  // subsidy: ISO 18245 codes, 4 digits each
  std::int64_t expires_unix_ms = 0;

  friend bool operator==(const ContractTerms&, const ContractTerms&) = default;
};

// Parses and validates terms. `now_unix_ms` is the operator's clock: a contract that has already
// expired is refused. Errors (kInvalidArgument) name the member and what was expected, e.g.
// "units: expected an integer from 1 to 10000", "expires_unix_ms: already past", "allowed_mcc[1]:
// expected 4 digits"; also a payee equal to the payer.
Result<ContractTerms> ParseContractTerms(std::string_view json_text, std::int64_t now_unix_ms);

// The canonical JSON of `terms` (members in a fixed order), for storage and digests: parsing it
// gives the same terms back.
std::string ContractTermsJson(const ContractTerms& terms);

// What has happened to a contract so far.
struct ContractProgress {
  std::int64_t units_delivered = 0;  // prepaid_service
  std::int64_t released_fen = 0;     // paid out to the merchant / payee / subsidy merchants
  std::int64_t refunded_fen = 0;     // returned to the payer
  bool closed = false;               // nothing is locked any more
};

// The value still locked.
std::int64_t LockedFen(const ContractTerms& terms, const ContractProgress& progress);

// prepaid_service: the fen that delivering `units` more releases, after `delivered` units: the
// pro-rata share floor(N·(d+k)/U) − floor(N·d/U), so the shares of all U units add up to exactly N
// (rounding never loses or invents a fen). Errors: kInvalidArgument (k < 1), kOutOfRange (more
// units than remain).
Result<std::int64_t> PrepaidReleaseFen(const ContractTerms& terms, std::int64_t delivered,
                                       std::int64_t units);

// subsidy: OK when `mcc` is allowed; kFailedPrecondition naming the MCC otherwise.
Status CheckSubsidyMcc(const ContractTerms& terms, std::string_view mcc);

}  // namespace tapstack::dcep
