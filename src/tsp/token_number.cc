#include "tsp/token_number.h"

#include <algorithm>

#include "core/hex.h"
#include "core/pan.h"
#include "tsp/limits.h"

namespace tapstack::tsp {

namespace {

std::uint64_t ParseDigits(std::string_view digits) {
  std::uint64_t v = 0;
  for (char c : digits) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  return v;
}

std::string FormatDigits(std::uint64_t value, std::size_t width) {
  std::string out(width, '0');
  for (std::size_t i = width; i-- > 0; value /= 10) out[i] = static_cast<char>('0' + value % 10);
  return out;
}

Status CheckBin(std::string_view bin, std::size_t min_digits, std::size_t max_digits,
                const std::string& field) {
  if (!IsAllDigits(bin) || bin.size() < min_digits || bin.size() > max_digits) {
    return InvalidArgument(field + ": expected " +
                           (min_digits == max_digits
                                ? std::to_string(min_digits)
                                : std::to_string(min_digits) + "-" + std::to_string(max_digits)) +
                           " digits");
  }
  return Status::Ok();
}

}  // namespace

Result<TokenNumberGenerator> TokenNumberGenerator::Create(
    std::vector<TokenBinRange> token_ranges, const std::vector<IssuerBinRange>& issuer_ranges,
    KnownPanPredicate is_known_pan) {
  if (token_ranges.empty()) return InvalidArgument("token_ranges: at least one range is needed");
  if (token_ranges.size() > kTokenBinRangesMax) {
    return InvalidArgument("token_ranges: " + std::to_string(token_ranges.size()) +
                           " ranges; at most " + std::to_string(kTokenBinRangesMax));
  }
  if (issuer_ranges.size() > kIssuerBinRangesMax) {
    return InvalidArgument("issuer_ranges: " + std::to_string(issuer_ranges.size()) +
                           " ranges; at most " + std::to_string(kIssuerBinRangesMax));
  }
  TokenNumberGenerator g;
  for (std::size_t i = 0; i < token_ranges.size(); ++i) {
    const TokenBinRange& r = token_ranges[i];
    const std::string field = "token_ranges[" + std::to_string(i) + "]";
    TS_RETURN_IF_ERROR(CheckBin(r.low, kTokenBinDigits, kTokenBinDigits, field + ".low"));
    TS_RETURN_IF_ERROR(CheckBin(r.high, kTokenBinDigits, kTokenBinDigits, field + ".high"));
    if (r.token_digits < kTokenDigitsMin || r.token_digits > kTokenDigitsMax) {
      return InvalidArgument(field + ".token_digits: " + std::to_string(r.token_digits) +
                             " outside " + std::to_string(kTokenDigitsMin) + "-" +
                             std::to_string(kTokenDigitsMax));
    }
    Range p{ParseDigits(r.low), ParseDigits(r.high), r.token_digits};
    if (p.low > p.high) return InvalidArgument(field + ": low " + r.low + " > high " + r.high);
    for (std::size_t j = 0; j < g.parsed_.size(); ++j) {
      if (p.low <= g.parsed_[j].high && g.parsed_[j].low <= p.high) {
        return InvalidArgument(field + " overlaps token_ranges[" + std::to_string(j) + "]");
      }
    }
    g.parsed_.push_back(p);
    g.bins_total_ += p.high - p.low + 1;
  }
  for (std::size_t k = 0; k < issuer_ranges.size(); ++k) {
    const IssuerBinRange& ir = issuer_ranges[k];
    const std::string field = "issuer_ranges[" + std::to_string(k) + "]";
    TS_RETURN_IF_ERROR(CheckBin(ir.low, 6, kTokenBinDigits, field + ".low"));
    TS_RETURN_IF_ERROR(CheckBin(ir.high, 6, kTokenBinDigits, field + ".high"));
    // A shorter prefix covers every 8-digit BIN it starts: pad low with 0s and high with 9s.
    std::string low8 = ir.low, high8 = ir.high;
    low8.resize(kTokenBinDigits, '0');
    high8.resize(kTokenBinDigits, '9');
    const std::uint64_t lo = ParseDigits(low8), hi = ParseDigits(high8);
    if (lo > hi) return InvalidArgument(field + ": low " + ir.low + " > high " + ir.high);
    for (std::size_t j = 0; j < g.parsed_.size(); ++j) {
      if (lo <= g.parsed_[j].high && g.parsed_[j].low <= hi) {
        return InvalidArgument("token_ranges[" + std::to_string(j) + "] overlaps " + field + " (" +
                               ir.low + "-" + ir.high +
                               "): token ranges must be disjoint from "
                               "issuer BINs");
      }
    }
  }
  g.ranges_ = std::move(token_ranges);
  g.is_known_pan_ = std::move(is_known_pan);
  return g;
}

Result<std::string> TokenNumberGenerator::Generate(RandomSource& random,
                                                   const TokenTakenPredicate& is_taken) const {
  for (int attempt = 0; attempt < kTokenNumberAttemptsMax; ++attempt) {
    TS_ASSIGN_OR_RETURN(std::uint64_t bin_index, random.Uniform(bins_total_));
    const Range* range = nullptr;
    for (const Range& r : parsed_) {
      const std::uint64_t size = r.high - r.low + 1;
      if (bin_index < size) {
        range = &r;
        break;
      }
      bin_index -= size;
    }
    if (range == nullptr) return Internal("token BIN index outside the configured ranges");
    // token_digits <= 19, so the random part has at most 10 digits: 10^10 fits in 64 bits.
    const std::size_t random_digits = range->token_digits - kTokenBinDigits - 1;
    std::uint64_t bound = 1;
    for (std::size_t i = 0; i < random_digits; ++i) bound *= 10;
    TS_ASSIGN_OR_RETURN(std::uint64_t middle, random.Uniform(bound));
    std::string number =
        FormatDigits(range->low + bin_index, kTokenBinDigits) + FormatDigits(middle, random_digits);
    TS_ASSIGN_OR_RETURN(char check, LuhnCheckDigit(number));
    number += check;
    if (is_known_pan_ && is_known_pan_(number)) continue;
    TS_ASSIGN_OR_RETURN(bool taken, is_taken(number));
    if (taken) continue;
    return number;
  }
  return FailedPrecondition("no free token number after " +
                            std::to_string(kTokenNumberAttemptsMax) +
                            " draws: the token BIN ranges are too full or overlap known PANs");
}

bool TokenNumberGenerator::InTokenRange(std::string_view number) const {
  if (!IsAllDigits(number) || number.size() < kTokenBinDigits) return false;
  const std::uint64_t bin = ParseDigits(number.substr(0, kTokenBinDigits));
  return std::any_of(parsed_.begin(), parsed_.end(), [&](const Range& r) {
    return bin >= r.low && bin <= r.high && number.size() == r.token_digits;
  });
}

}  // namespace tapstack::tsp
