// WalletService: sign-up, sign-in, sessions.
#include <cctype>
#include <functional>

#include "core/hex.h"
#include "crypto/hash.h"
#include "wallet/limits.h"
#include "wallet/wallet_service.h"

namespace tapstack::wallet {

namespace {

// E.164 (ITU-T E.164 section 6): '+', then a country code and number, at most 15 digits, no
// leading 0.
Status CheckPhone(std::string_view phone) {
  std::string_view digits = phone.substr(phone.empty() ? 0 : 1);
  if (phone.empty() || phone[0] != '+' || !IsAllDigits(digits) || digits.size() < kPhoneDigitsMin ||
      digits.size() > kPhoneDigitsMax || digits[0] == '0') {
    return InvalidArgument("phone: expected E.164, '+' and 8-15 digits without a leading 0");
  }
  return Status::Ok();
}

Result<Bytes> TokenHash(std::string_view session_token) {
  return crypto::Sha256(AsBytes(session_token));
}

}  // namespace

Result<User> WalletService::SignUp(std::string_view phone, std::string_view password) {
  TS_RETURN_IF_ERROR(CheckPhone(phone));
  if (password.size() < kPasswordBytesMin || password.size() > crypto::kPasswordBytesMax) {
    return InvalidArgument("password: expected 8-1024 bytes");
  }
  // Hash outside the lock: scrypt takes tens of milliseconds by design.
  TS_ASSIGN_OR_RETURN(std::string hash,
                      crypto::HashPassword(password, *random_, options_.password_params));
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(std::string user_id, NewId());
  User user{.user_id = user_id, .phone = std::string(phone), .created_unix_ms = NowMs()};
  auto inserted = store_->Execute(
      "INSERT INTO wallet_users (user_id, phone, password_hash, default_card_id, created_unix_ms) "
      "VALUES (?, ?, ?, NULL, ?) ON CONFLICT (phone) DO NOTHING",
      {user.user_id, user.phone, hash, user.created_unix_ms});
  if (!inserted.ok()) return inserted.status();
  if (*inserted == 0) return AlreadyExists("phone: already registered");
  return user;
}

std::int64_t WalletService::SignInRetryAfterMsLocked(const std::string& phone, std::int64_t now_ms) {
  int failures = 0;
  if (auto it = sign_in_failures_.find(phone); it != sign_in_failures_.end()) {
    std::deque<std::int64_t>& times = it->second;
    const std::int64_t window_start = now_ms - kSignInFailureWindowSeconds * 1'000;
    while (!times.empty() && times.front() <= window_start) times.pop_front();
    failures = static_cast<int>(times.size());
    if (times.empty()) {
      sign_in_failures_.erase(it);
    } else if (failures >= kSignInFailuresMax) {
      // Free again when the oldest failure that still counts leaves the window.
      return times[times.size() - kSignInFailuresMax] + kSignInFailureWindowSeconds * 1'000 - now_ms;
    }
  }
  // Checks in flight may each become a failure: together with the failures they use the slots.
  auto in_flight = sign_ins_in_flight_.find(phone);
  if (in_flight != sign_ins_in_flight_.end() && failures + in_flight->second >= kSignInFailuresMax) {
    return kSignInInFlightRetrySeconds * 1'000;
  }
  return 0;
}

void WalletService::ReleaseSignInLocked(const std::string& phone) {
  auto it = sign_ins_in_flight_.find(phone);
  if (it != sign_ins_in_flight_.end() && --it->second <= 0) sign_ins_in_flight_.erase(it);
}

void WalletService::RecordSignInFailureLocked(const std::string& phone, std::int64_t now_ms) {
  if (sign_in_failures_.size() >= kSignInPhonesTrackedMax && !sign_in_failures_.contains(phone)) {
    // Room for one more: drop the entry whose last failure is the oldest among those not locked
    // out. A locked entry is never dropped (that would unlock the phone for anyone who can fill
    // the table); when every entry is locked this failure goes uncounted.
    auto oldest = sign_in_failures_.end();
    for (auto it = sign_in_failures_.begin(); it != sign_in_failures_.end(); ++it) {
      if (static_cast<int>(it->second.size()) >= kSignInFailuresMax) continue;
      if (oldest == sign_in_failures_.end() || it->second.back() < oldest->second.back()) oldest = it;
    }
    if (oldest == sign_in_failures_.end()) return;
    sign_in_failures_.erase(oldest);
  }
  std::deque<std::int64_t>& times = sign_in_failures_[phone];
  times.push_back(now_ms);
  // Only the last kSignInFailuresMax failures matter for the limit.
  while (static_cast<int>(times.size()) > kSignInFailuresMax) times.pop_front();
}

std::int64_t WalletService::SignInRetryAfterSeconds(std::string_view phone) {
  std::lock_guard<std::mutex> lock(sign_in_mu_);
  const std::int64_t ms = SignInRetryAfterMsLocked(std::string(phone), NowMs());
  return ms <= 0 ? 0 : (ms + 999) / 1'000;
}

Result<Session> WalletService::SignIn(std::string_view phone, std::string_view password) {
  TS_RETURN_IF_ERROR(CheckPhone(phone));
  if (password.empty() || password.size() > crypto::kPasswordBytesMax) {
    return InvalidArgument("password: expected 1-1024 bytes");
  }
  const std::string phone_key(phone);
  {
    // Checked before the password: while limited, the right password is refused too, so guessing
    // on gains nothing. The slot is reserved in the same step (kSignInInFlightRetrySeconds).
    std::lock_guard<std::mutex> lock(sign_in_mu_);
    const std::int64_t retry_ms = SignInRetryAfterMsLocked(phone_key, NowMs());
    if (retry_ms > 0) {
      return FailedPrecondition("phone: too many failed sign-ins; try again in " +
                                std::to_string((retry_ms + 999) / 1'000) + " s");
    }
    ++sign_ins_in_flight_[phone_key];
  }
  // Ends the reservation on every path out (an error of the store too); a wrong password turns
  // it into a failure in the same step, so the slot is never free in between.
  bool failed = false;
  struct Reservation {
    std::function<void()> end;
    ~Reservation() { end(); }
  } reservation{[&] {
    std::lock_guard<std::mutex> lock(sign_in_mu_);
    ReleaseSignInLocked(phone_key);
    if (failed) RecordSignInFailureLocked(phone_key, NowMs());
  }};
  auto count_failure = [&] { failed = true; };
  std::string user_id;
  std::string hash;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto row = store_->QueryRow("SELECT user_id, password_hash FROM wallet_users WHERE phone = ?",
                                {phone});
    if (!row.ok() && row.status().code() != ErrorCode::kNotFound) return row.status();
    if (row.ok()) {
      TS_ASSIGN_OR_RETURN(user_id, row->GetText("user_id"));
      TS_ASSIGN_OR_RETURN(hash, row->GetText("password_hash"));
    }
  }
  // The same answer for an unknown phone and a wrong password, so sign-in does not reveal which
  // phone numbers have accounts.
  const Status wrong = NotFound("phone or password is wrong");
  if (user_id.empty()) {
    count_failure();
    return wrong;
  }
  Status verified = crypto::VerifyPassword(password, hash);
  if (verified.code() == ErrorCode::kCryptoFailure) {
    count_failure();
    return wrong;
  }
  TS_RETURN_IF_ERROR(verified);
  {
    std::lock_guard<std::mutex> lock(sign_in_mu_);
    sign_in_failures_.erase(phone_key);  // a success starts the count afresh
  }

  Bytes raw(kSessionTokenBytes);
  TS_RETURN_IF_ERROR(random_->Fill(raw));
  Session session;
  session.token = HexEncode(raw);
  SecureWipe(raw.data(), raw.size());
  for (char& c : session.token) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  session.user_id = user_id;
  TS_ASSIGN_OR_RETURN(Bytes token_hash, TokenHash(session.token));
  std::lock_guard<std::mutex> lock(mu_);
  std::int64_t now = NowMs();
  session.expires_unix_ms = now + kSessionTtlSeconds * 1000;
  TS_RETURN_IF_ERROR(store_
                         ->Execute("INSERT INTO wallet_sessions (token_sha256, user_id, "
                                   "created_unix_ms, expires_unix_ms) "
                                   "VALUES (?, ?, ?, ?)",
                                   {token_hash, user_id, now, session.expires_unix_ms})
                         .status());
  // Expired sessions of this user are of no use any more.
  TS_RETURN_IF_ERROR(
      store_
          ->Execute("DELETE FROM wallet_sessions WHERE user_id = ? AND expires_unix_ms <= ?",
                    {user_id, now})
          .status());
  return session;
}

Status WalletService::SignOut(std::string_view session_token) {
  TS_ASSIGN_OR_RETURN(Bytes token_hash, TokenHash(session_token));
  std::lock_guard<std::mutex> lock(mu_);
  TS_ASSIGN_OR_RETURN(std::int64_t deleted,
                      store_->Execute("DELETE FROM wallet_sessions WHERE token_sha256 = ? AND "
                                      "expires_unix_ms > ?",
                                      {token_hash, NowMs()}));
  if (deleted == 0) return NotFound("session: unknown, signed out or expired");
  return Status::Ok();
}

Result<std::string> WalletService::Authenticate(std::string_view session_token) {
  if (session_token.size() != 2 * kSessionTokenBytes) {
    return NotFound("session: unknown, signed out or expired");
  }
  TS_ASSIGN_OR_RETURN(Bytes token_hash, TokenHash(session_token));
  std::lock_guard<std::mutex> lock(mu_);
  auto row = store_->QueryRow(
      "SELECT user_id FROM wallet_sessions WHERE token_sha256 = ? AND expires_unix_ms > ?",
      {token_hash, NowMs()});
  if (!row.ok()) {
    if (row.status().code() == ErrorCode::kNotFound) {
      return NotFound("session: unknown, signed out or expired");
    }
    return row.status();
  }
  return row->GetText("user_id");
}

}  // namespace tapstack::wallet
