// TspTokenService: the switch's TSP step (network/token_service.h) served in-process by the TSP
// (tsp::TspService): it reads the token use from the ISO 8583 request and returns the funding PAN
// with the ARPC for the card, and it records how each use ended in the token's history (what the
// wallet shows as the card's transactions).
//
// Which check a request gets, by MTI (ISO 8583:1987 positions 2-3):
//   x100 / x200 authorisation and financial requests (class 1 or 2, function 0; repeats x101 /
//       x201 too): the full authorisation (token state, domain controls, ATC, ARQC; DE2, DE4,
//       DE14, DE22, DE23, DE48 DI/TR, DE49, DE55), tsp/token_authorization.h;
//   anything else (0400 reversals, 0220 completions, 0120 advices): the follow-up of an authorised
//       use, which carries no fresh cryptogram and must not spend an ATC: the token is only mapped
//       back to its PAN (audited; the token must still be active, as TokenVault::Detokenize
//       requires, so a reversal of a purchase on a token suspended meanwhile does not reach the
//       issuer, whose hold then expires on its own; the follow-up of a credit, DE3 "20", reaches
//       a suspended token as the credit itself did).
//
// Thread-safety: the switch calls from its request threads. Detokenize is synchronous: it returns
// once the use's ATC record and audit entry committed. Concurrent calls share one commit
// (tsp::TspService group-commits them), so throughput grows with the number of threads calling at
// once; a switch that calls from only a couple of I/O threads gets about two uses per fsync.
// OnTokenUseAnswered only queues the history entry (written by a background thread).
#pragma once

#include "iso8583/message.h"
#include "network/token_service.h"
#include "tsp/tsp_service.h"

namespace tapstack::server {

class TspTokenService final : public network::TokenService {
 public:
  // `tsp` is not owned and must outlive this object and every call.
  explicit TspTokenService(tsp::TspService& tsp) : tsp_(tsp) {}

  // Errors: tsp::TspService::Authorize's / ResolveFollowUp's; kInvalidArgument for a request
  // field that is missing or malformed (DE2, DE4, DE22, DE49, DE23, DE48), named.
  Result<network::Detokenized> Detokenize(const iso8583::Message& request) override;
  // Appends the outcome to the token's history (tsp::TspService::RecordUse; never fails).
  void OnTokenUseAnswered(const network::TokenUseOutcome& outcome) override;

 private:
  tsp::TspService& tsp_;
};

}  // namespace tapstack::server
