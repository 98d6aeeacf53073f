// Helpers shared by the emv tests: hex in and out, and Status/Result assertions.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/hex.h"
#include "core/status.h"

namespace tapstack::emv::testing {

// Decodes hex or fails the test (returns empty bytes then).
inline Bytes Hex(std::string_view hex) {
  Result<Bytes> bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << "bad hex in test: " << hex;
  return bytes.ok() ? *bytes : Bytes();
}

inline std::string ToHex(ByteView bytes) { return HexEncode(bytes); }

}  // namespace tapstack::emv::testing

#define EMV_EXPECT_OK(expr)                                  \
  do {                                                       \
    const ::tapstack::Status emv_status_ = (expr);           \
    EXPECT_TRUE(emv_status_.ok()) << emv_status_.ToString(); \
  } while (false)

#define EMV_ASSERT_OK(expr)                                  \
  do {                                                       \
    const ::tapstack::Status emv_status_ = (expr);           \
    ASSERT_TRUE(emv_status_.ok()) << emv_status_.ToString(); \
  } while (false)

// `EMV_ASSERT_OK_AND_ASSIGN(auto x, MakeX())`: fails the test on error, else declares x.
#define EMV_ASSERT_OK_AND_ASSIGN(lhs, expr) \
  EMV_ASSERT_OK_AND_ASSIGN_IMPL_(TS_CONCAT_(emv_result_, __LINE__), lhs, expr)
#define EMV_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();    \
  lhs = std::move(tmp).value()
