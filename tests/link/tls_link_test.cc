// ISO 8583 links over TLS (tls_context.h): the same framing, sign-on and matching as plain TCP,
// with the server verified by CA and name, and clients verified by CA when the listener asks
// for mutual TLS. Certificates come from a throw-away CA generated in the test (test_pki.h).
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <asio/ssl.hpp>

#include <chrono>
#include <future>
#include <thread>

#include "iso8583/codec.h"
#include "iso8583/framing.h"
#include "link/tcp_client.h"
#include "link/tcp_server.h"
#include "link/test_host.h"
#include "link/test_pki.h"
#include "link/tls_context.h"

namespace tapstack::link {
namespace {

using namespace std::chrono_literals;
using testing::Auth;
using testing::CertFiles;
using testing::TestCa;
using testing::TestHost;

// How long a client is given to sign on, and how long a refused one is watched staying down.
constexpr auto kSignOnWait = 5s;
constexpr auto kRefusedWatch = 600ms;

class TlsLinkTest : public ::testing::Test {
 protected:
  TlsLinkTest()
      : dir_(testing::FreshTestDir("tls")),
        bank_ca_(dir_, "bank"),
        other_ca_(dir_, "other"),
        server_cert_(bank_ca_.Issue("switch", "IP:127.0.0.1,DNS:switch.tapstack.test")),
        client_cert_(bank_ca_.Issue("acquirer", "DNS:acquirer.tapstack.test")) {}

  void SetUp() override { threads_.emplace_back([this] { io_.run(); }); }

  void TearDown() override {
    for (auto& c : clients_) c->Stop();
    for (auto& s : servers_) s->Stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    clients_.clear();
    servers_.clear();
    std::filesystem::remove_all(dir_);
  }

  Iso8583Server& StartServer(TlsServerConfig tls, std::uint16_t port = 0) {
    auto loaded = LoadServerTls(tls, "iso8583.");
    EXPECT_TRUE(loaded.ok()) << loaded.status().message();
    ServerOptions options{.port = port, .frame_timeout_ms = 300, .name = "tls-switch"};
    if (loaded.ok()) options.tls = *loaded;
    servers_.push_back(std::make_unique<Iso8583Server>(io_, options, host_));
    Status started = servers_.back()->Start();
    EXPECT_TRUE(started.ok()) << started.message();
    return *servers_.back();
  }

  // A client to `port`; TLS when `tls` is enabled.
  Iso8583Client& StartClient(std::uint16_t port, const TlsClientConfig& tls) {
    ClientOptions o;
    o.port = port;
    o.name = "tls-link";
    o.reconnect_backoff_min_ms = 20;
    o.reconnect_backoff_max_ms = 100;
    if (tls.enabled()) {
      auto loaded = LoadClientTls(tls, o.host, "network.issuers[0].");
      EXPECT_TRUE(loaded.ok()) << loaded.status().message();
      if (loaded.ok()) o.tls = *loaded;
    }
    clients_.push_back(std::make_unique<Iso8583Client>(io_, o));
    clients_.back()->Start();
    return *clients_.back();
  }

  static bool WaitReady(Iso8583Client& client, bool ready = true) {
    const auto deadline = std::chrono::steady_clock::now() + kSignOnWait;
    while (client.ready() != ready && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    return client.ready() == ready;
  }

  // True when `client` stays down (never signs on) for kRefusedWatch, and has failed at least once.
  static bool StaysRefused(Iso8583Client& client) {
    const auto deadline = std::chrono::steady_clock::now() + kRefusedWatch;
    while (std::chrono::steady_clock::now() < deadline) {
      if (client.ready()) return false;
      std::this_thread::sleep_for(5ms);
    }
    return !client.ready() && !client.last_error().empty();
  }

  static Result<iso8583::Message> SendAndWait(Iso8583Client& client, iso8583::Message m) {
    std::promise<Result<iso8583::Message>> p;
    auto f = p.get_future();
    client.Send(std::move(m), [&p](Result<iso8583::Message> r) { p.set_value(std::move(r)); });
    return f.get();
  }

  TlsServerConfig ServerTlsConfig(bool mutual) const {
    return {.cert_file = server_cert_.cert_file,
            .key_file = server_cert_.key_file,
            .client_ca_file = mutual ? bank_ca_.cert_file() : ""};
  }

  TlsClientConfig ClientTlsConfig(const std::string& server_name, const CertFiles* cert = nullptr) const {
    return {.ca_file = bank_ca_.cert_file(),
            .server_name = server_name,
            .cert_file = cert ? cert->cert_file : "",
            .key_file = cert ? cert->key_file : ""};
  }

  std::filesystem::path dir_;
  TestCa bank_ca_;
  TestCa other_ca_;
  CertFiles server_cert_;
  CertFiles client_cert_;
  TestHost host_;
  asio::io_context io_;
  asio::io_context raw_io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::vector<std::thread> threads_;
  // Destroyed after TearDown has joined the io threads.
  std::vector<std::unique_ptr<Iso8583Server>> servers_;
  std::vector<std::unique_ptr<Iso8583Client>> clients_;
};

TEST_F(TlsLinkTest, RequestsAndResponsesFlowOverTlsAndTheLinkReconnects) {
  Iso8583Server& server = StartServer(ServerTlsConfig(/*mutual=*/false));
  const std::uint16_t port = server.port();
  Iso8583Client& client = StartClient(port, ClientTlsConfig("127.0.0.1"));
  ASSERT_TRUE(WaitReady(client)) << client.last_error();

  constexpr int kRequests = 500;
  std::atomic<int> matched{0};
  std::atomic<int> seen{0};
  std::promise<void> all;
  for (int i = 1; i <= kRequests; ++i) {
    client.Send(Auth(i), [&, i](Result<iso8583::Message> r) {
      if (r.ok() && r->mti() == "0110" && r->Get(11) == Auth(i).Get(11) && r->Get(39) == std::string_view("00")) {
        ++matched;
      }
      if (++seen == kRequests) all.set_value();
    });
  }
  ASSERT_EQ(all.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(matched.load(), kRequests);
  EXPECT_EQ(server.stats().tls_handshakes_failed.load(), 0u);
  EXPECT_EQ(server.stats().connections_accepted.load(), 1u);
  // Sign-on and the requests went through the handler: the bytes were framed and unpacked.
  EXPECT_EQ(server.stats().requests.load(), static_cast<std::uint64_t>(kRequests) + 1);

  // The listener goes away and comes back on the same port: the link signs on again over TLS.
  server.Stop();
  ASSERT_TRUE(WaitReady(client, /*ready=*/false));
  Iso8583Server& again = StartServer(ServerTlsConfig(/*mutual=*/false), port);
  ASSERT_TRUE(WaitReady(client)) << client.last_error();
  auto r = SendAndWait(client, Auth(9001));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r->Get(11), "009001");
  EXPECT_EQ(again.stats().tls_handshakes_failed.load(), 0u);

  // A DNS name in the certificate works as the expected name too.
  Iso8583Client& by_name = StartClient(port, ClientTlsConfig("switch.tapstack.test"));
  EXPECT_TRUE(WaitReady(by_name)) << by_name.last_error();
}

TEST_F(TlsLinkTest, ClientRefusesAServerOfAnotherCaOrAnotherName) {
  Iso8583Server& server = StartServer(ServerTlsConfig(/*mutual=*/false));
  const int handled_before = host_.requests();

  // Trusting another CA: the server's certificate does not verify.
  TlsClientConfig wrong_ca = ClientTlsConfig("127.0.0.1");
  wrong_ca.ca_file = other_ca_.cert_file();
  Iso8583Client& distrusting = StartClient(server.port(), wrong_ca);
  EXPECT_TRUE(StaysRefused(distrusting));
  EXPECT_NE(distrusting.last_error().find("TLS handshake: certificate verify failed"), std::string::npos)
      << distrusting.last_error();

  // The right CA but another name than the certificate's.
  Iso8583Client& misnamed = StartClient(server.port(), ClientTlsConfig("issuer.tapstack.test"));
  EXPECT_TRUE(StaysRefused(misnamed));
  EXPECT_NE(misnamed.last_error().find("TLS handshake: certificate verify failed"), std::string::npos)
      << misnamed.last_error();
  // Another IP address than the certificate's is refused the same way.
  Iso8583Client& other_ip = StartClient(server.port(), ClientTlsConfig("127.0.0.2"));
  EXPECT_TRUE(StaysRefused(other_ip));

  // No frame of theirs reached the handler (not even a sign-on), and the server saw the failures.
  EXPECT_EQ(host_.requests(), handled_before);
  EXPECT_GE(server.stats().tls_handshakes_failed.load(), 3u);
  EXPECT_EQ(server.stats().requests.load(), 0u);
}

TEST_F(TlsLinkTest, MutualTlsRefusesClientsWithoutACertificateOfItsCa) {
  Iso8583Server& server = StartServer(ServerTlsConfig(/*mutual=*/true));

  Iso8583Client& anonymous = StartClient(server.port(), ClientTlsConfig("127.0.0.1"));
  EXPECT_TRUE(StaysRefused(anonymous));
  EXPECT_EQ(server.stats().requests.load(), 0u);
  EXPECT_GE(server.stats().tls_handshakes_failed.load(), 1u);

  const CertFiles foreign = other_ca_.Issue("foreign-acquirer", "DNS:foreign.tapstack.test");
  Iso8583Client& stranger = StartClient(server.port(), ClientTlsConfig("127.0.0.1", &foreign));
  EXPECT_TRUE(StaysRefused(stranger));
  EXPECT_EQ(server.stats().requests.load(), 0u);

  Iso8583Client& member = StartClient(server.port(), ClientTlsConfig("127.0.0.1", &client_cert_));
  ASSERT_TRUE(WaitReady(member)) << member.last_error();
  auto r = SendAndWait(member, Auth(42));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r->Get(39), "00");
  EXPECT_EQ(server.stats().requests.load(), 2u);  // the member's sign-on and its request
}

TEST_F(TlsLinkTest, PlaintextPeersFailCleanlyAndTheListenerGoesOn) {
  Iso8583Server& server = StartServer(ServerTlsConfig(/*mutual=*/false));
  {
    // A raw plaintext frame: no answer, the connection is closed.
    asio::ip::tcp::socket s(raw_io_);
    s.connect({asio::ip::make_address("127.0.0.1"), server.port()});
    iso8583::Message sign_on("0800");
    sign_on.Set(11, "000001");
    sign_on.Set(70, "001");
    std::string frame;
    ASSERT_TRUE(iso8583::AppendFrameHeader(iso8583::FrameKind::k2ByteLength, 0, frame).ok());
    ASSERT_TRUE(iso8583::Pack(sign_on, iso8583::AsciiProfile(), frame).ok());
    iso8583::PatchFrameHeader(iso8583::FrameKind::k2ByteLength, 0, frame);
    asio::write(s, asio::buffer(frame));
    std::array<char, 64> b{};
    asio::error_code ec;
    std::size_t n = 0;
    while (!ec) n += s.read_some(asio::buffer(b), ec);  // at most a TLS alert, then the close
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
    EXPECT_LT(n, 64u);
  }
  {
    // A peer that connects and says nothing is closed after frame_timeout_ms (300).
    asio::ip::tcp::socket s(raw_io_);
    s.connect({asio::ip::make_address("127.0.0.1"), server.port()});
    const auto start = std::chrono::steady_clock::now();
    std::array<char, 1> b{};
    asio::error_code ec;
    s.read_some(asio::buffer(b), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  }
  // A plaintext Iso8583Client never signs on.
  Iso8583Client& plain = StartClient(server.port(), TlsClientConfig{});
  EXPECT_TRUE(StaysRefused(plain));
  EXPECT_EQ(server.stats().requests.load(), 0u);
  EXPECT_GE(server.stats().tls_handshakes_failed.load(), 3u);

  // A TLS 1.1 client is refused: TLS 1.2 is the lowest version offered.
  {
    asio::ssl::context old(asio::ssl::context::tls_client);
    SSL_CTX_set_security_level(old.native_handle(), 0);
    SSL_CTX_set_min_proto_version(old.native_handle(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(old.native_handle(), TLS1_1_VERSION);
    asio::ssl::stream<asio::ip::tcp::socket> s(raw_io_, old);
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), server.port()});
    asio::error_code ec;
    s.handshake(asio::ssl::stream_base::client, ec);
    EXPECT_TRUE(ec) << "a TLS 1.1 handshake completed";
  }

  // The listener goes on: a TLS client signs on and is answered.
  Iso8583Client& good = StartClient(server.port(), ClientTlsConfig("127.0.0.1"));
  ASSERT_TRUE(WaitReady(good)) << good.last_error();
  auto r = SendAndWait(good, Auth(7));
  ASSERT_TRUE(r.ok()) << r.status().message();

  // A TLS client to a plaintext listener fails its handshake and stays down.
  servers_.push_back(std::make_unique<Iso8583Server>(io_, ServerOptions{.frame_timeout_ms = 300, .name = "plain"}, host_));
  ASSERT_TRUE(servers_.back()->Start().ok());
  Iso8583Client& to_plain = StartClient(servers_.back()->port(), ClientTlsConfig("127.0.0.1"));
  EXPECT_TRUE(StaysRefused(to_plain));
  EXPECT_NE(to_plain.last_error().find("TLS handshake"), std::string::npos) << to_plain.last_error();
}

}  // namespace
}  // namespace tapstack::link
