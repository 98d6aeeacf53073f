#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "core/hex.h"
#include "iso8583/codec.h"
#include "iso8583/framing.h"
#include "iso8583/mti.h"
#include "link/in_memory_link.h"
#include "link/request_key.h"
#include "link/tcp_client.h"
#include "link/tcp_server.h"
#include "link/test_host.h"

namespace tapstack::link {
namespace {

using namespace std::chrono_literals;

using testing::Auth;
using testing::TestHost;

class TcpLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Iso8583Server>(io_, ServerOptions{.frame_timeout_ms = 300}, host_);
    ASSERT_TRUE(server_->Start().ok());
    threads_.emplace_back([this] { io_.run(); });
  }
  void TearDown() override {
    if (client_) client_->Stop();
    server_->Stop();
    for (auto& extra : extra_servers_) extra->Stop();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  void StartClient(int timeout_ms = 2000) {
    ClientOptions o;
    o.port = server_->port();
    o.request_timeout_ms = timeout_ms;
    client_ = std::make_unique<Iso8583Client>(io_, o);
    client_->Start();
    for (int i = 0; i < 500 && !client_->ready(); ++i) std::this_thread::sleep_for(5ms);
    ASSERT_TRUE(client_->ready()) << "sign-on did not complete";
  }
  Result<iso8583::Message> SendAndWait(iso8583::Message m) {
    std::promise<Result<iso8583::Message>> p;
    auto f = p.get_future();
    client_->Send(std::move(m), [&p](Result<iso8583::Message> r) { p.set_value(std::move(r)); });
    return f.get();
  }
  // A raw socket to the server, for bad-input tests.
  asio::ip::tcp::socket RawSocket() {
    asio::ip::tcp::socket s(raw_io_);
    s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    return s;
  }

  Iso8583Server& ExtraServer(ServerOptions options) {
    extra_servers_.push_back(std::make_unique<Iso8583Server>(io_, std::move(options), host_));
    return *extra_servers_.back();
  }

  asio::io_context io_;
  asio::io_context raw_io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  std::vector<std::thread> threads_;
  TestHost host_;
  std::unique_ptr<Iso8583Server> server_;
  std::unique_ptr<Iso8583Client> client_;
  // Destroyed after TearDown has joined the io threads, before io_.
  std::vector<std::unique_ptr<Iso8583Server>> extra_servers_;
};

TEST_F(TcpLinkTest, SignsOnAndMatchesPipelinedResponses) {
  StartClient();
  constexpr int kRequests = 2000;
  std::atomic<int> matched{0};
  std::atomic<int> seen{0};  // not static: --gtest_repeat runs the test again
  std::promise<void> all;
  for (int i = 1; i <= kRequests; ++i) {
    client_->Send(Auth(i), [&, i](Result<iso8583::Message> r) {
      if (r.ok() && r->Get(11) == Auth(i).Get(11) && r->mti() == "0110") ++matched;
      if (++seen == kRequests) all.set_value();
    });
  }
  ASSERT_EQ(all.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(matched.load(), kRequests);
}

TEST_F(TcpLinkTest, TimeoutThenLateResponseGoesToLateHandler) {
  StartClient(/*timeout_ms=*/100);
  std::promise<iso8583::Message> late;
  client_->set_late_response_handler([&late](iso8583::Message m) { late.set_value(std::move(m)); });
  auto r = SendAndWait(Auth(7, "000000000666"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.status().message().find("no response within 100 ms"), std::string::npos);
  EXPECT_EQ(client_->timeouts(), 1u);
  host_.Release();
  auto f = late.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(*f.get().Get(11), "000007");
}

TEST_F(TcpLinkTest, MalformedRequestGetsFormatError) {
  auto s = RawSocket();
  // 0100 with DE3 = "00A000": unpack fails at DE3.
  std::string body = "0100" + std::string("\x20\0\0\0\0\0\0\0", 8) + "00A000";
  std::string frame;
  ASSERT_TRUE(iso8583::AppendFrameHeader(iso8583::FrameKind::k2ByteLength, body.size(), frame).ok());
  frame += body;
  asio::write(s, asio::buffer(frame));
  std::array<std::uint8_t, 2> header{};
  asio::read(s, asio::buffer(header));
  std::vector<std::uint8_t> reply((header[0] << 8) | header[1]);
  asio::read(s, asio::buffer(reply));
  iso8583::Message m;
  ASSERT_TRUE(iso8583::Unpack(reply, iso8583::AsciiProfile(), m).ok());
  EXPECT_EQ(m.mti(), "0110");
  EXPECT_EQ(*m.Get(39), "30");
  EXPECT_EQ(server_->stats().format_errors.load(), 1u);
}

TEST_F(TcpLinkTest, SlowLorisAndOversizeFramesAreClosed) {
  {
    auto s = RawSocket();
    asio::write(s, asio::buffer(std::string("\x00\x30" "0100", 6)));  // promises 48 bytes, sends 4
    std::array<char, 1> b{};
    asio::error_code ec;
    const auto start = std::chrono::steady_clock::now();
    s.read_some(asio::buffer(b), ec);  // the server closes after frame_timeout_ms (300)
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  }
  {
    auto s = RawSocket();
    asio::write(s, asio::buffer(std::string("\xFF\xFF", 2)));  // 65535 > message limit
    std::array<char, 1> b{};
    asio::error_code ec;
    s.read_some(asio::buffer(b), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  }
  EXPECT_GE(server_->stats().connections_closed_for_errors.load(), 2u);
}

TEST_F(TcpLinkTest, NotReadyBeforeConnectAndAfterServerStops) {
  ClientOptions o;
  o.port = 1;  // nothing listens there
  o.reconnect_backoff_min_ms = 10;
  Iso8583Client nowhere(io_, o);
  nowhere.Start();
  std::promise<Result<iso8583::Message>> p;
  nowhere.Send(Auth(1), [&p](Result<iso8583::Message> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  nowhere.Stop();
}

TEST_F(TcpLinkTest, OnlyConfiguredPeersMayConnect) {
  // Servers live until the fixture's io threads have stopped (their accept handlers hold them).
  Iso8583Server& guarded = ExtraServer(ServerOptions{.name = "guarded", .allowed_peers = {"10.9.8.7"}});
  ASSERT_TRUE(guarded.Start().ok());
  asio::ip::tcp::socket s(raw_io_);
  s.connect({asio::ip::make_address("127.0.0.1"), guarded.port()});
  std::array<char, 1> b{};
  asio::error_code ec;
  s.read_some(asio::buffer(b), ec);  // closed at once: 127.0.0.1 is not a configured peer
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_EQ(guarded.stats().connections_refused.load(), 1u);
  EXPECT_EQ(guarded.stats().connections_accepted.load(), 0u);

  Iso8583Server& open = ExtraServer(ServerOptions{.name = "open", .allowed_peers = {"127.0.0.1"}});
  ASSERT_TRUE(open.Start().ok());
  ClientOptions o;
  o.port = open.port();
  client_ = std::make_unique<Iso8583Client>(io_, o);
  client_->Start();
  for (int i = 0; i < 500 && !client_->ready(); ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(client_->ready());
  EXPECT_EQ(open.stats().connections_refused.load(), 0u);

  Iso8583Server& bad = ExtraServer(ServerOptions{.allowed_peers = {"not-an-ip"}});
  Status started = bad.Start();
  EXPECT_EQ(started.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(started.message().find("not-an-ip"), std::string::npos);
}

TEST(InMemoryLinkTest, CarriesTheSameBytesAndCanGoDown) {
  TestHost host;
  InMemoryLink link(host);
  Result<iso8583::Message> got = Unavailable("not called");
  link.Send(Auth(5), [&](Result<iso8583::Message> r) { got = std::move(r); });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got->Get(39), "00");
  iso8583::Message bad = Auth(6);
  bad.Set(4, "12x");
  link.Send(bad, [&](Result<iso8583::Message> r) { got = std::move(r); });
  EXPECT_FALSE(got.ok());
  link.set_up(false);
  link.Send(Auth(7), [&](Result<iso8583::Message> r) { got = std::move(r); });
  EXPECT_EQ(got.status().code(), ErrorCode::kUnavailable);
}

TEST(RequestKeyTest, ResponseMatchesRequestAndRepeat) {
  iso8583::Message req = Auth(9);
  iso8583::Message repeat = req;
  repeat.set_mti("0101");
  iso8583::Message resp = req;
  resp.set_mti("0110");
  EXPECT_EQ(MatchKey(req), MatchKey(resp));
  EXPECT_EQ(MatchKey(req), MatchKey(repeat));
  iso8583::Message reversal = req;
  reversal.set_mti("0400");
  EXPECT_NE(MatchKey(req), MatchKey(reversal));  // reversals reuse the STAN
}

}  // namespace
}  // namespace tapstack::link
