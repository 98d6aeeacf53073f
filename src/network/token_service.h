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
//
// OnTokenUseAnswered tells the service how each use of a token ended, so it can keep the token's
// transaction history for the wallet. The switch calls it exactly once for every authorisation
// or financial request (x100, x200, and their repeats when new to the switch) from an acquirer
// whose DE2 is in a token range, once the answer to the acquirer is decided — approved, declined
// by the issuer, by the token service itself (Detokenize failed), by the switch (format error,
// routing) or answered in stand-in — and just before that answer is sent. Not for reversals,
// advices, completions, true duplicates (94) or repeats answered from the duplicate store: the
// first answer was already reported. Not for "15" when no token service is set (nobody to tell).
// Which thread: the one that settles the answer — an acquirer request thread (the switch's own
// declines), an issuer link's response thread, or the switch's store writer thread (approvals,
// after their clearing record is committed; stand-in answers after their advice is stored).
// It must be fast (the acquirer's answer waits for it; queue any slow work) and must not throw.
// The outcome carries the token, never the funding PAN.
#pragma once

#include <cstdint>
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

// How one use of a token ended (OnTokenUseAnswered), from the acquirer's request and the answer
// the switch gave it.
struct TokenUseOutcome {
  std::string token_number;              // DE2 as the acquirer sent it
  std::string mti;                       // of the request: 0100, 0101, 0200 or 0201
  std::int64_t amount_minor = 0;         // DE4, in currency_numeric (0 when DE4 was missing)
  std::uint16_t currency_numeric = 0;    // DE49, ISO 4217 (0 when missing or not 3 digits)
  std::string merchant;                  // DE43 name and location, without its space padding
  std::string mcc;                       // DE18
  std::string pos_entry_mode;            // DE22
  std::string response_code;             // DE39 given to the acquirer
  std::string approval_code;             // DE38, may be empty
  std::string stan;                      // DE11
  std::string terminal_id;               // DE41 without its space padding
  std::int64_t time_unix_ms = 0;         // the switch's clock when the answer was decided
};

class TokenService {
 public:
  virtual ~TokenService() = default;
  // Maps the token in `request` (DE2, with DE14, DE48 token data, DE55 cryptogram, DE18/DE42
  // for domain checks) to the funding PAN. Errors as listed above.
  virtual Result<Detokenized> Detokenize(const iso8583::Message& request) = 0;

  // The answer to one use of a token (see above for when, on which thread, and the rules: fast,
  // never throws). Default: nothing.
  virtual void OnTokenUseAnswered(const TokenUseOutcome& outcome) { (void)outcome; }
};

}  // namespace tapstack::network
