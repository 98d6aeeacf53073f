#include "network/bin_table.h"

#include <algorithm>

#include "core/hex.h"

namespace tapstack::network {

namespace {
constexpr std::size_t kBinDigitsMin = 6;
constexpr std::size_t kBinDigitsMax = 11;
}  // namespace

Result<BinTable> BinTable::Build(std::vector<BinRange> ranges) {
  for (const BinRange& r : ranges) {
    const std::string what = "BIN range " + r.low + "-" + r.high + " (" + r.institution_id + ")";
    if (!IsAllDigits(r.low) || !IsAllDigits(r.high) || r.low.size() != r.high.size() ||
        r.low.size() < kBinDigitsMin || r.low.size() > kBinDigitsMax) {
      return InvalidArgument(what + ": bounds must be digits of equal length 6-11");
    }
    if (r.low > r.high) return InvalidArgument(what + ": low is above high");
    if (r.institution_id.empty()) return InvalidArgument(what + ": no institution");
  }
  // Overlap check: compare every pair at the shorter length (tables have hundreds of ranges).
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    for (std::size_t j = i + 1; j < ranges.size(); ++j) {
      const BinRange& a = ranges[i];
      const BinRange& b = ranges[j];
      const std::size_t n = std::min(a.low.size(), b.low.size());
      auto lo = [n](const std::string& s) { return s.substr(0, n); };
      if (lo(a.low) <= lo(b.high) && lo(b.low) <= lo(a.high)) {
        return InvalidArgument("BIN ranges " + a.low + "-" + a.high + " and " + b.low + "-" +
                               b.high + " overlap");
      }
    }
  }
  BinTable table;
  table.ranges_ = std::move(ranges);
  std::sort(table.ranges_.begin(), table.ranges_.end(), [](const BinRange& a, const BinRange& b) {
    return a.low.size() != b.low.size() ? a.low.size() > b.low.size() : a.low < b.low;
  });
  return table;
}

Result<const BinRange*> BinTable::Lookup(std::string_view pan) const {
  // Ranges of one length are sorted by low bound: binary search per length group.
  auto group_begin = ranges_.begin();
  while (group_begin != ranges_.end()) {
    const std::size_t len = group_begin->low.size();
    auto group_end = std::find_if(group_begin, ranges_.end(),
                                  [len](const BinRange& r) { return r.low.size() != len; });
    if (pan.size() >= len) {
      std::string_view prefix = pan.substr(0, len);
      auto it = std::upper_bound(group_begin, group_end, prefix,
                                 [](std::string_view p, const BinRange& r) { return p < r.low; });
      if (it != group_begin && prefix <= std::prev(it)->high) return &*std::prev(it);
    }
    group_begin = group_end;
  }
  return NotFound("no BIN range for card " + std::string(pan.substr(0, std::min<std::size_t>(6, pan.size()))) + "…");
}

}  // namespace tapstack::network
