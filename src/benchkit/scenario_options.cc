#include "benchkit/scenario_options.h"

#include <cerrno>
#include <cstdlib>

namespace tapstack::benchkit {

Result<std::int64_t> IntOption(const ScenarioConfig& config, const std::string& name,
                               std::int64_t min, std::int64_t max) {
  const auto it = config.options.find(name);
  if (it == config.options.end()) return InvalidArgument(name + ": not an option of this scenario");
  const std::string& text = it->second;
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || value < min || value > max) {
    return InvalidArgument(name + ": expected an integer " + std::to_string(min) + ".." +
                           std::to_string(max) + ", got \"" + text + "\"");
  }
  return static_cast<std::int64_t>(value);
}

}  // namespace tapstack::benchkit
