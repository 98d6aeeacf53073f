// Short in-process runs of a `tapstack bench` scenario for the scenario tests.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "benchkit/bench_run.h"
#include "benchkit/scenario_registry.h"

namespace tapstack::benchkit::testing {

// Runs scenario `name` within `limits` with `options`; fails the test on a set-up error.
inline Result<RunResult> RunScenarioForTest(const std::string& name, const RunLimits& limits,
                                            const std::map<std::string, std::string>& options) {
  TS_ASSIGN_OR_RETURN(std::unique_ptr<Scenario> scenario, MakeScenario(name));
  BenchRequest request;
  request.limits = limits;
  request.options = options;
  request.measure_peer = false;
  return RunBench(*scenario, request, nullptr);
}

// The value of detail `key`, or "" when the scenario did not report it.
inline std::string Detail(const RunResult& r, const std::string& key) {
  for (const auto& [k, v] : r.details) {
    if (k == key) return v;
  }
  return "";
}

}  // namespace tapstack::benchkit::testing
