// Iso8583Server: accepts ISO 8583 links over TCP and hands each request to a MessageHandler.
//
// Per connection: frames are read with the configured FrameKind, unpacked with the Profile,
// dispatched to the handler (many in flight: requests are pipelined), and responses are written
// in the order they become ready, one write at a time (writes are serialised and coalesced).
// Limits: a frame that has started must complete within frame_timeout_ms (slow-loris), at most
// in_flight_per_connection_max requests await responses (beyond that the connection stops reading:
// back-pressure), at most write_queue_bytes_max bytes wait for a slow reader (beyond that the
// connection is closed), at most connections_max connections.
// Bad input: a frame that does not unpack gets a response with DE39 "30" (format error) when its
// MTI is a readable request, and is logged with the field and offset; otherwise the connection is
// closed. A zero-length frame is a keep-alive and is not answered (no echo storms).
// Peers: when allowed_peers is set, a connection from any other address is closed at once and
// logged (an issuer host accepts only its network; a switch only its acquirers).
// TLS: with options.tls set (tls_context.h, LoadServerTls) every connection starts with a TLS
// handshake that must complete within frame_timeout_ms; then frames flow exactly as on plain TCP.
// A failed handshake (a plaintext peer, a client without the required certificate or with one of
// another CA) closes that connection only, is logged, and counts in tls_handshakes_failed.
// Thread-safety: Start/Stop from one thread; the io_context may be run by many threads.
#pragma once

#include <asio.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "iso8583/framing.h"
#include "iso8583/profile.h"
#include "link/message_handler.h"

namespace tapstack::link {

struct ServerTls;  // tls_context.h

struct ServerOptions {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port (see Iso8583Server::port())
  const iso8583::Profile* profile = &iso8583::AsciiProfile();
  iso8583::FrameKind frame = iso8583::FrameKind::k2ByteLength;
  int frame_timeout_ms = 5'000;
  std::size_t in_flight_per_connection_max = 1'024;
  std::size_t write_queue_bytes_max = 4 * 1024 * 1024;
  std::size_t connections_max = 4'096;
  std::string name = "iso8583";  // for logs
  std::vector<std::string> allowed_peers = {};  // IP addresses allowed to connect; empty: any
  std::shared_ptr<ServerTls> tls = nullptr;      // null: plain TCP
};

struct ServerStats {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> format_errors{0};
  std::atomic<std::uint64_t> connections_closed_for_errors{0};
  std::atomic<std::uint64_t> connections_refused{0};  // not an allowed peer, or over the limit
  std::atomic<std::uint64_t> tls_handshakes_failed{0};
};

class Iso8583Server {
 public:
  Iso8583Server(asio::io_context& io, ServerOptions options, MessageHandler& handler);
  ~Iso8583Server();

  // Binds and starts accepting. Errors: kInvalidArgument for a bad bind or peer address,
  // kUnavailable when the address cannot be bound.
  Status Start();
  // Stops accepting and closes every connection. In-flight replies are dropped.
  void Stop();

  std::uint16_t port() const { return port_; }
  const ServerStats& stats() const { return stats_; }

 private:
  class Connection;
  void Accept();
  bool PeerAllowed(asio::ip::tcp::socket& socket);  // closes the socket when not
  void Forget(Connection* c);

  asio::io_context& io_;
  ServerOptions options_;
  MessageHandler& handler_;
  asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::mutex mu_;
  std::set<std::shared_ptr<Connection>> connections_;
  std::vector<asio::ip::address> allowed_peers_;
  ServerStats stats_;
  std::atomic<bool> stopped_{false};
};

}  // namespace tapstack::link
