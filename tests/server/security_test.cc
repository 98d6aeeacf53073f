// Security checks (issue #10): TLS on the HTTP API by configuration, and no full PAN or CVV2 left
// anywhere after the card, transit and handset stories run against a node over HTTPS.
//
// Certificates are made here at run time with OpenSSL's C API (a throw-away self-signed P-256
// certificate for 127.0.0.1): no key material is committed.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "demo/demo_keys.h"
#include "demo/demo_network.h"
#include "server/demo_node.h"
#include "server/http_front.h"
#include "support/pan_scan.h"

namespace tapstack::server {
namespace {

using nlohmann::json;
using tapstack::testing::PansIn;
using tapstack::testing::ReadFile;

struct TestCert {
  std::string cert_file;
  std::string key_file;
};

// A self-signed P-256 certificate for IP 127.0.0.1, valid for an hour, and its key, as PEM files
// in `dir` named after `name`.
TestCert MakeSelfSignedCert(const std::filesystem::path& dir, const std::string& name) {
  static long serial = 1;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  EXPECT_TRUE(key && cert);
  X509_set_version(cert.get(), 2);  // v3
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                                   std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    EXPECT_NE(ext, nullptr);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  EXPECT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);
  TestCert out{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
  std::FILE* c = std::fopen(out.cert_file.c_str(), "wb");
  EXPECT_EQ(PEM_write_X509(c, cert.get()), 1);
  std::fclose(c);
  std::FILE* k = std::fopen(out.key_file.c_str(), "wb");
  EXPECT_EQ(PEM_write_PrivateKey(k, key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  std::fclose(k);
  return out;
}

std::filesystem::path FreshDir(const std::string& what) {
  auto dir = std::filesystem::temp_directory_path() /
             ("tapstack-security-" + std::to_string(::getpid()) + "-" + what);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A raw TLS handshake with the protocol versions limited to [min, max]; true when it completes.
bool HandshakeWith(int port, int min_version, int max_version) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  SSL_CTX_set_security_level(ctx.get(), 0);  // let this client offer old versions at all
  SSL_CTX_set_min_proto_version(ctx.get(), min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  BIO* conn = BIO_new_connect(("127.0.0.1:" + std::to_string(port)).c_str());
  if (conn == nullptr || BIO_do_connect(conn) != 1) {
    BIO_free_all(conn);
    return false;
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
  SSL_set_bio(ssl.get(), conn, conn);  // ssl owns conn now
  const bool ok = SSL_connect(ssl.get()) == 1;
  if (ok) SSL_shutdown(ssl.get());
  ERR_clear_error();
  return ok;
}

class HttpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    cert_ = MakeSelfSignedCert(dir_, "node");
    other_ = MakeSelfSignedCert(dir_, "other");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  TestCert cert_;
  TestCert other_;
};

TEST_F(HttpTlsTest, ServesHttpsOnlyToClientsThatTrustItsCertificate) {
  HttpFront front;
  ASSERT_TRUE(front.UseTls(cert_.cert_file, cert_.key_file).ok());
  front.routes().Get("/health", [](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, {{"status", "ok"}});
  });
  ASSERT_TRUE(front.Start("127.0.0.1", 0).ok());
  ASSERT_EQ(front.url(), "https://127.0.0.1:" + std::to_string(front.port()));
  EXPECT_EQ(LoopbackUrl(front), front.url());

  httplib::Client trusted(front.url());
  trusted.set_ca_cert_path(cert_.cert_file);
  auto ok = trusted.Get("/health");
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(json::parse(ok->body)["status"], "ok");

  // Plain HTTP to the HTTPS port: no answer (the server reads no TLS handshake and closes).
  httplib::Client plain("http://127.0.0.1:" + std::to_string(front.port()));
  plain.set_read_timeout(5);
  auto refused = plain.Get("/health");
  EXPECT_TRUE(!refused || refused->status != 200);

  // A client trusting another certificate, or only the system's store, refuses the server.
  httplib::Client wrong_ca(front.url());
  wrong_ca.set_ca_cert_path(other_.cert_file);
  auto wrong = wrong_ca.Get("/health");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), httplib::Error::SSLServerVerification);
  httplib::Client system_ca(front.url());
  EXPECT_FALSE(system_ca.Get("/health"));

  // TLS 1.2 is the lowest version offered (RFC 8996): a 1.1-only client gets no session, a 1.2
  // one does (the check can fail).
  EXPECT_FALSE(HandshakeWith(front.port(), TLS1_VERSION, TLS1_1_VERSION));
  EXPECT_TRUE(HandshakeWith(front.port(), TLS1_2_VERSION, TLS1_2_VERSION));
  EXPECT_TRUE(HandshakeWith(front.port(), TLS1_3_VERSION, TLS1_3_VERSION));
  front.Stop();
}

TEST_F(HttpTlsTest, WithoutTlsFilesTheListenerStaysPlainHttp) {
  HttpFront front;
  ASSERT_TRUE(front.UseTls("", "").ok());
  EXPECT_FALSE(front.tls());
  ASSERT_TRUE(front.Start("127.0.0.1", 0).ok());
  EXPECT_EQ(front.url().rfind("http://", 0), 0u);
  EXPECT_EQ(front.tls_cert_file(), "");
}

TEST_F(HttpTlsTest, BadFilesAreRefusedNamingTheKey) {
  auto refused = [](const std::string& cert, const std::string& key) {
    HttpFront front;
    Status s = front.UseTls(cert, key);
    EXPECT_FALSE(front.tls());
    return s;
  };
  const std::string missing = (dir_ / "missing.pem").string();
  const std::string garbage = (dir_ / "garbage.pem").string();
  std::ofstream(garbage) << "not a certificate\n";

  Status no_key = refused(cert_.cert_file, "");
  EXPECT_EQ(no_key.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(no_key.message(), "http.tls_key_file: required with http.tls_cert_file");
  Status no_cert = refused("", cert_.key_file);
  EXPECT_EQ(no_cert.message(), "http.tls_cert_file: required with http.tls_key_file");

  Status cert_missing = refused(missing, cert_.key_file);
  EXPECT_EQ(cert_missing.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(cert_missing.message().rfind("http.tls_cert_file: cannot read '" + missing + "'", 0),
            0u)
      << cert_missing.message();
  Status cert_garbage = refused(garbage, cert_.key_file);
  EXPECT_EQ(cert_garbage.message().rfind(
                "http.tls_cert_file: '" + garbage + "' holds no PEM certificate", 0),
            0u)
      << cert_garbage.message();
  Status key_missing = refused(cert_.cert_file, missing);
  EXPECT_EQ(key_missing.message().rfind("http.tls_key_file: cannot read", 0), 0u)
      << key_missing.message();
  Status key_garbage = refused(cert_.cert_file, garbage);
  EXPECT_EQ(key_garbage.message().rfind("http.tls_key_file: '" + garbage + "' holds no", 0), 0u)
      << key_garbage.message();
  // The key of another certificate.
  Status mismatch = refused(cert_.cert_file, other_.key_file);
  EXPECT_EQ(mismatch.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(mismatch.message().find("http.tls_key_file: the key in '" + other_.key_file +
                                    "' does not match the certificate"),
            std::string::npos)
      << mismatch.message();

  HttpFront bound;
  ASSERT_TRUE(bound.Bind("127.0.0.1", 0).ok());
  EXPECT_EQ(bound.UseTls(cert_.cert_file, cert_.key_file).code(), ErrorCode::kFailedPrecondition);
}

TEST_F(HttpTlsTest, ANodeWithAMismatchedKeyDoesNotStart) {
  ServeConfig config;
  config.data_dir = (dir_ / "data").string();
  config.http_port = 0;
  config.iso8583_port = 0;
  config.cards_per_bank = 2;
  config.http_tls_cert_file = cert_.cert_file;
  config.http_tls_key_file = other_.key_file;
  auto node = DemoNode::Start(config);
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.status().message().find("http.tls_key_file"), std::string::npos)
      << node.status().ToString();
}

// The stories over HTTPS on a one-process node (the wallet calls the TSP, and the handsets the
// node, over loopback HTTPS), with every response body and the node's log kept, then scanned.
class SecurityStoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("story");
    cert_ = MakeSelfSignedCert(dir_, "node");
    // The node's log, at trace level, into a string (the default logger is what the roles use).
    previous_logger_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    auto logger = std::make_shared<spdlog::logger>("security-test", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);

    config_.data_dir = (dir_ / "data").string();
    config_.http_port = 0;
    config_.iso8583_port = 0;
    config_.cards_per_bank = 20;
    config_.http_tls_cert_file = cert_.cert_file;
    config_.http_tls_key_file = cert_.key_file;
    auto node = DemoNode::Start(config_);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(node).value();
  }
  void TearDown() override {
    node_.reset();
    spdlog::set_default_logger(previous_logger_);
    std::filesystem::remove_all(dir_);
  }

  json Call(const std::string& method, const std::string& path, const json& body = nullptr,
            const std::string& session = "", const std::string& key = "") {
    httplib::Client client(node_->http_url());
    client.set_ca_cert_path(cert_.cert_file);
    client.set_read_timeout(30);
    httplib::Headers headers;
    if (!session.empty()) headers.emplace("Authorization", "Bearer " + session);
    if (!key.empty()) headers.emplace("Idempotency-Key", key);
    auto res = method == "GET" ? client.Get(path, headers)
                               : client.Post(path, headers, body.is_null() ? "" : body.dump(),
                                             "application/json");
    EXPECT_TRUE(res) << method << " " << path << ": " << httplib::to_string(res.error());
    if (!res) return json();
    responses_.push_back(res->body);
    for (const auto& [name, value] : res->headers) responses_.push_back(name + ": " + value);
    json answer = json::parse(res->body, nullptr, false);
    EXPECT_LT(res->status, 300) << method << " " << path << ": " << res->body;
    return answer;
  }

  const demo::DemoBank& bank() {
    static const demo::DemoNetwork network =
        demo::LoadDemoNetwork(demo::DefaultSeedPath().value()).value();
    return network.banks.at(0);
  }

  // Adds demo debit card `index` of the first bank to `handset`, verifies it with the SMS code
  // the handset received and installs the credentials; returns the token id.
  std::string BindCard(const std::string& handset, int index) {
    const std::string pan = demo::DemoCardNumber(bank(), demo::CardKind::kDebit, index).value();
    const std::string cvv2 =
        demo::DemoCardCvv2(bank().institution_id, pan, demo::kDemoCardExpiry).value();
    pans_.insert(pan);
    cvv2s_.insert(cvv2);
    json add = Call("POST", "/v1/cards",
                    {{"device_id", handset},
                     {"card_type", "debit"},
                     {"pan", pan},
                     {"expiry", "12/29"},
                     {"cvv2", cvv2},
                     {"holder_name", "LI LEI"}},
                    session_, "add-" + std::to_string(index));
    EXPECT_EQ(add["card"].value("masked_pan", ""),
              pan.substr(0, 6) + std::string(pan.size() - 10, '*') + pan.substr(pan.size() - 4))
        << add.dump();
    json inbox = Call("GET", "/v1/handsets/" + handset + "/messages?after_unix_ms=0");
    std::string text;
    for (const json& m : inbox["messages"]) text = m.value("text", "");
    std::smatch otp;
    EXPECT_TRUE(std::regex_search(text, otp, std::regex(R"(\b(\d{6})\b)"))) << inbox.dump();
    const std::string card_id = add["card"].value("card_id", "");
    json verified = Call("POST", "/v1/cards/" + card_id + "/verify", {{"otp", otp[1].str()}},
                         session_, "verify-" + std::to_string(index));
    std::string token_id;
    for (const json& t : verified["card"]["tokens"]) {
      if (t.value("device_id", "") == handset) token_id = t.value("token_id", "");
    }
    Call("POST", "/v1/handsets/" + handset + "/credentials",
         {{"token_id", token_id}, {"credentials", verified["credentials"]}});
    return token_id;
  }

  std::filesystem::path dir_;
  TestCert cert_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> previous_logger_;
  ServeConfig config_;
  std::unique_ptr<DemoNode> node_;
  std::string session_;
  std::vector<std::string> responses_;
  std::set<std::string> pans_;
  std::set<std::string> cvv2s_;
};

TEST_F(SecurityStoryTest, NoFullPanInAnyFileLogOrResponseAndNoCvv2InTheDataDirectory) {
  ASSERT_EQ(node_->http_url().rfind("https://", 0), 0u);
  const std::string phone = "+8613800138077";
  Call("POST", "/v1/users", {{"phone", phone}, {"password", "password-123"}});
  json signed_in = Call("POST", "/v1/sessions", {{"phone", phone}, {"password", "password-123"}});
  session_ = signed_in.value("session", "");
  const std::string user_id = signed_in.value("user_id", "");
  json handset_body = Call("POST", "/v1/handsets",
                           {{"kind", "phone"}, {"name", "Li Lei's phone"}, {"phone", phone}}, session_);
  const std::string handset = handset_body.value("handset_id", "");
  Call("POST", "/v1/devices",
       {{"device_id", handset},
        {"kind", "phone"},
        {"name", "Li Lei's phone"},
        {"se_public_key", handset_body["se_public_key"]},
        {"storage", "se"}},
       session_);

  // The card story: add (SMS code step-up, through the wallet's HTTPS call to the TSP), tap.
  const std::string token = BindCard(handset, 3);
  ASSERT_FALSE(token.empty());
  const std::string merchant =
      Call("GET", "/v1/pos/merchants")["merchants"][0].value("merchant_id", "");
  json tap = Call("POST", "/v1/handsets/" + handset + "/taps",
                  {{"token_id", token},
                   {"merchant_id", merchant},
                   {"amount_minor", 1250},
                   {"fingerprint", true}});
  EXPECT_EQ(tap.value("response_code", ""), "00") << tap.dump();
  json cards = Call("GET", "/v1/cards", nullptr, session_);
  Call("GET", "/v1/cards/" + cards["cards"][0].value("card_id", "") + "/transactions", nullptr,
       session_);

  // Transit: a second card opens a metro card, tops it up (an in-app token payment through the
  // switch) and rides.
  const std::string transit_token = BindCard(handset, 4);
  json opened = Call("POST", "/v1/handsets/" + handset + "/transit/cards",
                     {{"city", "1000"}, {"account_id", user_id}, {"token_id", transit_token}});
  const std::string base =
      "/v1/handsets/" + handset + "/transit/cards/" + opened["card"].value("card_id", "");
  json topped =
      Call("POST", base + "/top-ups", {{"amount_fen", 5000}, {"token_id", transit_token}}, "", "top-up-1");
  EXPECT_EQ(topped.value("balance_fen", 0), 5000) << topped.dump();
  const json line = Call("GET", "/v1/transit/1000/reference")["city"]["metro"]["lines"][0];
  Call("POST", base + "/rides",
       {{"gate", "metro_entry"}, {"line", line["id"]}, {"station", line["stations"][0]["id"]}});
  json out =
      Call("POST", base + "/rides",
           {{"gate", "metro_exit"}, {"line", line["id"]}, {"station", line["stations"][3]["id"]}});
  EXPECT_GT(out.value("fare_fen", 0), 0) << out.dump();
  Call("GET", base);
  Call("GET", "/v1/handsets/" + handset);
  Call("GET", "/health");

  // Stop the node (its databases closed, WAL checkpointed) before reading every file.
  node_.reset();
  spdlog::default_logger()->flush();
  const std::string log = log_.str();

  ASSERT_EQ(pans_.size(), 2u);
  // The scan can fail: a PAN in clear is found, inside a longer run of digits too.
  ASSERT_EQ(PansIn("x" + *pans_.begin() + "y", pans_).size(), 1u);
  ASSERT_EQ(PansIn("12" + *pans_.begin() + "34", pans_).size(), 1u);
  EXPECT_GT(responses_.size(), 20u);
  EXPECT_FALSE(log.empty());

  for (const std::string& body : responses_) {
    EXPECT_TRUE(PansIn(body, pans_).empty()) << "a response holds a full PAN: " << body;
  }
  EXPECT_TRUE(PansIn(log, pans_).empty()) << "the log holds a full PAN";

  std::size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(config_.data_dir)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string bytes = ReadFile(entry.path());
    EXPECT_TRUE(PansIn(bytes, pans_).empty()) << entry.path() << " holds a full PAN in clear";
    // A CVV2 is three digits, which occur by chance in any binary file: what must not be there is
    // a place to keep it (a column or JSON field named cvv…) or the value as the API received it.
    std::string lower = bytes;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(lower.find("cvv"), std::string::npos) << entry.path() << " mentions a CVV";
    for (const std::string& cvv2 : cvv2s_) {
      EXPECT_EQ(bytes.find("\"cvv2\":\"" + cvv2 + "\""), std::string::npos) << entry.path();
    }
  }
  // wallet.db, tsp.db, network.db, issuer.db, the ledger, transit, handsets, qrpay, dcep …
  EXPECT_GE(files, 10u);
  RecordProperty("files_scanned", static_cast<int>(files));
  RecordProperty("log_bytes", static_cast<int>(log.size()));
  RecordProperty("responses_scanned", static_cast<int>(responses_.size()));
}

}  // namespace
}  // namespace tapstack::server
