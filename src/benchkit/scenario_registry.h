// Every `tapstack bench` scenario, in the order `tapstack bench list` shows them.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "benchkit/scenario.h"
#include "core/status.h"

namespace tapstack::benchkit {

// New (not Setup) instances of every scenario.
std::vector<std::unique_ptr<Scenario>> AllScenarios();

// A new instance of the scenario called `name`. Errors (kNotFound): unknown name; the message
// lists the known ones.
Result<std::unique_ptr<Scenario>> MakeScenario(std::string_view name);

}  // namespace tapstack::benchkit
