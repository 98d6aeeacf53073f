// HttpFront: the HTTP listener every tapstack process serves its JSON API on (cpp-httplib),
// started on its own thread and stopped cleanly. Routes are installed by the owner before Start.
//
// Thread-safety: Start/Stop from one thread; handlers run on the listener's worker threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace httplib {
class Server;
struct Response;
}  // namespace httplib

namespace tapstack::server {

class HttpFront {
 public:
  HttpFront();
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // The server to install routes on (before Start). A JSON 404 handler is installed already.
  httplib::Server& routes() { return *http_; }

  // Binds bind:port (0: any free port) and serves on a thread of its own.
  // Errors: kUnavailable when the address cannot be bound (in use or not local).
  Status Start(const std::string& bind, std::uint16_t port);
  // Start in two steps, for a process that calls its own API (the wallet calls the TSP's): Bind
  // takes the address so url() is known while routes are still being installed; Serve then
  // serves. Errors: Bind as Start; Serve kFailedPrecondition without a successful Bind.
  Status Bind(const std::string& bind, std::uint16_t port);
  Status Serve();
  // Stops accepting and waits for in-flight requests. Idempotent.
  void Stop();

  std::string url() const;
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::string bind_;
  int port_ = 0;
};

// Sets a JSON body and status.
void ReplyJson(httplib::Response& res, const nlohmann::json& body, int status = 200);
// A JSON error body {"error": <ErrorCode name>, "message": ...} with the HTTP status that fits the
// code (400 invalid argument, 404 not found, 503 unavailable, 500 otherwise).
void ReplyError(httplib::Response& res, const Status& status);

}  // namespace tapstack::server
