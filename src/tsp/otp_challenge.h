// OtpChallenges: the step-up of the yellow provisioning path (emv-and-tokenization.md §4): the
// issuer asked for more than account verification, so the TSP sends a one-time password to the
// cardholder's phone and activates the token only when the wallet returns it.
//
// Rules (each a named limit below):
//   * the OTP is kOtpDigits decimal digits drawn uniformly from the RandomSource (no modulo bias);
//   * it is stored only as otp_mac = HMAC-SHA-256(otp_key, "tapstack-otp-v1" ‖ 0x00 ‖ token_id ‖
//     0x00 ‖ otp): binding the token id means a MAC copied to another challenge does not verify,
//     and the key means a database reader cannot search the 10^6 codes offline;
//   * a code is valid for kOtpValiditySeconds; an expired code counts no attempt (kExpired);
//   * every wrong code counts one attempt; the kOtpAttemptsMax-th wrong code locks the challenge
//     and locks the card out of provisioning for kOtpLockoutSeconds (a row keyed by
//     lockout_key = HMAC-SHA-256(otp_key, "tapstack-otp-lockout-v1" ‖ 0x00 ‖ PAN), never the PAN).
//     The caller deletes the pending token (Provisioning does, through TokenLifecycle);
//   * a new code for the same pending token (the wallet asks again) replaces the old one with a
//     fresh expiry but keeps the attempts already used: asking again never buys more guesses;
//   * comparisons are constant-time (crypto::ConstantTimeEquals).
// The lock and the lock-out are written in the same transaction as the attempt that caused them.
// Issue and Verify join a transaction the caller has open on the store (store_transaction.h), so
// provisioning commits a challenge together with its token.
//
// Thread-safety: none (one thread at a time, like its Store). `store`, `clock` and `random` are
// not owned and must outlive the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/pan.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "store/store.h"

namespace tapstack::tsp {

inline constexpr std::size_t kOtpDigits = 6;

// The SMS that carries `otp` to the cardholder.
std::string OtpSmsText(std::string_view otp);
// The OTP in an SMS text (the first run of exactly kOtpDigits digits), or "" when it holds none:
// what a person reads off the phone. `tapstack demo`, tests and benchmarks read the SMS outbox.
std::string OtpFromSmsText(std::string_view text);
inline constexpr int kOtpAttemptsMax = 5;
inline constexpr std::int64_t kOtpValiditySeconds = 300;
// After kOtpAttemptsMax wrong codes the card may not be provisioned again for an hour: long enough
// to stop guessing across re-requests (each costs an ID&V round trip to the issuer), short enough
// for a cardholder who mistyped to retry the same day. tapstack's choice.
inline constexpr std::int64_t kOtpLockoutSeconds = 3600;
inline constexpr std::size_t kOtpKeyBytes = 32;

struct OtpIssued {
  std::string otp;  // the code to send; never stored or logged
  std::int64_t expires_unix_ms = 0;
  int attempts_left = kOtpAttemptsMax;
};

enum class OtpOutcome { kVerified, kMismatch, kExpired, kLocked };

struct OtpCheck {
  OtpOutcome outcome = OtpOutcome::kMismatch;
  int attempts_left = 0;
};

class OtpChallenges {
 public:
  // Applies the TSP schema. Errors: kInvalidArgument when otp_key is not kOtpKeyBytes; the store's.
  static Result<std::unique_ptr<OtpChallenges>> Open(store::Store& store, const Clock& clock,
                                                     RandomSource& random,
                                                     crypto::SecretBytes otp_key);

  // The keyed hash that identifies `pan` in the lock-out table. Errors: kCryptoFailure.
  Result<Bytes> LockoutKey(const Pan& pan) const;
  // The time until which `pan` is locked out of provisioning, or 0 when it is not.
  Result<std::int64_t> LockedOutUntil(const Pan& pan);

  // A fresh code for the pending token `token_id` (see the rules above), stored as its MAC.
  // Errors: kInvalidArgument (empty token id, phone not E.164); kFailedPrecondition when the
  // token's challenge is locked or its attempts are used up; the random source's; the store's.
  Result<OtpIssued> Issue(std::string_view token_id, const Pan& pan, std::string_view phone);

  // Checks `otp` for `token_id`. Returns kVerified (also for a repeat of the right code after a
  // success, so a retried call gets the same answer), kMismatch with the attempts left, kExpired,
  // or kLocked (now or earlier). Errors: kInvalidArgument (otp not kOtpDigits digits; nothing is
  // counted); kNotFound (no challenge for the token); the store's.
  Result<OtpCheck> Verify(std::string_view token_id, std::string_view otp);

 private:
  OtpChallenges(store::Store& store, const Clock& clock, RandomSource& random,
                crypto::SecretBytes key)
      : store_(store), clock_(clock), random_(random), key_(std::move(key)) {}

  Result<Bytes> OtpMac(std::string_view token_id, std::string_view otp) const;

  store::Store& store_;
  const Clock& clock_;
  RandomSource& random_;
  crypto::SecretBytes key_;
};

}  // namespace tapstack::tsp
