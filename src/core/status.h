// Status and Result<T>: the one error type at every boundary where input can be bad.
//
// A Status is either OK or carries an ErrorCode plus a human-readable message that names what was
// wrong (which field, what was expected). OK costs one enum compare and an empty string.
// Exceptions are reserved for programmer errors and start-up failures.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tapstack {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,    // malformed input: bad hex, wrong length, failed Luhn, unknown option
  kOutOfRange,         // a value outside its domain: overflow, limit exceeded
  kNotFound,           // a looked-up entity does not exist
  kAlreadyExists,      // unique constraint, duplicate id with a different body
  kFailedPrecondition, // the system is not in a state that allows the call
  kCryptoFailure,      // OpenSSL refused, or a MAC/signature did not verify
  kIoError,            // disk or network failure, including a failed sync
  kUnavailable,        // a peer or server cannot be reached (lost connection)
  kCorruption,         // stored data does not decode as what was written
  kInternal,           // a bug: an invariant did not hold
};

// Stable lowercase name of a code, e.g. "invalid_argument"; used in logs and JSON errors.
std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid_argument: field 4: expected 12 digits" or "ok".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `, keeping the code.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(message)};
}
inline Status OutOfRange(std::string message) { return {ErrorCode::kOutOfRange, std::move(message)}; }
inline Status NotFound(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
inline Status AlreadyExists(std::string message) {
  return {ErrorCode::kAlreadyExists, std::move(message)};
}
inline Status FailedPrecondition(std::string message) {
  return {ErrorCode::kFailedPrecondition, std::move(message)};
}
inline Status CryptoFailure(std::string message) {
  return {ErrorCode::kCryptoFailure, std::move(message)};
}
inline Status IoError(std::string message) { return {ErrorCode::kIoError, std::move(message)}; }
inline Status Unavailable(std::string message) { return {ErrorCode::kUnavailable, std::move(message)}; }
inline Status Corruption(std::string message) { return {ErrorCode::kCorruption, std::move(message)}; }
inline Status Internal(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(state_).ok()) {
      state_ = Status(ErrorCode::kInternal, "Result constructed from an OK status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(state_); }

  // The error; Status::Ok() when a value is present.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(state_); }

  // Value accessors: calling these on an error is a programmer error (std::bad_variant_access).
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace tapstack

#define TS_CONCAT_INNER_(a, b) a##b
#define TS_CONCAT_(a, b) TS_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` (a Status) is not OK.
#define TS_RETURN_IF_ERROR(expr) TS_RETURN_IF_ERROR_IMPL_(TS_CONCAT_(ts_status_, __LINE__), expr)
#define TS_RETURN_IF_ERROR_IMPL_(tmp, expr) \
  do {                                      \
    ::tapstack::Status tmp = (expr);        \
    if (!tmp.ok()) return tmp;              \
  } while (false)

// `TS_ASSIGN_OR_RETURN(auto x, MakeX())` declares x from a Result or returns its Status.
#define TS_ASSIGN_OR_RETURN(lhs, expr) TS_ASSIGN_OR_RETURN_IMPL_(TS_CONCAT_(ts_result_, __LINE__), lhs, expr)
#define TS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
