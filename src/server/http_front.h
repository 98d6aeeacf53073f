// HttpFront: the HTTP listener every tapstack process serves its JSON API on (cpp-httplib),
// started on its own thread and stopped cleanly. Routes are installed by the owner before Start.
// With UseTls it serves HTTPS only (OpenSSL 3 through cpp-httplib's SSLServer, TLS 1.2 minimum).
//
// Thread-safety: Start/Stop from one thread; handlers run on the listener's worker threads.
#pragma once

#include <cstddef>

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

// Largest request body (bytes) any route accepts: a QR picture's luminance in base64
// (server/web_routes.h, 6 MiB) and its JSON around it.
inline constexpr std::size_t kHttpBodyBytesMax = 7 * 1024 * 1024;
// Worker threads of the listener (most sit waiting on a connection or on an inner call).
inline constexpr int kHttpWorkerThreads = 32;

class HttpFront {
 public:
  HttpFront();
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // The server to install routes on (before Start). A JSON 404 handler is installed already.
  httplib::Server& routes() { return *http_; }

  // Serves HTTPS only, with the PEM certificate (chain, leaf first) in `cert_file` and its PEM
  // private key in `key_file`; TLS 1.2 is the lowest version offered (RFC 8996 deprecates 1.0 and
  // 1.1). Both empty: a no-op, the listener stays plain HTTP. Call first, before routes() is used:
  // the listener is replaced, so routes installed earlier are gone.
  // Errors (kInvalidArgument, naming the configuration key http.tls_cert_file or
  // http.tls_key_file and the file): one given without the other; a file missing or unreadable;
  // no PEM certificate / private key in it; a key that does not match the certificate.
  // kFailedPrecondition after Bind.
  Status UseTls(const std::string& cert_file, const std::string& key_file);
  bool tls() const { return !tls_cert_file_.empty(); }
  // The certificate a client of this process's own listener trusts (the wallet calling the TSP,
  // the handsets calling the node): the served certificate file; "" without TLS.
  const std::string& tls_cert_file() const { return tls_cert_file_; }

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

  // http://bind:port, or https://bind:port with TLS.
  std::string url() const;
  int port() const { return port_; }

 private:
  void InstallDefaults();

  std::unique_ptr<httplib::Server> http_;
  std::string tls_cert_file_;
  std::thread thread_;
  std::string bind_;
  int port_ = 0;
};

// The URL a process reaches its own listener at: url() with a wildcard bind (0.0.0.0) replaced
// by 127.0.0.1.
std::string LoopbackUrl(const HttpFront& http);

// Sets a JSON body and status.
void ReplyJson(httplib::Response& res, const nlohmann::json& body, int status = 200);
// A JSON error body {"error": <ErrorCode name>, "message": ...} with the HTTP status that fits the
// code (400 invalid argument, 404 not found, 503 unavailable, 500 otherwise).
void ReplyError(httplib::Response& res, const Status& status);

}  // namespace tapstack::server
