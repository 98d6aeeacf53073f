#include "link/tcp_client.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <unordered_map>
#include <deque>
#include <vector>

#include "core/clock.h"
#include "iso8583/codec.h"
#include "link/link_stream.h"
#include "link/request_key.h"
#include "link/tls_context.h"

namespace tapstack::link {

namespace {

constexpr std::size_t kReadChunkBytes = 64 * 1024;
constexpr int kSweepIntervalMs = 10;

using SteadyTime = std::chrono::steady_clock::time_point;

// DE7 transmission date and time, MMDDhhmmss UTC.
std::string TransmissionTime() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02d%02d%02d%02d%02d", (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
                tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
  return buf;
}

}  // namespace

struct Iso8583Client::Core : std::enable_shared_from_this<Core> {
  Core(asio::io_context& io_context, ClientOptions client_options)
      : io(io_context),
        options(std::move(client_options)),
        reconnect_timer(io_context),
        backoff_ms(options.reconnect_backoff_min_ms) {}

  void Connect();
  // Reconnects after a back-off, unless stopped or `from` is no longer the current session.
  void ScheduleReconnect(const Session* from);
  // Applies a session's readiness unless that session has been replaced (a restart's old session
  // reporting its close late must not mark the new one down).
  void OnSessionReady(const Session* from, bool ready);

  asio::io_context& io;
  const ClientOptions options;
  std::mutex mu;  // guards everything below that is not atomic
  asio::steady_timer reconnect_timer;
  int backoff_ms;
  std::shared_ptr<Session> session;
  std::function<void(iso8583::Message)> late_handler;
  std::function<void(bool)> ready_handler;
  std::atomic<bool> ready{false};
  bool stopped = true;
  std::atomic<std::uint64_t> timeouts{0};
  std::string last_error;
};

class Iso8583Client::Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(std::shared_ptr<Core> core)
      : core_(std::move(core)),
        stream_(core_->io, core_->options.tls ? &core_->options.tls->context : nullptr),
        strand_(asio::make_strand(core_->io)),
        sweep_timer_(core_->io),
        handshake_timer_(core_->io) {}

  void Connect() {
    auto self = shared_from_this();
    asio::dispatch(strand_, [self] {
      auto resolver = std::make_shared<asio::ip::tcp::resolver>(self->core_->io);
      const ClientOptions& o = self->core_->options;
      resolver->async_resolve(
          o.host, std::to_string(o.port),
          asio::bind_executor(self->strand_, [self, resolver](asio::error_code ec,
                                                              asio::ip::tcp::resolver::results_type results) {
            if (self->shut_down_) return;  // closed (Stop) while resolving
            if (ec) return self->Fail("resolve: " + ec.message());
            asio::async_connect(self->stream_.socket(), results,
                                asio::bind_executor(self->strand_, [self](asio::error_code ec2, const auto&) {
                                  if (self->shut_down_) return;  // closed while connecting
                                  if (ec2) return self->Fail("connect: " + ec2.message());
                                  if (self->stream_.is_tls()) return self->Handshake();
                                  self->OnConnected();
                                }));
          }));
    });
  }

  void Send(iso8583::Message request, ResponseCallback done, bool internal) {
    auto self = shared_from_this();
    asio::dispatch(strand_, [self, request = std::move(request), done = std::move(done), internal]() mutable {
      self->SendOnStrand(std::move(request), std::move(done), internal);
    });
  }

  void Close(bool sign_off) {
    auto self = shared_from_this();
    asio::dispatch(strand_, [self, sign_off] {
      if (sign_off && self->connected_ && self->stream_.is_tls()) {
        // Over TLS the sign-off goes through the ordinary write path (a synchronous write could
        // interleave with an asynchronous one inside the TLS engine); the link closes once it is
        // written, or after request_timeout_ms if the peer does not read.
        self->ready_ = false;
        self->close_after_write_ = true;
        if (self->Frame(self->NetworkManagement("002"), self->out_).ok()) self->Flush();
        self->handshake_timer_.expires_after(std::chrono::milliseconds(self->core_->options.request_timeout_ms));
        self->handshake_timer_.async_wait(asio::bind_executor(self->strand_, [self](asio::error_code ec) {
          if (!ec) self->Shutdown("link stopped", /*reconnect=*/false);
        }));
        if (!self->writing_) self->Shutdown("link stopped", /*reconnect=*/false);
        return;
      }
      if (sign_off && self->connected_) {
        iso8583::Message m = self->NetworkManagement("002");
        std::string wire;
        if (self->Frame(m, wire).ok()) {
          asio::error_code ec;
          asio::write(self->stream_.socket(), asio::buffer(wire), ec);
        }
      }
      self->Shutdown("link stopped", /*reconnect=*/false);
    });
  }

 private:
  // A request in flight. Callbacks the session stores for itself (sign-on, echo) hold it weakly:
  // a session that owns a strong reference to itself would never be freed when its io_context
  // stops before Close runs.
  struct Pending {
    ResponseCallback done;
    SteadyTime deadline;
  };

  // TLS: verifies the server (CA and name, tls_context.h) within request_timeout_ms.
  void Handshake() {
    const ClientOptions& o = core_->options;
    if (!stream_.ExpectServerName(o.tls->server_name)) {
      return Fail("TLS: cannot check the server name '" + o.tls->server_name + "'");
    }
    handshake_timer_.expires_after(std::chrono::milliseconds(o.request_timeout_ms));
    handshake_timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec) {
      if (ec || self->connected_ || self->shut_down_) return;
      self->Fail("TLS handshake: no answer within " + std::to_string(self->core_->options.request_timeout_ms) +
                 " ms");
    }));
    stream_.AsyncHandshake(asio::ssl::stream_base::client,
                           asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec) {
                             if (self->shut_down_) return;
                             self->handshake_timer_.cancel();
                             if (ec) return self->Fail("TLS handshake: " + ec.message());
                             self->OnConnected();
                           }));
  }

  void OnConnected() {
    connected_ = true;
    asio::error_code ec;
    stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
    last_traffic_ = std::chrono::steady_clock::now();
    Read();
    Sweep();
    if (!core_->options.sign_on) {
      SetReady(true);
      return;
    }
    SendOnStrand(NetworkManagement("001"),
                 [weak = weak_from_this()](Result<iso8583::Message> r) {
                   auto self = weak.lock();
                   if (!self) return;
                   if (r.ok() && r->Get(39) == std::string_view("00")) {
                     self->SetReady(true);
                   } else {
                     self->Shutdown("sign-on refused" + (r.ok() ? std::string() : ": " + r.status().message()), true);
                   }
                 },
                 /*internal=*/true);
  }

  iso8583::Message NetworkManagement(std::string_view code) {
    iso8583::Message m("0800");
    m.Set(7, TransmissionTime());
    m.Set(11, NextStan());
    m.Set(33, core_->options.institution_id);
    m.Set(70, code);
    return m;
  }

  std::string NextStan() {
    stan_ = stan_ % 999999 + 1;
    std::string s = std::to_string(stan_);
    return std::string(6 - s.size(), '0') + s;
  }

  void SetReady(bool ready) {
    ready_ = ready;
    core_->OnSessionReady(this, ready);
  }

  Status Frame(const iso8583::Message& m, std::string& out) {
    const ClientOptions& o = core_->options;
    const std::size_t at = out.size();
    TS_RETURN_IF_ERROR(iso8583::AppendFrameHeader(o.frame, 0, out));
    Status s = iso8583::Pack(m, *o.profile, out);
    if (!s.ok()) {
      out.resize(at);
      return s;
    }
    iso8583::PatchFrameHeader(o.frame, at, out);
    return Status::Ok();
  }

  void SendOnStrand(iso8583::Message request, ResponseCallback done, bool internal) {
    const ClientOptions& o = core_->options;
    if (!connected_ || (!ready_ && !internal)) {
      done(Unavailable(o.name + ": link not ready"));
      return;
    }
    if (pending_.size() >= o.in_flight_max) {
      done(Unavailable(o.name + ": " + std::to_string(o.in_flight_max) + " requests in flight"));
      return;
    }
    std::string key = MatchKey(request);
    if (key.empty() || pending_.contains(key)) {
      done(FailedPrecondition(o.name + ": a request with key " + key + " is already in flight"));
      return;
    }
    Status s = Frame(request, out_);
    if (!s.ok()) {
      done(s);
      return;
    }
    const SteadyTime deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(o.request_timeout_ms);
    deadlines_.emplace_back(deadline, key);
    pending_.emplace(std::move(key), Pending{std::move(done), deadline});
    Flush();
  }

  void Flush() {
    if (writing_ || out_.empty() || !connected_) return;
    writing_ = true;
    writing_buffer_.swap(out_);
    out_.clear();
    last_traffic_ = std::chrono::steady_clock::now();
    stream_.AsyncWrite(asio::buffer(writing_buffer_),
                       asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec, std::size_t) {
                         self->writing_ = false;
                         self->writing_buffer_.clear();
                         if (ec) return self->Shutdown("write: " + ec.message(), !self->close_after_write_);
                         self->Flush();
                         if (self->close_after_write_ && !self->writing_) {
                           self->Shutdown("link stopped", /*reconnect=*/false);
                         }
                       }));
  }

  void Read() {
    const std::size_t used = buffer_.size();
    buffer_.resize(used + kReadChunkBytes);
    stream_.AsyncReadSome(
        asio::buffer(buffer_.data() + used, kReadChunkBytes),
        asio::bind_executor(strand_, [self = shared_from_this(), used](asio::error_code ec, std::size_t n) {
          self->buffer_.resize(used + n);
          if (ec) return self->Shutdown("read: " + ec.message(), true);
          self->last_traffic_ = std::chrono::steady_clock::now();
          if (!self->ProcessFrames()) return;
          self->Read();
        }));
  }

  bool ProcessFrames() {
    const ClientOptions& o = core_->options;
    std::size_t consumed = 0;
    while (connected_) {
      ByteView rest(buffer_.data() + consumed, buffer_.size() - consumed);
      auto frame = iso8583::NextFrame(o.frame, rest);
      if (!frame.ok()) {
        Shutdown("bad frame: " + frame.status().message(), true);
        return false;
      }
      if (!frame->has_value()) break;
      consumed += (*frame)->frame_bytes;
      if ((*frame)->message.empty()) continue;  // keep-alive
      iso8583::Message message;
      Status s = iso8583::Unpack((*frame)->message, *o.profile, message);
      if (!s.ok()) {
        spdlog::warn("{}: dropping a message that does not unpack: {}", o.name, s.message());
        continue;
      }
      OnMessage(std::move(message));
    }
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed));
    return connected_;
  }

  void OnMessage(iso8583::Message message) {
    if (message.mti() == "0800") {  // the peer's echo or sign-on: acknowledge
      iso8583::Message response("0810");
      for (int f : {7, 11, 33, 70}) {
        if (auto v = message.Get(f)) response.Set(f, *v);
      }
      response.Set(39, "00");
      if (Frame(response, out_).ok()) Flush();
      return;
    }
    auto it = pending_.find(MatchKey(message));
    if (it == pending_.end()) {
      std::function<void(iso8583::Message)> late;
      {
        std::lock_guard lock(core_->mu);
        late = core_->late_handler;
      }
      if (late) late(std::move(message));
      return;
    }
    ResponseCallback done = std::move(it->second.done);
    pending_.erase(it);
    done(std::move(message));
  }

  // Expires timed-out requests (deadlines_ is in send order, which is deadline order) and sends
  // an echo when the link has been idle.
  void Sweep() {
    sweep_timer_.expires_after(std::chrono::milliseconds(kSweepIntervalMs));
    sweep_timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](asio::error_code ec) {
      if (ec || !self->connected_) return;
      const auto now = std::chrono::steady_clock::now();
      while (!self->deadlines_.empty() && self->deadlines_.front().first <= now) {
        const std::string key = std::move(self->deadlines_.front().second);
        self->deadlines_.pop_front();
        auto it = self->pending_.find(key);
        if (it != self->pending_.end() && it->second.deadline <= now) {
          ResponseCallback done = std::move(it->second.done);
          self->pending_.erase(it);
          self->core_->timeouts++;
          // The callback may shut the session down (a failed sign-on or echo, a caller's Stop),
          // which clears deadlines_ and pending_.
          done(Unavailable(self->core_->options.name + ": no response within " +
                           std::to_string(self->core_->options.request_timeout_ms) + " ms"));
          if (!self->connected_) return;
        }
      }
      const auto idle = std::chrono::milliseconds(self->core_->options.echo_idle_ms);
      if (self->ready_ && now - self->last_traffic_ > idle) {
        self->last_traffic_ = now;
        self->SendOnStrand(self->NetworkManagement("301"),
                           [weak = self->weak_from_this()](Result<iso8583::Message> r) {
                             auto session = weak.lock();
                             if (session && !r.ok()) session->Shutdown("echo unanswered", true);
                           },
                           true);
      }
      self->Sweep();
    }));
  }

  void Fail(const std::string& why) { Shutdown(why, true); }

  void Shutdown(const std::string& why, bool reconnect) {
    if (shut_down_) return;
    shut_down_ = true;
    const bool was_ready = ready_;
    connected_ = false;
    ready_ = false;
    asio::error_code ec;
    sweep_timer_.cancel();
    handshake_timer_.cancel();
    stream_.Close();
    auto pending = std::move(pending_);
    pending_.clear();
    deadlines_.clear();
    for (auto& [key, p] : pending) p.done(Unavailable(core_->options.name + ": link lost (" + why + ")"));
    if (was_ready) core_->OnSessionReady(this, false);
    spdlog::info("{}: disconnected from {}:{}: {}", core_->options.name, core_->options.host,
                 core_->options.port, why);
    if (reconnect) {
      {
        std::lock_guard lock(core_->mu);
        core_->last_error = why;
      }
      core_->ScheduleReconnect(this);
    }
  }

  const std::shared_ptr<Core> core_;
  LinkStream stream_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer sweep_timer_;
  asio::steady_timer handshake_timer_;  // the TLS handshake's and the TLS sign-off's deadline
  std::vector<std::uint8_t> buffer_;
  std::string out_;
  std::string writing_buffer_;
  std::unordered_map<std::string, Pending> pending_;
  std::deque<std::pair<SteadyTime, std::string>> deadlines_;
  SteadyTime last_traffic_{};
  int stan_ = 0;
  bool connected_ = false;
  bool ready_ = false;
  bool writing_ = false;
  bool shut_down_ = false;
  bool close_after_write_ = false;  // Close() over TLS: the sign-off is queued, then the link closes
};

Iso8583Client::Iso8583Client(asio::io_context& io, ClientOptions options)
    : core_(std::make_shared<Core>(io, std::move(options))) {}

Iso8583Client::~Iso8583Client() {
  {
    // Sessions may outlive the client by a few handlers; they must not call back into its owner.
    std::lock_guard lock(core_->mu);
    core_->late_handler = nullptr;
    core_->ready_handler = nullptr;
  }
  Stop();
}

bool Iso8583Client::ready() const { return core_->ready.load(); }

std::uint64_t Iso8583Client::timeouts() const { return core_->timeouts.load(); }

std::string Iso8583Client::last_error() const {
  std::lock_guard lock(core_->mu);
  return core_->last_error;
}

void Iso8583Client::Start() {
  {
    std::lock_guard lock(core_->mu);
    core_->stopped = false;
  }
  core_->Connect();
}

void Iso8583Client::Core::Connect() {
  std::shared_ptr<Session> fresh;
  {
    std::lock_guard lock(mu);
    if (stopped) return;
    fresh = std::make_shared<Session>(shared_from_this());
    session = fresh;
  }
  fresh->Connect();
}

void Iso8583Client::Core::ScheduleReconnect(const Session* from) {
  std::lock_guard lock(mu);
  if (stopped || session.get() != from) return;  // stopped, or a replaced session's late failure
  reconnect_timer.expires_after(std::chrono::milliseconds(backoff_ms));
  backoff_ms = std::min(backoff_ms * 2, options.reconnect_backoff_max_ms);
  reconnect_timer.async_wait([self = shared_from_this()](asio::error_code ec) {
    if (!ec) self->Connect();
  });
}

void Iso8583Client::Core::OnSessionReady(const Session* from, bool is_ready) {
  std::function<void(bool)> handler;
  {
    std::lock_guard lock(mu);
    if (session.get() != from && (is_ready || session)) return;
    ready = is_ready;
    if (is_ready) backoff_ms = options.reconnect_backoff_min_ms;
    handler = ready_handler;
  }
  if (is_ready) spdlog::debug("{}: signed on to {}:{}", options.name, options.host, options.port);
  if (handler) handler(is_ready);
}

void Iso8583Client::Stop() {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(core_->mu);
    if (core_->stopped) return;
    core_->stopped = true;
    core_->reconnect_timer.cancel();
    session = std::move(core_->session);
  }
  if (session) session->Close(/*sign_off=*/true);
}

void Iso8583Client::Send(iso8583::Message request, ResponseCallback done) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(core_->mu);
    session = core_->session;
  }
  if (!session || !core_->ready) {
    done(Unavailable(core_->options.name + ": link not ready"));
    return;
  }
  session->Send(std::move(request), std::move(done), /*internal=*/false);
}

void Iso8583Client::set_late_response_handler(std::function<void(iso8583::Message)> handler) {
  std::lock_guard lock(core_->mu);
  core_->late_handler = std::move(handler);
}

void Iso8583Client::set_ready_handler(std::function<void(bool)> handler) {
  std::lock_guard lock(core_->mu);
  core_->ready_handler = std::move(handler);
}

}  // namespace tapstack::link
