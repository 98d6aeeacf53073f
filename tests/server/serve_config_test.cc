#include "server/serve_config.h"

#include <gtest/gtest.h>

namespace tapstack::server {
namespace {

TEST(ServeConfigTest, DefaultsWhenEmpty) {
  ServeConfig config;
  ASSERT_TRUE(ParseServeConfig("", config).ok());
  EXPECT_EQ(config.data_dir, "data");
  EXPECT_EQ(config.http_bind, "127.0.0.1");
  EXPECT_EQ(config.http_port, 8080);
  EXPECT_EQ(config.log_level, "info");
}

TEST(ServeConfigTest, OverridesPresentKeys) {
  ServeConfig config;
  Status s = ParseServeConfig(R"(
[store]
data_dir = "/var/lib/tapstack"
[http]
port = 9090
[log]
level = "debug"
)",
                              config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(config.data_dir, "/var/lib/tapstack");
  EXPECT_EQ(config.http_port, 9090);
  EXPECT_EQ(config.http_bind, "127.0.0.1");
  EXPECT_EQ(config.log_level, "debug");
}

TEST(ServeConfigTest, ErrorsNameTheKeyAndLeaveConfigUnchanged) {
  struct Case {
    const char* toml;
    const char* expect;
  };
  for (const Case& c : {Case{"[http]\nprot = 1\n", "unknown key 'http.prot'"},
                        Case{"[http]\nport = 70000\n", "http.port: expected an integer 1-65535"},
                        Case{"[http]\nport = \"80\"\n", "http.port"},
                        Case{"[store]\ndata_dir = 5\n", "store.data_dir: expected a string"},
                        Case{"[log]\nlevel = \"loud\"\n", "log.level"},
                        Case{"[nope]\n", "unknown key 'nope'"},
                        Case{"http = 1\n", "[http] must be a table"},
                        Case{"[http\n", "line 1"}}) {
    ServeConfig config;
    config.http_port = 1234;
    Status s = ParseServeConfig(c.toml, config);
    ASSERT_FALSE(s.ok()) << c.toml;
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
    EXPECT_EQ(config.http_port, 1234) << c.toml;
  }
}

TEST(ServeConfigTest, MissingFileIsNotFound) {
  ServeConfig config;
  EXPECT_EQ(LoadServeConfigFile("/nonexistent/tapstack.toml", config).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tapstack::server
