// HttpHarness: serves a set of routes on a loopback port from a background thread and calls
// them, for the HTTP route tests of every role.
//
// cpp-httplib is header-only and heavy to compile; keeping it out of this header (it is used only
// in http_harness.cc) lets each test file compile without it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace httplib {
class Server;
}

namespace tapstack::testing {

struct HttpAnswer {
  int status = 0;  // 0 when the call failed (the failure is reported to GoogleTest)
  nlohmann::json body;  // discarded (is_discarded()) when the body is not JSON
  std::map<std::string, std::string> headers;
};

class HttpHarness {
 public:
  // Calls `install` to add routes, then listens on 127.0.0.1 (a free port) until destroyed.
  // Reports a failure to GoogleTest when the server does not start (port() is then 0).
  explicit HttpHarness(const std::function<void(httplib::Server&)>& install);
  ~HttpHarness();
  HttpHarness(const HttpHarness&) = delete;
  HttpHarness& operator=(const HttpHarness&) = delete;

  int port() const;

  // GET, POST or DELETE `path` with a JSON body (none when null) and extra request headers.
  HttpAnswer Call(const std::string& method, const std::string& path,
                  const nlohmann::json& body = nullptr,
                  const std::map<std::string, std::string>& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tapstack::testing
