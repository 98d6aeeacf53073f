// Runs a peer program (node, psql) and captures what it prints: the peers of some scenarios live
// outside this process.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace tapstack::benchkit {

struct ChildOutput {
  int exit_code = -1;   // the program's exit status; 127 when it could not be started
  std::string output;   // stdout and stderr together, at most kChildOutputBytesMax
};

inline constexpr std::size_t kChildOutputBytesMax = 1 << 20;

// Runs argv[0] (looked up on PATH) with `argv` in `working_dir`, waits for it to exit.
// No shell is involved: arguments are passed as they are. Errors (kIoError): pipe or fork failed.
Result<ChildOutput> RunChild(const std::vector<std::string>& argv,
                             const std::filesystem::path& working_dir);

}  // namespace tapstack::benchkit
