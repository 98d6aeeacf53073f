#include "link/tcp_server.h"

#include <spdlog/spdlog.h>

#include <deque>
#include <vector>

#include "core/hex.h"
#include "iso8583/codec.h"
#include "iso8583/mti.h"
#include "link/link_stream.h"
#include "link/tls_context.h"

namespace tapstack::link {

namespace {

constexpr std::size_t kReadChunkBytes = 64 * 1024;

// A response carrying only DE39 "30" (format error) and the request's matching fields, for a
// request that did not unpack. Returns false when even the MTI is unreadable.
bool FormatErrorResponse(ByteView wire, const iso8583::Profile& profile, iso8583::Message& out) {
  std::string mti;
  if (profile.bcd_mti) {
    if (wire.size() < 2) return false;
    mti = HexEncode(wire.subspan(0, 2));  // BCD digits read as hex are the digits
  } else {
    if (wire.size() < 4) return false;
    mti.assign(reinterpret_cast<const char*>(wire.data()), 4);
  }
  auto response_mti = iso8583::ResponseMti(mti);
  if (!response_mti.ok()) return false;
  out.Reset();
  out.set_mti(*response_mti);
  out.Set(39, "30");
  return true;
}

}  // namespace

class Iso8583Server::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Iso8583Server& server, asio::ip::tcp::socket socket)
      : server_(server),
        stream_(std::move(socket), server.options_.tls ? &server.options_.tls->context : nullptr),
        strand_(asio::make_strand(server.io_)),
        frame_timer_(server.io_) {}

  void Start() {
    std::string peer;
    asio::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) peer = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    peer_ = peer;
    stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    if (stream_.is_tls()) {
      asio::dispatch(strand_, [self = shared_from_this()] { self->Handshake(); });
    } else {
      asio::dispatch(strand_, [self = shared_from_this()] { self->Read(); });
    }
  }

  void Close() {
    asio::dispatch(strand_, [self = shared_from_this()] { self->CloseOnStrand(); });
  }

 private:
  void CloseOnStrand() {
    if (closed_) return;
    closed_ = true;
    asio::error_code ec;
    frame_timer_.cancel();
    stream_.Close();
    server_.Forget(this);
  }

  // The TLS handshake, bounded by frame_timeout_ms like a frame (a peer that opens a connection
  // and stays silent must not hold it).
  void Handshake() {
    if (closed_) return;
    const ServerOptions& opts = server_.options_;
    frame_timer_armed_ = true;
    frame_timer_.expires_after(std::chrono::milliseconds(opts.frame_timeout_ms));
    frame_timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec) {
      if (ec || self->closed_ || self->handshake_done_) return;
      self->frame_timer_armed_ = false;
      spdlog::warn("{}: closing {}: no TLS handshake after {} ms", self->server_.options_.name, self->peer_,
                   self->server_.options_.frame_timeout_ms);
      // Closing the socket ends the handshake with an error, which is counted there.
      self->stream_.Close();
    }));
    stream_.AsyncHandshake(
        asio::ssl::stream_base::server,
        asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec) {
          if (self->closed_) return;
          if (ec) {
            self->server_.stats_.tls_handshakes_failed++;
            spdlog::warn("{}: closing {}: TLS handshake failed: {}", self->server_.options_.name, self->peer_,
                         ec.message());
            self->CloseOnStrand();
            return;
          }
          self->handshake_done_ = true;
          // The timer's handler ignores the cancellation; frames may arm it afresh at once.
          self->frame_timer_armed_ = false;
          self->frame_timer_.cancel();
          self->Read();
        }));
  }

  void Read() {
    // Not while frames of buffer_ are being dispatched: a handler that replies inline lands here.
    if (closed_ || reading_ || processing_) return;
    if (in_flight_ >= server_.options_.in_flight_per_connection_max) return;  // back-pressure
    reading_ = true;
    const std::size_t used = buffer_.size();
    buffer_.resize(used + kReadChunkBytes);
    stream_.AsyncReadSome(
        asio::buffer(buffer_.data() + used, kReadChunkBytes),
        asio::bind_executor(strand_, [self = shared_from_this(), used](asio::error_code ec,
                                                                       std::size_t n) {
          self->reading_ = false;
          self->buffer_.resize(used + n);
          if (ec) {
            self->CloseOnStrand();
            return;
          }
          self->processing_ = true;
          self->ProcessFrames();
          self->processing_ = false;
          self->Read();
        }));
  }

  void ProcessFrames() {
    const ServerOptions& opts = server_.options_;
    std::size_t consumed = 0;
    while (!closed_) {
      ByteView rest(buffer_.data() + consumed, buffer_.size() - consumed);
      auto frame = iso8583::NextFrame(opts.frame, rest);
      if (!frame.ok()) {
        spdlog::warn("{}: closing {}: {}", opts.name, peer_, frame.status().message());
        server_.stats_.connections_closed_for_errors++;
        CloseOnStrand();
        return;
      }
      if (!frame->has_value()) break;
      ByteView body = (*frame)->message;
      consumed += (*frame)->frame_bytes;
      if (!body.empty()) Dispatch(body);
    }
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed));
    // A partial frame must complete in time: arm the timer while bytes are pending.
    if (!buffer_.empty() && !frame_timer_armed_) {
      frame_timer_armed_ = true;
      frame_timer_.expires_after(std::chrono::milliseconds(opts.frame_timeout_ms));
      frame_timer_.async_wait(asio::bind_executor(
          strand_, [self = shared_from_this()](asio::error_code ec) {
            self->frame_timer_armed_ = false;
            if (ec || self->closed_ || self->buffer_.empty()) return;
            spdlog::warn("{}: closing {}: incomplete frame after {} ms", self->server_.options_.name,
                         self->peer_, self->server_.options_.frame_timeout_ms);
            self->server_.stats_.connections_closed_for_errors++;
            self->CloseOnStrand();
          }));
    } else if (buffer_.empty() && frame_timer_armed_) {
      frame_timer_.cancel();
    }
  }

  void Dispatch(ByteView body) {
    const ServerOptions& opts = server_.options_;
    iso8583::Message request;
    Status s = iso8583::Unpack(body, *opts.profile, request);
    if (!s.ok()) {
      server_.stats_.format_errors++;
      spdlog::warn("{}: format error from {}: {}", opts.name, peer_, s.message());
      iso8583::Message response;
      if (!FormatErrorResponse(body, *opts.profile, response)) {
        server_.stats_.connections_closed_for_errors++;
        CloseOnStrand();
        return;
      }
      Write(response);
      return;
    }
    server_.stats_.requests++;
    ++in_flight_;
    server_.handler_.OnRequest(std::move(request), [self = shared_from_this()](iso8583::Message response) {
      asio::dispatch(self->strand_, [self, response = std::move(response)] {
        --self->in_flight_;
        self->Write(response);
        self->Read();  // resumes reading if back-pressure had paused it
      });
    });
  }

  void Write(const iso8583::Message& response) {
    if (closed_) return;
    const ServerOptions& opts = server_.options_;
    const std::size_t header_at = pending_.size();
    Status s = iso8583::AppendFrameHeader(opts.frame, 0, pending_);
    if (s.ok()) s = iso8583::Pack(response, *opts.profile, pending_);
    if (!s.ok()) {
      pending_.resize(header_at);
      spdlog::error("{}: cannot pack response for {}: {}", opts.name, peer_, s.message());
      return;
    }
    iso8583::PatchFrameHeader(opts.frame, header_at, pending_);
    if (pending_.size() > opts.write_queue_bytes_max) {
      spdlog::warn("{}: closing {}: peer does not read its responses", opts.name, peer_);
      server_.stats_.connections_closed_for_errors++;
      CloseOnStrand();
      return;
    }
    Flush();
  }

  void Flush() {
    if (writing_ || pending_.empty() || closed_) return;
    writing_ = true;
    writing_buffer_.swap(pending_);
    pending_.clear();
    stream_.AsyncWrite(asio::buffer(writing_buffer_),
                      asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->writing_buffer_.clear();
                        if (ec) {
                          self->CloseOnStrand();
                          return;
                        }
                        self->Flush();
                      }));
  }

  Iso8583Server& server_;
  LinkStream stream_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer frame_timer_;
  std::string peer_;
  std::vector<std::uint8_t> buffer_;
  std::string pending_;
  std::string writing_buffer_;
  std::size_t in_flight_ = 0;
  bool reading_ = false;
  bool processing_ = false;
  bool writing_ = false;
  bool frame_timer_armed_ = false;
  bool handshake_done_ = false;
  bool closed_ = false;
};

Iso8583Server::Iso8583Server(asio::io_context& io, ServerOptions options, MessageHandler& handler)
    : io_(io), options_(std::move(options)), handler_(handler), acceptor_(io) {}

Iso8583Server::~Iso8583Server() { Stop(); }

Status Iso8583Server::Start() {
  asio::error_code ec;
  auto address = asio::ip::make_address(options_.bind, ec);
  if (ec) return InvalidArgument(options_.name + ": bad bind address '" + options_.bind + "'");
  allowed_peers_.clear();
  for (const std::string& peer : options_.allowed_peers) {
    auto peer_address = asio::ip::make_address(peer, ec);
    if (ec) return InvalidArgument(options_.name + ": allowed peer '" + peer + "' is not an IP address");
    allowed_peers_.push_back(peer_address);
  }
  asio::ip::tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable(options_.name + ": cannot listen on " + options_.bind + ":" +
                       std::to_string(options_.port) + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  Accept();
  return Status::Ok();
}

void Iso8583Server::Accept() {
  acceptor_.async_accept([this](asio::error_code ec, asio::ip::tcp::socket socket) {
    if (ec || stopped_) return;
    if (!PeerAllowed(socket)) {
      Accept();
      return;
    }
    std::shared_ptr<Connection> connection;
    {
      std::lock_guard lock(mu_);
      if (connections_.size() < options_.connections_max) {
        connection = std::make_shared<Connection>(*this, std::move(socket));
        connections_.insert(connection);
      }
    }
    if (connection) {
      stats_.connections_accepted++;
      connection->Start();
    } else {
      stats_.connections_refused++;
      spdlog::warn("{}: refusing a connection: {} connections open", options_.name,
                   options_.connections_max);
    }
    Accept();
  });
}

bool Iso8583Server::PeerAllowed(asio::ip::tcp::socket& socket) {
  if (allowed_peers_.empty()) return true;
  asio::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (!ec) {
    // An IPv4 peer reaching an IPv6 listener appears as ::ffff:a.b.c.d.
    auto address = remote.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    for (const auto& allowed : allowed_peers_) {
      if (allowed == address) return true;
    }
    spdlog::warn("{}: refusing a connection from {}: not a configured peer", options_.name,
                 address.to_string());
  }
  stats_.connections_refused++;
  socket.close(ec);
  return false;
}

void Iso8583Server::Forget(Connection* c) {
  std::lock_guard lock(mu_);
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->get() == c) {
      connections_.erase(it);
      return;
    }
  }
}

void Iso8583Server::Stop() {
  if (stopped_.exchange(true)) return;
  asio::error_code ec;
  acceptor_.close(ec);
  std::set<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    open = connections_;
  }
  for (const auto& c : open) c->Close();
}

}  // namespace tapstack::link
