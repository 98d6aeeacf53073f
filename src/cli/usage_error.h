// UsageError: bad input on the command line (odd-length hex, wrong key length, unknown option).
// main() prints its message as one line on stderr and exits with kExitUsage.
#pragma once

#include <stdexcept>
#include <string>

#include "core/status.h"

namespace tapstack::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command ran and failed (e.g. a server error)
inline constexpr int kExitUsage = 2;    // the command line or its input was wrong

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Ends the command with a specific exit code after it has printed its own output (e.g.
// `tapstack qr decode` exits 1 for an invalid payload, its JSON already on stdout).
class ExitWithCode : public std::exception {
 public:
  ExitWithCode(int code, std::string reason) : code_(code), reason_(std::move(reason)) {}
  int code() const { return code_; }
  const char* what() const noexcept override { return reason_.c_str(); }

 private:
  int code_;
  std::string reason_;
};

// Returns the value of `result`, or throws UsageError naming `what` (e.g. "--key") on error.
template <typename T>
T ValueOrUsageError(Result<T> result, const std::string& what) {
  if (!result.ok()) throw UsageError(what + ": " + result.status().message());
  return std::move(result).value();
}

inline void OkOrUsageError(const Status& status, const std::string& what) {
  if (!status.ok()) throw UsageError(what + ": " + status.message());
}

}  // namespace tapstack::cli
