// TspTokenService: the switch's TSP step (network/token_service.h) served in-process by the TSP's
// tsp::TokenAuthorization: it reads the token use from the ISO 8583 request and returns the
// funding PAN with the ARPC for the card.
//
// Which check a request gets, by MTI (ISO 8583:1987 positions 2-3):
//   x100 / x200 authorisation and financial requests (class 1 or 2, function 0; repeats x101 /
//       x201 too): the full authorisation (token state, domain controls, ATC, ARQC; DE2, DE4,
//       DE14, DE22, DE23, DE48 DI/TR, DE49, DE55), tsp/token_authorization.h;
//   anything else (0400 reversals, 0220 completions, 0120 advices): the follow-up of an authorised
//       use, which carries no fresh cryptogram and must not spend an ATC: the token is only mapped
//       back to its PAN (audited; the token must still be active, as TokenVault::Detokenize
//       requires; so a reversal of a token suspended meanwhile does not reach the issuer, whose
//       hold then expires on its own).
//
// Thread-safety: the switch calls Detokenize from its request threads; one mutex serialises every
// use of the TokenAuthorization (and so of the vault and the stores under it, which are one
// connection each and not thread-safe). It is synchronous and does store writes (ATC record,
// audit entries) on the switch's request path: throughput is one token use at a time.
#pragma once

#include <mutex>
#include <string_view>

#include "crypto/secret_bytes.h"
#include "iso8583/message.h"
#include "network/token_service.h"
#include "tsp/token_authorization.h"

namespace tapstack::server {

// IMK-AC of the published CVN-MC-20 vector in tests/vectors/emv_crypto.json (pyemv): the demo
// network's issuer master key for its token BIN range. A test key anyone can read; a deployment
// takes the key handle from its HSM/KMS.
inline constexpr std::string_view kDemoTokenImkHex = "0123456789ABCDEFFEDCBA9876543210";
crypto::SecretBytes DemoTokenImk();

class TspTokenService final : public network::TokenService {
 public:
  // `authorization` is not owned and must outlive this object and every call.
  explicit TspTokenService(tsp::TokenAuthorization& authorization)
      : authorization_(authorization) {}

  // Errors: tsp::TokenAuthorization::Authorize's / ResolveFollowUp's; kInvalidArgument for a
  // request field that is missing or malformed (DE2, DE4, DE22, DE49, DE23, DE48), named.
  Result<network::Detokenized> Detokenize(const iso8583::Message& request) override;

 private:
  std::mutex mu_;
  tsp::TokenAuthorization& authorization_;
};

}  // namespace tapstack::server
