// BinTable: routes a card number to the institution that owns its range (issuer BIN ranges, and
// token BIN ranges that go to the token service first). Ranges are inclusive, compared on the
// leading digits of the PAN (6 to 11 digits, each range bound padded to the same length).
// Immutable after construction; Lookup is thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tapstack::network {

enum class RangeKind { kIssuer, kToken };

struct BinRange {
  std::string low;        // e.g. "62220200"
  std::string high;       // e.g. "62220299" (same length as low)
  std::string institution_id;  // the issuer (or, for tokens, the issuer behind the token range)
  RangeKind kind = RangeKind::kIssuer;
};

class BinTable {
 public:
  // Errors: bounds not digits, of different lengths, outside 6-11 digits, low > high, or a range
  // overlapping another (ambiguous routing is refused at load time, not at payment time).
  static Result<BinTable> Build(std::vector<BinRange> ranges);

  // The range containing `pan`. Errors: kNotFound when no range matches (DE39 "15" / "92").
  Result<const BinRange*> Lookup(std::string_view pan) const;
  std::size_t size() const { return ranges_.size(); }

 private:
  std::vector<BinRange> ranges_;  // sorted by (length desc, low)
};

}  // namespace tapstack::network
