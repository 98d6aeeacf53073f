// RateSource: the card network's exchange rates as a wallet platform sees them (the network owns
// the table: network/fx.h; server/ adapts it). A quote is exact: a decimal rate (mantissa and
// scale), the markup in basis points on top, rounding half up once, to the target currency's
// minor unit.
#pragma once

#include <cstdint>
#include <string>

#include "core/amount.h"
#include "core/status.h"

namespace tapstack::qrpay {

struct FxConversion {
  Amount from{Cny()};
  Amount to{Cny()};               // markup included
  std::int64_t rate_mantissa = 0;  // published rate = mantissa / 10^scale (1 `from` buys rate `to`)
  int rate_scale = 0;
  std::int64_t markup_bps = 0;
  std::string source;             // e.g. "tapstack demo rates"
  std::string business_date;      // YYYY-MM-DD
};

class RateSource {
 public:
  virtual ~RateSource() = default;
  // Converts `amount` into `to` with `markup_bps` on top (identity, markup included, when the
  // currencies are equal). Errors: kNotFound (no rate for the pair); kOutOfRange (overflow).
  virtual Result<FxConversion> Convert(const Amount& amount, const Currency& to,
                                       std::int64_t markup_bps) const = 0;
};

}  // namespace tapstack::qrpay
