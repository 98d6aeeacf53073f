// Token numbers: random, Luhn-valid surrogates for a PAN, drawn from token BIN ranges.
//
// EMVCo's Tokenisation Framework (restated in emv-and-tokenization.md §2): a payment token is a
// 13-19 digit Luhn-valid number that never equals or collides with a real PAN, taken from token
// BIN ranges the BIN owner (here the network) designates, so acquirers route it like a PAN and the
// network knows to de-tokenise. The digits after the BIN are uniformly random (PCI tokenisation
// guidance: no mathematical link to the PAN), never derived from the PAN.
//
// Guarantees, in order of strength:
//   * configuration: token ranges must not overlap each other or any issuer BIN range (Create
//     refuses it), so a token can never be a PAN of a configured issuer;
//   * per draw: the caller's KnownPanPredicate (e.g. "is this number in the issuer BIN table or a
//     known card") must say no;
//   * per draw: the caller's `is_taken` (the vault's uniqueness check, including deleted tokens)
//     must say no; the vault's UNIQUE constraint is the final guard against a concurrent writer.
//
// Thread-safety: a TokenNumberGenerator is immutable after Create; Generate is thread-safe if the
// predicates and the RandomSource are.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/random_source.h"
#include "core/status.h"

namespace tapstack::tsp {

// A token BIN range owned by the network: 8-digit BINs `low`..`high` inclusive, and the length of
// the token numbers issued from it.
struct TokenBinRange {
  std::string low;   // 8 digits
  std::string high;  // 8 digits, >= low
  std::size_t token_digits = 16;
};

// An issuer BIN range: prefixes of 6-8 digits, inclusive ("622202".."622202" covers every PAN
// starting 622202). Compared with token ranges at 8-digit granularity.
struct IssuerBinRange {
  std::string low;
  std::string high;
};

// True when `number` is (or may be) a real PAN. Must be thread-safe if Generate is shared.
using KnownPanPredicate = std::function<bool(std::string_view number)>;
// True when `number` is already used by a token (live or deleted). Errors abort generation.
using TokenTakenPredicate = std::function<Result<bool>(std::string_view number)>;

class TokenNumberGenerator {
 public:
  // Errors (kInvalidArgument, naming the field, e.g. "token_ranges[1].low"): no token ranges or
  // more than kTokenBinRangesMax; a BIN that is not 8 digits (6-8 for issuer ranges); low > high;
  // token_digits outside kTokenDigitsMin..kTokenDigitsMax; two token ranges overlapping; a token
  // range overlapping an issuer range. `is_known_pan` may be empty (no per-number check).
  static Result<TokenNumberGenerator> Create(std::vector<TokenBinRange> token_ranges,
                                             const std::vector<IssuerBinRange>& issuer_ranges,
                                             KnownPanPredicate is_known_pan);

  // Draws a token number: a BIN chosen uniformly over all configured BINs, uniformly random
  // middle digits, and the Luhn check digit. Redraws when a predicate says the number is a known
  // PAN or taken. Errors: the random source's or is_taken's error; kFailedPrecondition when
  // kTokenNumberAttemptsMax draws were all refused (the ranges are too full).
  Result<std::string> Generate(RandomSource& random, const TokenTakenPredicate& is_taken) const;

  // True when `number` has a token range's length and its first 8 digits are in that range.
  bool InTokenRange(std::string_view number) const;

  const std::vector<TokenBinRange>& ranges() const { return ranges_; }

 private:
  struct Range {
    std::uint64_t low = 0;
    std::uint64_t high = 0;
    std::size_t token_digits = 0;
  };
  TokenNumberGenerator() = default;

  std::vector<TokenBinRange> ranges_;
  std::vector<Range> parsed_;
  std::uint64_t bins_total_ = 0;
  KnownPanPredicate is_known_pan_;
};

}  // namespace tapstack::tsp
