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

TEST(ServeConfigTest, WebDirAndConsoleAccount) {
  ServeConfig config;
  EXPECT_EQ(config.console_user, "admin");
  EXPECT_EQ(DefaultWebDir().substr(DefaultWebDir().size() - 4), "/web");
  Status s = ParseServeConfig(R"(
[http]
web_dir = "/srv/tapstack/web"
[console]
user = "ops"
password = "long enough secret"
)",
                              config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(config.web_dir, "/srv/tapstack/web");
  EXPECT_EQ(config.console_user, "ops");
  EXPECT_EQ(config.console_password, "long enough secret");
  Status short_password = ParseServeConfig("[console]\npassword = \"short\"\n", config);
  EXPECT_EQ(short_password.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(short_password.message().find("console.password"), std::string::npos);
  EXPECT_EQ(config.console_password, "long enough secret");  // unchanged on error
  EXPECT_FALSE(ParseServeConfig("[console]\nrole = \"x\"\n", config).ok());
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
                        Case{"[http\n", "line 1"},
                        Case{"role = \"bank\"\n", "role: 'bank' is not a role"},
                        Case{"[iso8583]\nallowed_peers = \"127.0.0.1\"\n", "iso8583.allowed_peers: expected an array"},
                        Case{"[issuer]\nname = \"Issuer-A\"\n", "issuer.name: expected lower-case"},
                        Case{"[[network.issuers]]\nbanks = [\"48020000\"]\n", "network.issuers[0].port: required"},
                        Case{"[[network.issuers]]\nport = 9101\n", "network.issuers[0].banks"},
                        Case{"[[network.issuers]]\nport = 9101\nbanks = [1]\n", "network.issuers[0].banks: expected an array of strings"},
                        Case{"[network]\nissuer_timeout_ms = 0\n", "network.issuer_timeout_ms: expected an integer 10-60000"},
                        Case{"[acquirer]\nnetwork_port = 0\n", "acquirer.network_port"}}) {
    ServeConfig config;
    config.http_port = 1234;
    Status s = ParseServeConfig(c.toml, config);
    ASSERT_FALSE(s.ok()) << c.toml;
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
    EXPECT_EQ(config.http_port, 1234) << c.toml;
  }
}

TEST(ServeConfigTest, RolesAndTheirSections) {
  ServeConfig config;
  Status s = ParseServeConfig(R"(
role = "network"
[store]
url = "postgresql://tapstack@127.0.0.1:5432/tapstack"
[iso8583]
port = 8600
allowed_peers = ["127.0.0.1", "10.0.0.7"]
[demo]
cards_per_bank = 20
[network]
name = "net_a"
issuer_timeout_ms = 750
[[network.issuers]]
port = 9101
banks = ["48020000", "48020003"]
[[network.issuers]]
host = "10.0.0.9"
port = 9102
banks = ["48020001"]
)",
                              config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(config.role, Role::kNetwork);
  EXPECT_EQ(config.store_url, "postgresql://tapstack@127.0.0.1:5432/tapstack");
  EXPECT_EQ(config.iso8583_port, 8600);
  EXPECT_EQ(config.allowed_peers, (std::vector<std::string>{"127.0.0.1", "10.0.0.7"}));
  EXPECT_EQ(config.cards_per_bank, 20);
  EXPECT_EQ(config.network_name, "net_a");
  EXPECT_EQ(config.issuer_timeout_ms, 750);
  ASSERT_EQ(config.issuer_links.size(), 2u);
  EXPECT_EQ(config.issuer_links[0].host, "127.0.0.1");
  EXPECT_EQ(config.issuer_links[0].banks, (std::vector<std::string>{"48020000", "48020003"}));
  EXPECT_EQ(config.issuer_links[1].host, "10.0.0.9");
  EXPECT_EQ(config.issuer_links[1].port, 9102);
  EXPECT_TRUE(ValidateServeConfig(config).ok());

  ServeConfig issuer;
  ASSERT_TRUE(ParseServeConfig("role = \"issuer\"\n[issuer]\nname = \"issuer_b\"\nbanks = [\"48020001\"]\n", issuer).ok());
  EXPECT_EQ(issuer.role, Role::kIssuer);
  EXPECT_EQ(issuer.issuer_name, "issuer_b");
  EXPECT_EQ(issuer.issuer_banks, std::vector<std::string>{"48020001"});
}

TEST(ServeConfigTest, ValidationNamesWhatARoleLacks) {
  ServeConfig network;
  network.role = Role::kNetwork;
  Status s = ValidateServeConfig(network);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("network.issuers"), std::string::npos) << s.message();

  ServeConfig all;
  all.store_url = "postgresql://x@y/z";
  EXPECT_NE(ValidateServeConfig(all).message().find("role all"), std::string::npos);
  ServeConfig bad_url;
  bad_url.role = Role::kIssuer;
  bad_url.store_url = "mysql://x";
  EXPECT_NE(ValidateServeConfig(bad_url).message().find("store.url"), std::string::npos);
  EXPECT_EQ(ParseRole("acquirer").value(), Role::kAcquirer);
  EXPECT_FALSE(ParseRole("switch").ok());
}

TEST(ServeConfigTest, TlsFilesAreReadAndMustComeInPairs) {
  ServeConfig config;
  EXPECT_TRUE(config.http_tls_cert_file.empty());
  EXPECT_TRUE(config.http_tls_key_file.empty());
  Status s = ParseServeConfig(R"(
[http]
tls_cert_file = "/etc/tapstack/node.crt"
tls_key_file = "/etc/tapstack/node.key"
)",
                              config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(config.http_tls_cert_file, "/etc/tapstack/node.crt");
  EXPECT_EQ(config.http_tls_key_file, "/etc/tapstack/node.key");
  EXPECT_TRUE(ValidateServeConfig(config).ok());

  Status wrong_type = ParseServeConfig("[http]\ntls_cert_file = 1\n", config);
  EXPECT_EQ(wrong_type.message(), "config: http.tls_cert_file: expected a string");
  EXPECT_EQ(config.http_tls_cert_file, "/etc/tapstack/node.crt");  // unchanged on error

  ServeConfig cert_only;
  cert_only.http_tls_cert_file = "/etc/tapstack/node.crt";
  EXPECT_EQ(ValidateServeConfig(cert_only).message(), "http.tls_key_file: required with http.tls_cert_file");
  ServeConfig key_only;
  key_only.http_tls_key_file = "/etc/tapstack/node.key";
  EXPECT_EQ(ValidateServeConfig(key_only).message(), "http.tls_cert_file: required with http.tls_key_file");
}

TEST(ServeConfigTest, Iso8583TlsKeysAreReadPerListenerAndLink) {
  ServeConfig config;
  EXPECT_FALSE(config.iso8583_tls.enabled());
  EXPECT_FALSE(config.network_tls.enabled());
  Status s = ParseServeConfig(R"(
role = "network"
[iso8583]
tls_cert_file = "/etc/tapstack/switch.crt"
tls_key_file = "/etc/tapstack/switch.key"
tls_client_ca_file = "/etc/tapstack/banks-ca.crt"
[[network.issuers]]
port = 9101
banks = ["48020000"]
tls_ca_file = "/etc/tapstack/banks-ca.crt"
tls_server_name = "issuer-a.bank.example"
tls_cert_file = "/etc/tapstack/network.crt"
tls_key_file = "/etc/tapstack/network.key"
[[network.issuers]]
port = 9102
banks = ["48020003"]
[acquirer]
network_tls_ca_file = "/etc/tapstack/network-ca.crt"
network_tls_server_name = "switch.network.example"
)",
                              config);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(config.iso8583_tls.cert_file, "/etc/tapstack/switch.crt");
  EXPECT_EQ(config.iso8583_tls.key_file, "/etc/tapstack/switch.key");
  EXPECT_EQ(config.iso8583_tls.client_ca_file, "/etc/tapstack/banks-ca.crt");
  ASSERT_EQ(config.issuer_links.size(), 2u);
  EXPECT_EQ(config.issuer_links[0].tls.ca_file, "/etc/tapstack/banks-ca.crt");
  EXPECT_EQ(config.issuer_links[0].tls.server_name, "issuer-a.bank.example");
  EXPECT_EQ(config.issuer_links[0].tls.cert_file, "/etc/tapstack/network.crt");
  EXPECT_EQ(config.issuer_links[0].tls.key_file, "/etc/tapstack/network.key");
  EXPECT_FALSE(config.issuer_links[1].tls.enabled());  // TLS is per link
  EXPECT_EQ(config.network_tls.ca_file, "/etc/tapstack/network-ca.crt");
  EXPECT_EQ(config.network_tls.server_name, "switch.network.example");
  EXPECT_TRUE(ValidateServeConfig(config).ok()) << ValidateServeConfig(config).message();

  Status wrong_type = ParseServeConfig("[iso8583]\ntls_client_ca_file = true\n", config);
  EXPECT_EQ(wrong_type.message(), "config: iso8583.tls_client_ca_file: expected a string");
  EXPECT_EQ(config.iso8583_tls.client_ca_file, "/etc/tapstack/banks-ca.crt");  // unchanged on error
  EXPECT_EQ(ParseServeConfig("[acquirer]\nnetwork_tls = true\n", config).message(),
            "config: unknown key 'acquirer.network_tls'");
}

TEST(ServeConfigTest, Iso8583TlsKeysMustComeTogether) {
  ServeConfig network;
  network.role = Role::kNetwork;
  network.issuer_links.push_back({.port = 9101, .banks = {"48020000"}});
  auto message = [](ServeConfig c) { return ValidateServeConfig(c).message(); };

  ServeConfig c = network;
  c.iso8583_tls.cert_file = "a.crt";
  EXPECT_EQ(message(c), "iso8583.tls_key_file: required with iso8583.tls_cert_file");
  c = network;
  c.iso8583_tls.key_file = "a.key";
  EXPECT_EQ(message(c), "iso8583.tls_cert_file: required with iso8583.tls_key_file");
  c = network;
  c.iso8583_tls.client_ca_file = "ca.crt";
  EXPECT_EQ(message(c), "iso8583.tls_cert_file: required with iso8583.tls_client_ca_file");
  c = network;
  c.issuer_links[0].tls.server_name = "issuer.example";
  EXPECT_EQ(message(c), "network.issuers[0].tls_ca_file: required with network.issuers[0].tls_server_name");
  c = network;
  c.issuer_links[0].tls = {.ca_file = "ca.crt", .cert_file = "n.crt"};
  EXPECT_EQ(message(c), "network.issuers[0].tls_key_file: required with network.issuers[0].tls_cert_file");
  c = network;
  c.network_tls.key_file = "a.key";
  EXPECT_EQ(message(c), "acquirer.network_tls_ca_file: required with acquirer.network_tls_key_file");

  // Role all keeps its listener in-process and plain; an acquirer has no ISO 8583 listener.
  ServeConfig all;
  all.iso8583_tls = {.cert_file = "a.crt", .key_file = "a.key"};
  EXPECT_EQ(message(all), "iso8583.tls_cert_file: TLS on the ISO 8583 listener is for roles network and issuer");
}

TEST(ServeConfigTest, MissingFileIsNotFound) {
  ServeConfig config;
  EXPECT_EQ(LoadServeConfigFile("/nonexistent/tapstack.toml", config).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace tapstack::server
