// Helpers shared by the crypto tests: hex in, hex out.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/hex.h"
#include "crypto/secret_bytes.h"

namespace tapstack::crypto::testing {

// Decodes hex that the test itself supplies; a bad literal is a bug in the test.
inline Bytes Hex(std::string_view hex) {
  Result<Bytes> decoded = HexDecode(hex);
  if (!decoded.ok()) ADD_FAILURE() << "bad hex literal in test: " << decoded.status().ToString();
  return decoded.ok() ? std::move(decoded).value() : Bytes{};
}

inline SecretBytes Key(std::string_view hex) { return SecretBytes(Hex(hex)); }

inline std::string ToHex(ByteView bytes) { return HexEncode(bytes); }

// The ASCII bytes of a string (e.g. "abc" for hash vectors).
inline Bytes Ascii(std::string_view text) {
  ByteView view = AsBytes(text);
  return {view.begin(), view.end()};
}

// The status of a Status or a Result, so one macro checks both.
inline Status StatusOf(const Status& status) { return status; }
template <typename T>
Status StatusOf(const Result<T>& result) {
  return result.status();
}

}  // namespace tapstack::crypto::testing

// Unwraps a Result in a test, failing with its status when it holds an error.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(TS_CONCAT_(assert_result_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)  \
  auto tmp = (expr);                                \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
#define EXPECT_OK(expr)                                                                       \
  do {                                                                                        \
    const ::tapstack::Status expect_ok_status_ = ::tapstack::crypto::testing::StatusOf(expr); \
    EXPECT_TRUE(expect_ok_status_.ok()) << expect_ok_status_.ToString();                      \
  } while (false)
#define EXPECT_CODE(expr, expected_code)                                                        \
  do {                                                                                          \
    const ::tapstack::Status expect_code_status_ = ::tapstack::crypto::testing::StatusOf(expr); \
    EXPECT_EQ(expect_code_status_.code(), (expected_code)) << expect_code_status_.ToString();   \
  } while (false)
