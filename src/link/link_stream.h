// LinkStream: the byte stream under an ISO 8583 link, plain TCP or TLS over TCP (tls_context.h),
// so that framing, matching and timeouts are written once for both.
//
// Internal to src/link/ (Iso8583Server, Iso8583Client). Not thread-safe: use it from one strand.
// At most one read and one write may be outstanding at a time (asio::ssl::stream's rule too).
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace tapstack::link {

class LinkStream {
 public:
  using SslStream = asio::ssl::stream<asio::ip::tcp::socket>;

  // A stream to connect later (client side); TLS when `tls` is not null (not owned, outlives this).
  LinkStream(asio::io_context& io, asio::ssl::context* tls);
  // An accepted connection (server side).
  LinkStream(asio::ip::tcp::socket socket, asio::ssl::context* tls);

  bool is_tls() const { return ssl_ != nullptr; }
  // The TCP layer: connect, socket options, endpoints.
  asio::ip::tcp::socket& socket() { return ssl_ ? ssl_->next_layer() : *plain_; }

  // Client side: the name the server's certificate must carry. A DNS name is also sent as SNI
  // (RFC 6066 3); an IP address is matched against the certificate's IP addresses (RFC 6125).
  // Returns false when OpenSSL refuses the name.
  bool ExpectServerName(const std::string& name);

  // Runs the TLS handshake (TLS streams only); `handler` receives the error, if any.
  template <typename Handler>
  void AsyncHandshake(asio::ssl::stream_base::handshake_type type, Handler&& handler) {
    ssl_->async_handshake(type, std::forward<Handler>(handler));
  }

  template <typename MutableBuffer, typename Handler>
  void AsyncReadSome(const MutableBuffer& buffer, Handler&& handler) {
    if (ssl_) {
      ssl_->async_read_some(buffer, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffer, std::forward<Handler>(handler));
    }
  }

  // Writes all of `buffer` (asio::async_write).
  template <typename ConstBuffer, typename Handler>
  void AsyncWrite(const ConstBuffer& buffer, Handler&& handler) {
    if (ssl_) {
      asio::async_write(*ssl_, buffer, std::forward<Handler>(handler));
    } else {
      asio::async_write(*plain_, buffer, std::forward<Handler>(handler));
    }
  }

  // Closes the TCP connection at once. No TLS close_notify is sent: every ISO 8583 frame carries
  // its length, so a truncated stream cannot pass for a complete message, and a peer that stopped
  // reading must not hold the close up.
  void Close();

 private:
  std::optional<asio::ip::tcp::socket> plain_;
  std::unique_ptr<SslStream> ssl_;
};

}  // namespace tapstack::link
