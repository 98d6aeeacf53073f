// Loading a link's TLS files (tls_context.h): good files load; every bad one is refused at
// start-up with the configuration key's name.
#include <gtest/gtest.h>

#include <fstream>

#include "link/test_pki.h"
#include "link/tls_context.h"

namespace tapstack::link {
namespace {

using testing::CertFiles;
using testing::TestCa;

class TlsContextTest : public ::testing::Test {
 protected:
  TlsContextTest()
      : dir_(testing::FreshTestDir("tls-context")),
        ca_(dir_, "bank"),
        leaf_(ca_.Issue("issuer", "IP:127.0.0.1")),
        other_(ca_.Issue("other", "IP:127.0.0.1")) {}
  ~TlsContextTest() override { std::filesystem::remove_all(dir_); }

  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // The message of a refused server config, or "" when it loaded.
  static std::string ServerError(const TlsServerConfig& config) {
    auto loaded = LoadServerTls(config, "iso8583.");
    return loaded.ok() ? "" : loaded.status().message();
  }
  static std::string ClientError(const TlsClientConfig& config) {
    auto loaded = LoadClientTls(config, "127.0.0.1", "network.issuers[1].");
    return loaded.ok() ? "" : loaded.status().message();
  }

  std::filesystem::path dir_;
  TestCa ca_;
  CertFiles leaf_;
  CertFiles other_;
};

TEST_F(TlsContextTest, GoodFilesLoad) {
  auto server = LoadServerTls({.cert_file = leaf_.cert_file, .key_file = leaf_.key_file}, "iso8583.");
  ASSERT_TRUE(server.ok()) << server.status().message();
  EXPECT_FALSE((*server)->requires_client_certificate);
  auto mutual = LoadServerTls(
      {.cert_file = leaf_.cert_file, .key_file = leaf_.key_file, .client_ca_file = ca_.cert_file()}, "iso8583.");
  ASSERT_TRUE(mutual.ok()) << mutual.status().message();
  EXPECT_TRUE((*mutual)->requires_client_certificate);

  auto client = LoadClientTls({.ca_file = ca_.cert_file()}, "10.1.2.3", "acquirer.network_");
  ASSERT_TRUE(client.ok()) << client.status().message();
  EXPECT_EQ((*client)->server_name, "10.1.2.3");  // the host by default
  auto named = LoadClientTls({.ca_file = ca_.cert_file(), .server_name = "switch.example",
                              .cert_file = leaf_.cert_file, .key_file = leaf_.key_file},
                             "10.1.2.3", "acquirer.network_");
  ASSERT_TRUE(named.ok()) << named.status().message();
  EXPECT_EQ((*named)->server_name, "switch.example");
}

TEST_F(TlsContextTest, BadServerFilesAreRefusedNamingTheKey) {
  const std::string not_pem = WriteFile("not.pem", "hello\n");
  const std::string missing = (dir_ / "missing.pem").string();

  EXPECT_EQ(ServerError({.key_file = leaf_.key_file}), "iso8583.tls_cert_file: required for a TLS listener");
  EXPECT_EQ(ServerError({.cert_file = leaf_.cert_file}), "iso8583.tls_key_file: required with iso8583.tls_cert_file");
  EXPECT_EQ(ServerError({.client_ca_file = ca_.cert_file()}), "iso8583.tls_cert_file: required for a TLS listener");

  std::string e = ServerError({.cert_file = missing, .key_file = leaf_.key_file});
  EXPECT_EQ(e.rfind("iso8583.tls_cert_file: cannot read '" + missing + "': No such file", 0), 0u) << e;
  e = ServerError({.cert_file = not_pem, .key_file = leaf_.key_file});
  EXPECT_EQ(e.rfind("iso8583.tls_cert_file: '" + not_pem + "' holds no PEM certificate", 0), 0u) << e;
  e = ServerError({.cert_file = leaf_.cert_file, .key_file = missing});
  EXPECT_EQ(e.rfind("iso8583.tls_key_file: cannot read", 0), 0u) << e;
  e = ServerError({.cert_file = leaf_.cert_file, .key_file = leaf_.cert_file});  // a certificate, no key
  EXPECT_EQ(e, "iso8583.tls_key_file: '" + leaf_.cert_file + "' holds no unencrypted PEM private key");
  e = ServerError({.cert_file = leaf_.cert_file, .key_file = other_.key_file});
  EXPECT_EQ(e, "iso8583.tls_key_file: the key in '" + other_.key_file +
                   "' does not match the certificate in iso8583.tls_cert_file '" + leaf_.cert_file + "'");
  e = ServerError({.cert_file = leaf_.cert_file, .key_file = leaf_.key_file, .client_ca_file = not_pem});
  EXPECT_EQ(e.rfind("iso8583.tls_client_ca_file: '" + not_pem + "' holds no PEM CA certificate", 0), 0u) << e;
  e = ServerError({.cert_file = leaf_.cert_file, .key_file = leaf_.key_file, .client_ca_file = missing});
  EXPECT_EQ(e.rfind("iso8583.tls_client_ca_file: cannot read", 0), 0u) << e;
}

TEST_F(TlsContextTest, BadClientFilesAreRefusedNamingTheKey) {
  const std::string not_pem = WriteFile("not.pem", "hello\n");
  std::string e = ClientError({.server_name = "switch.example"});
  EXPECT_EQ(e.rfind("network.issuers[1].tls_ca_file: required for a TLS link", 0), 0u) << e;
  e = ClientError({.ca_file = not_pem});
  EXPECT_EQ(e.rfind("network.issuers[1].tls_ca_file: '" + not_pem + "' holds no PEM CA certificate", 0), 0u) << e;
  e = ClientError({.ca_file = ca_.cert_file(), .cert_file = leaf_.cert_file});
  EXPECT_EQ(e, "network.issuers[1].tls_key_file: required with network.issuers[1].tls_cert_file");
  e = ClientError({.ca_file = ca_.cert_file(), .key_file = leaf_.key_file});
  EXPECT_EQ(e, "network.issuers[1].tls_cert_file: required with network.issuers[1].tls_key_file");
  e = ClientError({.ca_file = ca_.cert_file(), .cert_file = leaf_.cert_file, .key_file = other_.key_file});
  EXPECT_EQ(e.rfind("network.issuers[1].tls_key_file: the key in", 0), 0u) << e;
}

}  // namespace
}  // namespace tapstack::link
