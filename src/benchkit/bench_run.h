// One whole `tapstack bench <scenario>` run: Setup in a scratch directory, the measured run, then
// the peer, gathered into a RunResult.
#pragma once

#include <map>
#include <string>

#include "benchkit/progress.h"
#include "benchkit/run_result.h"
#include "benchkit/scenario.h"
#include "core/status.h"

namespace tapstack::benchkit {

struct BenchRequest {
  RunLimits limits;
  // Scenario options given on the command line, by name with dashes; the others take their
  // defaults. Unknown names are an error.
  std::map<std::string, std::string> options;
  bool measure_peer = true;  // false: the peer is reported as skipped, never silently absent
};

// Runs `scenario` (new, not Setup) as `request` says; `progress` may be null. The scratch
// directory (under TMPDIR) is removed afterwards. Errors: a bad limit or option
// (kInvalidArgument), the scenario's Setup error. Failed operations are counted in the result.
Result<RunResult> RunBench(Scenario& scenario, const BenchRequest& request, Progress* progress);

}  // namespace tapstack::benchkit
