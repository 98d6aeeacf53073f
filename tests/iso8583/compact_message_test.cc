// CompactMessage / ExpandMessage: the round trip keeps every field, the MTI and the forced
// secondary bitmap, and the compact form is about the wire size, not the 1.5 KiB slot table.
#include "iso8583/compact_message.h"

#include <gtest/gtest.h>

#include "iso8583/codec.h"
#include "iso8583/profile.h"
#include "sample_messages.h"

namespace tapstack::iso8583 {
namespace {

TEST(CompactMessageTest, RoundTripKeepsEveryFieldAndIsAboutTheWireSize) {
  Message m = testing::ContactlessAuthorization();
  m.Set(90, std::string(42, '0'));  // a secondary-bitmap field
  m.Set(127, std::string(999, 'x'));  // the longest LLLVAR value
  const std::string compact = CompactMessage(m);
  const Message back = ExpandMessage(compact);
  EXPECT_EQ(back.mti(), "0100");
  for (int f = 1; f <= 128; ++f) EXPECT_EQ(back.Get(f), m.Get(f)) << "DE" << f;
  std::string wire;
  ASSERT_TRUE(Pack(m, AsciiProfile(), wire).ok());
  EXPECT_LE(compact.size(), wire.size() + 3 * 40) << "3 bytes of header per field at most";

  Message forced("0800");
  forced.set_force_secondary_bitmap(true);
  forced.Set(70, "301");
  EXPECT_TRUE(ExpandMessage(CompactMessage(forced)).force_secondary_bitmap());
  EXPECT_FALSE(back.force_secondary_bitmap());
}

TEST(CompactMessageTest, ATruncatedStringYieldsTheFieldsThatFit) {
  const Message m = testing::ContactlessAuthorization();
  const std::string compact = CompactMessage(m);
  int last = 0;
  for (int f = m.NextField(1); f != 0; f = m.NextField(f)) last = f;
  const Message cut = ExpandMessage(std::string_view(compact).substr(0, compact.size() - 1));
  EXPECT_EQ(cut.Get(2), m.Get(2));
  EXPECT_FALSE(cut.Has(last));
}

}  // namespace
}  // namespace tapstack::iso8583
