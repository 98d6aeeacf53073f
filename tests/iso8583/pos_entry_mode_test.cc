#include "iso8583/pos_entry_mode.h"

#include <gtest/gtest.h>

namespace tapstack::iso8583 {
namespace {

TEST(PosEntryModeTest, ContactlessTap) {
  auto m = PosEntryMode::Parse("071");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->pan_entry, static_cast<std::uint8_t>(PanEntryMode::kContactlessChip));
  EXPECT_EQ(m->pin_capability, static_cast<std::uint8_t>(PinCapability::kCanAcceptPin));
  EXPECT_TRUE(m->is_contactless());
  EXPECT_EQ(m->ToField(), "071");
  EXPECT_TRUE(PosEntryMode::Parse("912")->is_contactless());
  EXPECT_FALSE(PosEntryMode::Parse("051")->is_contactless());
}

TEST(PosEntryModeTest, RejectsMalformed) {
  EXPECT_FALSE(PosEntryMode::Parse("07").ok());
  EXPECT_FALSE(PosEntryMode::Parse("0711").ok());
  EXPECT_FALSE(PosEntryMode::Parse("0a1").ok());
}

}  // namespace
}  // namespace tapstack::iso8583
