// Iso8583Client: one outgoing ISO 8583 link over TCP (the switch's link to an issuer host, a POS
// terminal's link to its acquirer) with request/response matching (request_key.h), per-request
// timeouts, sign-on (0800 DE70 "001") after each connect, echo (0800 DE70 "301") when idle, and
// automatic reconnect with back-off.
//
// Send() never blocks. Its callback receives the matched response, or kUnavailable when the link
// is not ready, is lost, or no response arrives within request_timeout_ms (the outcome at the peer
// is then unknown; a late response goes to the late-response handler, so that e.g. a late
// approval can be reversed). At most in_flight_max requests wait; beyond that Send fails at once
// (back-pressure). Thread-safety: every method may be called from any thread.
// TLS: with options.tls set (tls_context.h, LoadClientTls) each connection runs a TLS handshake,
// bounded by request_timeout_ms, that verifies the server's certificate against the configured CA
// and name before sign-on; a failed handshake is a failed connect (reconnect with back-off, see
// last_error()). Framing, sign-on, echo, timeouts and reconnects are the same as on plain TCP.
#pragma once

#include <asio.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "iso8583/framing.h"
#include "iso8583/profile.h"
#include "link/message_handler.h"

namespace tapstack::link {

struct ClientTls;  // tls_context.h

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  const iso8583::Profile* profile = &iso8583::AsciiProfile();
  iso8583::FrameKind frame = iso8583::FrameKind::k2ByteLength;
  int request_timeout_ms = 2'000;
  int echo_idle_ms = 30'000;          // send an echo after this long without traffic
  int reconnect_backoff_min_ms = 50;
  int reconnect_backoff_max_ms = 2'000;
  std::size_t in_flight_max = 65'536;
  bool sign_on = true;                // send 0800/001 after connecting and wait for 0810/00
  std::string institution_id = "00000000";  // DE33 of network management messages
  std::string name = "link";
  std::shared_ptr<ClientTls> tls = nullptr;  // null: plain TCP
};

class Iso8583Client final : public RequestSender {
 public:
  Iso8583Client(asio::io_context& io, ClientOptions options);
  ~Iso8583Client() override;

  // Starts connecting (asynchronously; ready() turns true after sign-on).
  void Start();
  // Sends sign-off (0800/002) when connected, closes, and fails every waiting request.
  void Stop();

  void Send(iso8583::Message request, ResponseCallback done) override;
  bool ready() const override;

  // Receives responses that arrive after their request timed out.
  void set_late_response_handler(std::function<void(iso8583::Message)> handler);
  // Called with true when the link becomes ready (signed on) and false when it is lost.
  void set_ready_handler(std::function<void(bool)> handler);

  std::uint64_t timeouts() const;
  // Why the last connection attempt failed or the last session ended (e.g. "TLS handshake:
  // certificate verify failed"); "" until one has.
  std::string last_error() const;

 private:
  class Session;
  // Everything a session or a reconnect timer needs: held by shared_ptr so that a session still
  // finishing on an io thread never touches a destroyed client.
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace tapstack::link
