#include "network/journal.h"

#include <gtest/gtest.h>

#include "iso8583/token_data.h"

namespace tapstack::network {
namespace {

TEST(JournalTest, NoFullCardNumberSurvives) {
  iso8583::Message m("0100");
  m.Set(2, "6299010000000003");
  m.Set(35, "6299010000000003=29122011");
  m.Set(45, "B6299010000000003^HOLDER^2912");
  m.Set(52, std::string(8, '\x11'));
  m.Set(55, std::string("\x5A\x08\x62\x99\x01\x00\x00\x00\x00\x03", 10));
  iso8583::TokenData token;
  token.Set(iso8583::token_tag::kToken, "6500000000000001");
  m.Set(48, *token.ToField());
  m.Set(4, "000000001000");
  const std::string dump = JournalJson(m);
  EXPECT_EQ(dump.find("6299010000000003"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("6500000000000001"), std::string::npos) << dump;
  EXPECT_NE(dump.find("629901******0003"), std::string::npos) << dump;
  EXPECT_NE(dump.find("650000******0001"), std::string::npos) << dump;
  EXPECT_NE(dump.find("000000001000"), std::string::npos);
  EXPECT_EQ(MaskCardNumber("12345"), "*2345");
}

TEST(JournalTest, IsValidJsonWithEveryFieldInOrder) {
  iso8583::Message m("0110");
  m.Set(2, "6299010000000003");
  m.Set(43, "Shop \"A\" \\ Beijing\x01");  // quote, backslash and a control character
  m.Set(39, "00");
  m.Set(55, std::string("\x9F\x26", 2));
  auto parsed = nlohmann::json::parse(JournalJson(m), nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(parsed.is_object()) << JournalJson(m);
  EXPECT_EQ(parsed["mti"], "0110");
  EXPECT_EQ(parsed["fields"]["2"], "629901******0003");
  EXPECT_EQ(parsed["fields"]["39"], "00");
  EXPECT_EQ(parsed["fields"]["43"], "Shop \"A\" \\ Beijing\x01");
  EXPECT_EQ(parsed["fields"]["55"], "(2 bytes of ICC data)");
  EXPECT_EQ(parsed["fields"].size(), 4u);
}

TEST(JournalTest, CardSecurityCodeIsNeverJournaled) {
  iso8583::Message m("0100");
  iso8583::TokenData data;
  data.Set(iso8583::token_tag::kCardSecurityCode, "739");
  data.Set(iso8583::token_tag::kWalletId, "W1");
  m.Set(48, *data.ToField());
  const std::string dump = JournalJson(m);
  EXPECT_EQ(dump.find("739"), std::string::npos) << dump;
  EXPECT_NE(dump.find("C2003***"), std::string::npos) << dump;
  EXPECT_NE(dump.find("WI002W1"), std::string::npos) << dump;
}

}  // namespace
}  // namespace tapstack::network
