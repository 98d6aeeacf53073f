#include "server/console_sessions.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random_source.h"

namespace tapstack::server {
namespace {

class ConsoleSessionsTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  SeededRandom random_{7};
  ConsoleSessions sessions_{"admin", "s3cret-console", clock_, random_};
};

TEST_F(ConsoleSessionsTest, SignInGivesASessionThatExpires) {
  const SignInResult r = sessions_.SignIn("admin", "s3cret-console");
  ASSERT_EQ(r.refusal, SignInRefusal::kNone) << r.message;
  EXPECT_EQ(r.session.token.size(), 2 * kConsoleSessionBytes);
  EXPECT_EQ(r.session.token.find_first_not_of("0123456789abcdefABCDEF"), std::string::npos);
  EXPECT_EQ(r.session.expires_unix_ms, clock_.NowUnixMillis() + kConsoleSessionValiditySeconds * 1'000);
  EXPECT_TRUE(sessions_.Check(r.session.token).ok());
  EXPECT_EQ(sessions_.live_sessions(), 1u);

  clock_.AdvanceMillis(kConsoleSessionValiditySeconds * 1'000 - 1);
  EXPECT_TRUE(sessions_.Check(r.session.token).ok());
  clock_.AdvanceMillis(1);
  EXPECT_EQ(sessions_.Check(r.session.token).code(), ErrorCode::kNotFound);
  EXPECT_EQ(sessions_.live_sessions(), 0u);
}

TEST_F(ConsoleSessionsTest, EachSignInIsANewSessionAndSignOutEndsOne) {
  const SignInResult a = sessions_.SignIn("admin", "s3cret-console");
  const SignInResult b = sessions_.SignIn("admin", "s3cret-console");
  ASSERT_EQ(a.refusal, SignInRefusal::kNone);
  ASSERT_EQ(b.refusal, SignInRefusal::kNone);
  EXPECT_NE(a.session.token, b.session.token);
  sessions_.SignOut(a.session.token);
  sessions_.SignOut(a.session.token);  // idempotent
  EXPECT_EQ(sessions_.Check(a.session.token).code(), ErrorCode::kNotFound);
  EXPECT_TRUE(sessions_.Check(b.session.token).ok());
}

TEST_F(ConsoleSessionsTest, UnknownTokensAreRefused) {
  EXPECT_EQ(sessions_.Check("").code(), ErrorCode::kNotFound);
  EXPECT_EQ(sessions_.Check(std::string(64, 'a')).code(), ErrorCode::kNotFound);
}

TEST_F(ConsoleSessionsTest, WrongUserAndWrongPasswordLookTheSame) {
  const SignInResult wrong_password = sessions_.SignIn("admin", "guess");
  const SignInResult wrong_user = sessions_.SignIn("root", "s3cret-console");
  const SignInResult prefix = sessions_.SignIn("admin", "s3cret-consol");
  EXPECT_EQ(wrong_password.refusal, SignInRefusal::kBadCredentials);
  EXPECT_EQ(wrong_user.refusal, SignInRefusal::kBadCredentials);
  EXPECT_EQ(prefix.refusal, SignInRefusal::kBadCredentials);
  EXPECT_EQ(wrong_password.message, wrong_user.message);
  EXPECT_TRUE(wrong_password.session.token.empty());
  EXPECT_EQ(sessions_.live_sessions(), 0u);
}

TEST_F(ConsoleSessionsTest, FailedSignInsAreRateLimitedPerUser) {
  for (int i = 0; i < kSignInFailuresMax; ++i) {
    clock_.AdvanceMillis(1'000);
    EXPECT_EQ(sessions_.SignIn("admin", "wrong").refusal, SignInRefusal::kBadCredentials) << i;
  }
  // Locked: even the right password is refused, with when to retry (the first failure was 1 s
  // after the start and leaves the 60 s window 56 s from now).
  const SignInResult locked = sessions_.SignIn("admin", "s3cret-console");
  EXPECT_EQ(locked.refusal, SignInRefusal::kRateLimited);
  EXPECT_EQ(locked.retry_after_seconds, kSignInFailureWindowSeconds - kSignInFailuresMax + 1);
  EXPECT_TRUE(locked.session.token.empty());
  // Another name is not locked by this one's failures.
  EXPECT_EQ(sessions_.SignIn("operator", "wrong").refusal, SignInRefusal::kBadCredentials);

  clock_.AdvanceMillis(locked.retry_after_seconds * 1'000);
  EXPECT_EQ(sessions_.SignIn("admin", "s3cret-console").refusal, SignInRefusal::kNone);
  // Success clears the count: five more failures are needed to lock again.
  for (int i = 0; i < kSignInFailuresMax - 1; ++i) sessions_.SignIn("admin", "wrong");
  EXPECT_EQ(sessions_.SignIn("admin", "s3cret-console").refusal, SignInRefusal::kNone);
}

TEST_F(ConsoleSessionsTest, FillingTheTrackerWithOtherNamesDoesNotUnlockAUser) {
  for (int i = 0; i < kSignInFailuresMax; ++i) sessions_.SignIn("admin", "wrong");
  ASSERT_EQ(sessions_.SignIn("admin", "s3cret-console").refusal, SignInRefusal::kRateLimited);
  // Names that sort after "admin" fill the table; its locked entry must survive them all.
  for (std::size_t i = 0; i <= kSignInUsersTrackedMax; ++i) {
    clock_.AdvanceMillis(1);
    sessions_.SignIn("zz" + std::to_string(i), "wrong");
  }
  EXPECT_EQ(sessions_.SignIn("admin", "s3cret-console").refusal, SignInRefusal::kRateLimited);
}

TEST_F(ConsoleSessionsTest, BadInputNamesTheField) {
  const SignInResult empty_user = sessions_.SignIn("", "x");
  EXPECT_EQ(empty_user.refusal, SignInRefusal::kBadInput);
  EXPECT_EQ(empty_user.message.rfind("user:", 0), 0u) << empty_user.message;
  const SignInResult long_password = sessions_.SignIn("admin", std::string(kConsoleCredentialBytesMax + 1, 'p'));
  EXPECT_EQ(long_password.refusal, SignInRefusal::kBadInput);
  EXPECT_EQ(long_password.message.rfind("password:", 0), 0u) << long_password.message;
}

TEST_F(ConsoleSessionsTest, LiveSessionsAreBounded) {
  for (std::size_t i = 0; i < kConsoleSessionsMax + 5; ++i) {
    clock_.AdvanceMillis(1);
    ASSERT_EQ(sessions_.SignIn("admin", "s3cret-console").refusal, SignInRefusal::kNone);
  }
  EXPECT_EQ(sessions_.live_sessions(), kConsoleSessionsMax);
}

}  // namespace
}  // namespace tapstack::server
