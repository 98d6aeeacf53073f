// Reading a scenario's options (ScenarioConfig::options, defaults filled in) as numbers.
#pragma once

#include <cstdint>
#include <string>

#include "benchkit/scenario.h"
#include "core/status.h"

namespace tapstack::benchkit {

// The option `name` (with dashes) as an integer in min..max. Errors (kInvalidArgument, naming
// the option and the range): not a decimal integer, out of range, or not an option of `config`.
Result<std::int64_t> IntOption(const ScenarioConfig& config, const std::string& name,
                               std::int64_t min, std::int64_t max);

}  // namespace tapstack::benchkit
