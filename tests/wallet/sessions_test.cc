// Users and sessions through the HTTP routes: sign-up, sign-in, expiry, sign-out, 401s.
#include <atomic>
#include <thread>
#include <vector>

#include "wallet/limits.h"
#include "wallet_test_support.h"

namespace tapstack::wallet::testing {
namespace {

class SessionsTest : public WalletHttpTest {};

TEST_P(SessionsTest, SignUpSignInAndUseTheSession) {
  HttpAnswer up = Call("POST", "/v1/users", {{"phone", kPhoneA}, {"password", kPassword}});
  ASSERT_EQ(up.status, 201) << up.body.dump();
  EXPECT_EQ(up.body["phone"], kPhoneA);
  EXPECT_EQ(up.body["user_id"].get<std::string>().size(), 32u);

  HttpAnswer in = Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", kPassword}});
  ASSERT_EQ(in.status, 201) << in.body.dump();
  std::string session = in.body["session"];
  EXPECT_EQ(session.size(), 64u);
  EXPECT_EQ(in.body["expires_unix_ms"], clock_.NowUnixMillis() + kSessionTtlSeconds * 1000);
  EXPECT_EQ(Call("GET", "/v1/devices", nullptr, session).status, 200);

  // Only the SHA-256 of the token is stored.
  auto rows = store_->Query("SELECT token_sha256 FROM wallet_sessions");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].GetBlob(0)->size(), 32u);
}

TEST_P(SessionsTest, SignUpRefusesBadPhoneShortPasswordAndDuplicates) {
  HttpAnswer bad = Call("POST", "/v1/users", {{"phone", "13800138000"}, {"password", kPassword}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["field"], "phone");
  HttpAnswer short_pw = Call("POST", "/v1/users", {{"phone", kPhoneA}, {"password", "1234567"}});
  EXPECT_EQ(short_pw.status, 400);
  EXPECT_EQ(short_pw.body["field"], "password");
  HttpAnswer missing = Call("POST", "/v1/users", {{"phone", kPhoneA}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body["field"], "password");
  ASSERT_EQ(Call("POST", "/v1/users", {{"phone", kPhoneA}, {"password", kPassword}}).status, 201);
  HttpAnswer dup = Call("POST", "/v1/users", {{"phone", kPhoneA}, {"password", kPassword}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.body["error"], "already_exists");
}

TEST_P(SessionsTest, WrongPasswordAndUnknownPhoneAnswerTheSame401) {
  ASSERT_EQ(Call("POST", "/v1/users", {{"phone", kPhoneA}, {"password", kPassword}}).status, 201);
  HttpAnswer wrong = Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", "wrong pass"}});
  HttpAnswer unknown = Call("POST", "/v1/sessions", {{"phone", kPhoneB}, {"password", kPassword}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.body["message"], unknown.body["message"]);
}

TEST_P(SessionsTest, RoutesNeedAValidBearerSession) {
  EXPECT_EQ(Call("GET", "/v1/cards").status, 401);
  EXPECT_EQ(Call("GET", "/v1/devices", nullptr, std::string(64, 'a')).status, 401);
  HttpAnswer a = Call("POST", "/v1/cards", nullptr, "not-a-session", "k1");
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body["error"], "unauthenticated");
}

TEST_P(SessionsTest, SessionExpiresAfterItsTtl) {
  std::string session = SignUpAndIn(kPhoneA);
  clock_.AdvanceMillis(kSessionTtlSeconds * 1000 - 1);
  EXPECT_EQ(Call("GET", "/v1/devices", nullptr, session).status, 200);
  clock_.AdvanceMillis(1);
  EXPECT_EQ(Call("GET", "/v1/devices", nullptr, session).status, 401);
}

TEST_P(SessionsTest, SignOutEndsOnlyThatSession) {
  std::string first = SignUpAndIn(kPhoneA);
  HttpAnswer in = Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", kPassword}});
  std::string second = in.body["session"];
  EXPECT_EQ(Call("DELETE", "/v1/sessions/current", nullptr, first).status, 204);
  EXPECT_EQ(Call("GET", "/v1/devices", nullptr, first).status, 401);
  EXPECT_EQ(Call("GET", "/v1/devices", nullptr, second).status, 200);
  EXPECT_EQ(Call("DELETE", "/v1/sessions/current", nullptr, first).status, 401);
}

// Sign-in rate limit (WalletService kSignInFailuresMax within kSignInFailureWindowSeconds).
TEST_P(SessionsTest, FifthWrongPasswordLocksThePhoneEvenForTheRightPassword) {
  ASSERT_EQ(Call("POST", "/v1/users", {{"phone", kPhoneA}, {"password", kPassword}}).status, 201);
  for (int i = 0; i < kSignInFailuresMax; ++i) {
    HttpAnswer wrong = Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", "wrong pass"}});
    ASSERT_EQ(wrong.status, 401) << "attempt " << i + 1 << ": " << wrong.body.dump();
  }
  HttpAnswer locked = Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", kPassword}});
  EXPECT_EQ(locked.status, 429) << locked.body.dump();
  EXPECT_EQ(locked.body["error"], "rate_limited");
  EXPECT_EQ(locked.body["retry_after_seconds"], kSignInFailureWindowSeconds);
  EXPECT_EQ(locked.headers["Retry-After"], std::to_string(kSignInFailureWindowSeconds));
  EXPECT_FALSE(locked.body.contains("session"));
  // Another phone is not affected.
  HttpAnswer other_up = Call("POST", "/v1/users", {{"phone", kPhoneB}, {"password", kPassword}});
  ASSERT_EQ(other_up.status, 201);
  EXPECT_EQ(Call("POST", "/v1/sessions", {{"phone", kPhoneB}, {"password", kPassword}}).status, 201);
  // The wait shrinks with time; refused attempts while locked do not extend it.
  clock_.AdvanceMillis(kSignInFailureWindowSeconds * 1000 - 1'500);
  HttpAnswer still = Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", kPassword}});
  EXPECT_EQ(still.status, 429);
  EXPECT_EQ(still.body["retry_after_seconds"], 2);
  clock_.AdvanceMillis(1'500);
  HttpAnswer free_again = Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", kPassword}});
  EXPECT_EQ(free_again.status, 201) << free_again.body.dump();
}

TEST_P(SessionsTest, FailuresOutsideTheWindowAndBeforeASuccessDoNotCount) {
  ASSERT_EQ(Call("POST", "/v1/users", {{"phone", kPhoneA}, {"password", kPassword}}).status, 201);
  auto fail = [&] {
    EXPECT_EQ(Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", "wrong pass"}}).status, 401);
  };
  for (int i = 0; i < kSignInFailuresMax - 1; ++i) fail();
  // A success clears the count: four more failures do not lock.
  ASSERT_EQ(Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", kPassword}}).status, 201);
  for (int i = 0; i < kSignInFailuresMax - 1; ++i) fail();
  // The window slides: after it, the old failures are forgotten.
  clock_.AdvanceMillis(kSignInFailureWindowSeconds * 1000);
  fail();
  EXPECT_EQ(Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", kPassword}}).status, 201);
}

TEST_P(SessionsTest, UnknownPhonesAreLimitedTheSameWay) {
  // No account for kPhoneB: the limit must not tell registered numbers from others.
  for (int i = 0; i < kSignInFailuresMax; ++i) {
    EXPECT_EQ(Call("POST", "/v1/sessions", {{"phone", kPhoneB}, {"password", kPassword}}).status, 401);
  }
  HttpAnswer locked = Call("POST", "/v1/sessions", {{"phone", kPhoneB}, {"password", kPassword}});
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(locked.body["error"], "rate_limited");
  EXPECT_EQ(service_->SignInRetryAfterSeconds(kPhoneB), kSignInFailureWindowSeconds);
  EXPECT_EQ(service_->SignInRetryAfterSeconds(kPhoneA), 0);
}

// The limit holds under concurrency: a guess is counted before its password is checked, so many
// guesses at once cannot all be checked before the first failure lands.
TEST_P(SessionsTest, ConcurrentWrongGuessesCheckAtMostTheLimit) {
  ASSERT_EQ(Call("POST", "/v1/users", {{"phone", kPhoneA}, {"password", kPassword}}).status, 201);
  constexpr int kGuessers = 32;
  std::atomic<int> waiting{kGuessers};
  std::atomic<int> checked{0};  // answered "wrong": the password was checked
  std::atomic<int> refused{0};  // answered "rate limited" without a check
  std::atomic<int> other{0};
  std::vector<std::thread> guessers;
  for (int i = 0; i < kGuessers; ++i) {
    guessers.emplace_back([&, i] {
      // Start together: each thread waits until every thread is ready.
      --waiting;
      while (waiting.load() > 0) std::this_thread::yield();
      auto r = service_->SignIn(kPhoneA, "wrong pass " + std::to_string(i));
      if (!r.ok() && r.status().code() == ErrorCode::kNotFound) {
        ++checked;
      } else if (!r.ok() && r.status().code() == ErrorCode::kFailedPrecondition) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : guessers) t.join();
  EXPECT_EQ(checked.load(), kSignInFailuresMax);
  EXPECT_EQ(refused.load(), kGuessers - kSignInFailuresMax);
  EXPECT_EQ(other.load(), 0);
  // Every reservation became a counted failure: the phone is locked for the whole window.
  EXPECT_EQ(service_->SignInRetryAfterSeconds(kPhoneA), kSignInFailureWindowSeconds);
  EXPECT_EQ(Call("POST", "/v1/sessions", {{"phone", kPhoneA}, {"password", kPassword}}).status, 429);
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(SessionsTest);

}  // namespace
}  // namespace tapstack::wallet::testing
