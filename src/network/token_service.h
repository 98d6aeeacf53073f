// TokenService: the switch's de-tokenisation step (the "TSP step" of the pipeline in switch.h)
// for card numbers in token BIN ranges (BinRange::kind == RangeKind::kToken).
//
// For a request whose DE2 is in a token range the switch asks the token service for the funding
// PAN, forwards DE2 = PAN to the issuer with the token in DE48 sub-element TK
// (iso8583/token_data.h), and answers the acquirer with DE2 = the token again.
// Response codes the switch gives (DE44 says why):
//   no token service set           15 "no token service": for routing purposes the range has no
//                                     reachable owner, as for a BIN no issuer is connected to
//   kNotFound, kInvalidArgument,   14 invalid card number: unknown, inactive or domain-restricted
//   kFailedPrecondition               token (the token is the card number the acquirer sent)
//   kUnavailable                   91 token service inoperative
//   anything else                  96 system malfunction
// A funding PAN that is itself in a token range or in no issuer range gets 14.
// Implementations must be thread-safe (called from the switch's request threads) and fast: the
// call is synchronous.
#pragma once

#include <string>

#include "core/status.h"
#include "iso8583/message.h"

namespace tapstack::network {

struct Detokenized {
  std::string pan;     // funding PAN: forwarded in DE2
  std::string expiry;  // YYMM of the funding PAN (DE14), empty to leave DE14 as sent
  // Tag 91 value bytes for the card (Book 2 8.2: ARPC || ARC for method 1), when the service
  // validated the token's ARQC on the issuer's behalf; empty otherwise. The ARPC carries ARC
  // "3030" (approve) because it is made before the issuer decides, so the switch returns it to
  // the acquirer in DE55 (TLV 91) with an approval only: a declined card gets no ARPC and stays
  // declined. On the way it rides in the request's DE48 as sub-element IA (hex), which the
  // issuer also sees and ignores (unknown tags are forwarded, iso8583/token_data.h).
  std::string issuer_authentication_data{};  // {}: Detokenized{pan, expiry} stays warning-free
};

class TokenService {
 public:
  virtual ~TokenService() = default;
  // Maps the token in `request` (DE2, with DE14, DE48 token data, DE55 cryptogram, DE18/DE42
  // for domain checks) to the funding PAN. Errors as listed above.
  virtual Result<Detokenized> Detokenize(const iso8583::Message& request) = 0;
};

}  // namespace tapstack::network
