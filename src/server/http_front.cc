#include "server/http_front.h"

#include <chrono>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace tapstack::server {

namespace {
constexpr int kHttpStartWaitMs = 2000;
}  // namespace

void ReplyJson(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& res, const Status& status) {
  int http = 500;
  switch (status.code()) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange: http = 400; break;
    case ErrorCode::kNotFound: http = 404; break;
    case ErrorCode::kUnavailable: http = 503; break;
    default: break;
  }
  ReplyJson(res, {{"error", ErrorCodeName(status.code())}, {"message", status.message()}}, http);
}

HttpFront::HttpFront() : http_(std::make_unique<httplib::Server>()) {
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second process silently share the
  // port; keep only SO_REUSEADDR (fast restart after a crash).
  http_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) {
      ReplyJson(res, {{"error", "not_found"}, {"message", "no route for " + req.method + " " + req.path}}, 404);
    }
  });
}

HttpFront::~HttpFront() { Stop(); }

Status HttpFront::Start(const std::string& bind, std::uint16_t port) {
  TS_RETURN_IF_ERROR(Bind(bind, port));
  return Serve();
}

Status HttpFront::Bind(const std::string& bind, std::uint16_t port) {
  bind_ = bind;
  port_ = port == 0 ? http_->bind_to_any_port(bind) : (http_->bind_to_port(bind, port) ? port : -1);
  if (port_ < 0) {
    return Unavailable("cannot listen on " + bind + ":" + std::to_string(port) + " (address in use or not local)");
  }
  return Status::Ok();
}

Status HttpFront::Serve() {
  if (port_ <= 0) return FailedPrecondition("HttpFront::Serve before a successful Bind");
  httplib::Server* http = http_.get();
  thread_ = std::thread([http] { http->listen_after_bind(); });
  // The socket already listens; wait (bounded) for the accept loop so Stop() cannot race it.
  for (int i = 0; i < kHttpStartWaitMs && !http->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Ok();
}

void HttpFront::Stop() {
  if (!thread_.joinable()) return;
  http_->stop();
  thread_.join();
}

std::string HttpFront::url() const { return "http://" + bind_ + ":" + std::to_string(port_); }

}  // namespace tapstack::server
