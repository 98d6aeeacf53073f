// ConsoleSessions: the operations console's sign-in. One admin account (ServeConfig
// console_user / console_password), separate from wallet users: a wallet session is never a
// console session.
//
//   * A session is 32 random bytes (crypto::Csprng in production) shown once as 64 hex digits;
//     only its SHA-256 is kept, in memory (a restart signs everyone out), and it expires
//     kConsoleSessionValiditySeconds after sign-in.
//   * Failed sign-ins are limited per user name: after kSignInFailuresMax failures within
//     kSignInFailureWindowSeconds every sign-in for that name (even with the right password) is
//     refused until the oldest failure leaves the window (OWASP Authentication Cheat Sheet,
//     "Login Throttling"). A wrong user and a wrong password get the same answer.
//   * The password is compared in constant time (SHA-256 of both, crypto::ConstantTimeEquals), so
//     neither its content nor its length leaks through timing.
//
// Thread-safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/random_source.h"
#include "core/status.h"

namespace tapstack::server {

inline constexpr std::int64_t kConsoleSessionValiditySeconds = 8 * 3600;  // one working shift
inline constexpr std::size_t kConsoleSessionBytes = 32;
inline constexpr std::size_t kConsoleSessionsMax = 1'000;  // live sessions kept; then the oldest goes
inline constexpr int kSignInFailuresMax = 5;
inline constexpr std::int64_t kSignInFailureWindowSeconds = 60;
inline constexpr std::size_t kSignInUsersTrackedMax = 10'000;  // names with recent failures
inline constexpr std::size_t kConsoleCredentialBytesMax = 256;  // user or password

struct ConsoleSession {
  std::string token;  // 64 hex digits; the caller shows it once
  std::int64_t expires_unix_ms = 0;
};

// Why a sign-in was refused.
enum class SignInRefusal {
  kNone,
  kBadCredentials,  // wrong user or password (the same for both)
  kRateLimited,     // too many recent failures: retry_after_seconds says when to try again
  kBadInput,        // empty or over-long user or password
  kInternal,        // the random source failed
};

struct SignInResult {
  SignInRefusal refusal = SignInRefusal::kNone;
  ConsoleSession session;               // when refusal is kNone
  std::int64_t retry_after_seconds = 0;  // when kRateLimited
  std::string message;                  // when refused
};

class ConsoleSessions {
 public:
  // `clock` and `random` are not owned and must outlive this object.
  ConsoleSessions(std::string user, std::string password, const Clock& clock, RandomSource& random);

  SignInResult SignIn(std::string_view user, std::string_view password);

  // OK when `token` is a live session. Errors: kNotFound (unknown, expired or signed out; the same
  // message for all three).
  Status Check(std::string_view token);

  // Ends the session. Idempotent.
  void SignOut(std::string_view token);

  std::size_t live_sessions();

 private:
  static std::string Digest(std::string_view text);  // SHA-256, hex
  void PruneLocked(std::int64_t now_ms);

  const std::string user_;
  const Bytes password_digest_;
  const Clock& clock_;
  RandomSource& random_;
  std::mutex mu_;
  std::map<std::string, std::int64_t> sessions_;  // SHA-256 of the token (hex) → expiry
  std::map<std::string, std::deque<std::int64_t>> failures_;  // user → failure times (ms)
};

}  // namespace tapstack::server
