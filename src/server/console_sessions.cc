#include "server/console_sessions.h"

#include <algorithm>
#include <array>

#include "core/hex.h"
#include "crypto/hash.h"
#include "crypto/mac.h"

namespace tapstack::server {

namespace {

Bytes Sha256Of(std::string_view text) {
  auto digest = crypto::Sha256(AsBytes(text));
  return digest.ok() ? *digest : Bytes();
}

}  // namespace

ConsoleSessions::ConsoleSessions(std::string user, std::string password, const Clock& clock,
                                 RandomSource& random)
    : user_(std::move(user)), password_digest_(Sha256Of(password)), clock_(clock), random_(random) {}

std::string ConsoleSessions::Digest(std::string_view text) { return HexEncode(Sha256Of(text)); }

void ConsoleSessions::PruneLocked(std::int64_t now_ms) {
  std::erase_if(sessions_, [now_ms](const auto& entry) { return entry.second <= now_ms; });
  const std::int64_t window_start = now_ms - kSignInFailureWindowSeconds * 1'000;
  for (auto it = failures_.begin(); it != failures_.end();) {
    std::deque<std::int64_t>& times = it->second;
    while (!times.empty() && times.front() <= window_start) times.pop_front();
    it = times.empty() ? failures_.erase(it) : std::next(it);
  }
}

SignInResult ConsoleSessions::SignIn(std::string_view user, std::string_view password) {
  SignInResult result;
  if (user.empty() || user.size() > kConsoleCredentialBytesMax) {
    result.refusal = SignInRefusal::kBadInput;
    result.message = "user: expected 1 to " + std::to_string(kConsoleCredentialBytesMax) + " characters";
    return result;
  }
  if (password.empty() || password.size() > kConsoleCredentialBytesMax) {
    result.refusal = SignInRefusal::kBadInput;
    result.message =
        "password: expected 1 to " + std::to_string(kConsoleCredentialBytesMax) + " characters";
    return result;
  }
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_.NowUnixMillis();
  PruneLocked(now);
  const std::string name(user);
  if (auto it = failures_.find(name);
      it != failures_.end() && static_cast<int>(it->second.size()) >= kSignInFailuresMax) {
    const std::int64_t free_at = it->second.front() + kSignInFailureWindowSeconds * 1'000;
    result.refusal = SignInRefusal::kRateLimited;
    result.retry_after_seconds = std::max<std::int64_t>(1, (free_at - now + 999) / 1'000);
    result.message = "too many failed sign-ins for this user; try again in " +
                     std::to_string(result.retry_after_seconds) + " s";
    return result;
  }
  // Both compared whatever the first gives: no early exit for a wrong user.
  const bool user_ok = crypto::ConstantTimeEquals(Sha256Of(user), Sha256Of(user_));
  const bool password_ok =
      !password_digest_.empty() && crypto::ConstantTimeEquals(Sha256Of(password), password_digest_);
  if (!(user_ok && password_ok)) {
    bool tracked = true;
    if (failures_.size() >= kSignInUsersTrackedMax && !failures_.contains(name)) {
      // Bounded memory: drop the entry whose last failure is the oldest among those not locked
      // out; a locked entry (the admin's, under attack) is never dropped.
      auto oldest = failures_.end();
      for (auto it = failures_.begin(); it != failures_.end(); ++it) {
        if (static_cast<int>(it->second.size()) >= kSignInFailuresMax) continue;
        if (oldest == failures_.end() || it->second.back() < oldest->second.back()) oldest = it;
      }
      tracked = oldest != failures_.end();
      if (tracked) failures_.erase(oldest);
    }
    if (tracked) failures_[name].push_back(now);
    result.refusal = SignInRefusal::kBadCredentials;
    result.message = "unknown user or wrong password";
    return result;
  }
  failures_.erase(name);

  std::array<std::uint8_t, kConsoleSessionBytes> raw{};
  if (Status s = random_.Fill(raw); !s.ok()) {
    result.refusal = SignInRefusal::kInternal;
    result.message = "cannot draw a session: " + s.message();
    return result;
  }
  if (sessions_.size() >= kConsoleSessionsMax) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.second < b.second;
    });
    sessions_.erase(oldest);
  }
  result.session.token = HexEncode(raw);
  result.session.expires_unix_ms = now + kConsoleSessionValiditySeconds * 1'000;
  sessions_[Digest(result.session.token)] = result.session.expires_unix_ms;
  return result;
}

Status ConsoleSessions::Check(std::string_view token) {
  const std::string digest = Digest(token);
  std::lock_guard lock(mu_);
  auto it = sessions_.find(digest);
  if (it == sessions_.end() || it->second <= clock_.NowUnixMillis()) {
    return NotFound("expected Authorization: Bearer <console session> (unknown or expired session)");
  }
  return Status::Ok();
}

void ConsoleSessions::SignOut(std::string_view token) {
  const std::string digest = Digest(token);
  std::lock_guard lock(mu_);
  sessions_.erase(digest);
}

std::size_t ConsoleSessions::live_sessions() {
  std::lock_guard lock(mu_);
  PruneLocked(clock_.NowUnixMillis());
  return sessions_.size();
}

}  // namespace tapstack::server
