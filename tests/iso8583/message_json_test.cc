#include "iso8583/message_json.h"

#include <gtest/gtest.h>

#include "iso8583/sample_messages.h"

namespace tapstack::iso8583 {
namespace {

TEST(MessageJsonTest, RoundTripWithHexBinaryFields) {
  Message m = testing::ContactlessAuthorization();
  nlohmann::json j = MessageToJson(m);
  EXPECT_EQ(j["mti"], "0100");
  EXPECT_EQ(j["fields"]["22"], "071");
  EXPECT_EQ(j["fields"]["55"].get<std::string>().substr(0, 6), "9F2608");
  Message back;
  ASSERT_TRUE(MessageFromJson(j, back).ok());
  EXPECT_EQ(back, m);
}

TEST(MessageJsonTest, ErrorsNameTheKey) {
  struct Case {
    const char* json;
    const char* expect;
  };
  for (const Case& c : {Case{R"([1])", "must be an object"},
                        Case{R"({"fields":{}})", "\"mti\""},
                        Case{R"({"mti":"01"})", "\"mti\": expected 4 digits"},
                        Case{R"({"mti":"0100","fields":[]})", "\"fields\": expected an object"},
                        Case{R"({"mti":"0100","fields":{"1":"x"}})", "\"fields\".\"1\""},
                        Case{R"({"mti":"0100","fields":{"129":"x"}})", "\"fields\".\"129\""},
                        Case{R"({"mti":"0100","fields":{"x3":"x"}})", "\"fields\".\"x3\""},
                        Case{R"({"mti":"0100","fields":{"3":0}})", "expected a string value"},
                        Case{R"({"mti":"0100","fields":{"55":"9F2"}})", "\"fields\".\"55\": hex has odd length"}}) {
    Message m("0200");
    Status s = MessageFromJson(nlohmann::json::parse(c.json), m);
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
    EXPECT_EQ(m.NextField(1), 0) << "no partial state";
  }
}

}  // namespace
}  // namespace tapstack::iso8583
