#include "support/http_harness.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

namespace tapstack::testing {

struct HttpHarness::Impl {
  httplib::Server server;
  std::unique_ptr<httplib::Client> client;
  std::thread thread;
  int port = 0;
};

HttpHarness::HttpHarness(const std::function<void(httplib::Server&)>& install)
    : impl_(std::make_unique<Impl>()) {
  install(impl_->server);
  impl_->port = impl_->server.bind_to_any_port("127.0.0.1");
  if (impl_->port <= 0) {
    ADD_FAILURE() << "the test HTTP server could not bind a loopback port";
    impl_->port = 0;
    return;
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  for (int i = 0; i < 2000 && !impl_->server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->client = std::make_unique<httplib::Client>("127.0.0.1", impl_->port);
}

HttpHarness::~HttpHarness() {
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int HttpHarness::port() const { return impl_->port; }

HttpAnswer HttpHarness::Call(const std::string& method, const std::string& path,
                             const nlohmann::json& body,
                             const std::map<std::string, std::string>& headers) {
  HttpAnswer a;
  if (!impl_->client) {
    ADD_FAILURE() << method << " " << path << ": no server";
    return a;
  }
  httplib::Headers request_headers(headers.begin(), headers.end());
  const std::string text = body.is_null() ? "" : body.dump();
  httplib::Result res =
      method == "GET"      ? impl_->client->Get(path, request_headers)
      : method == "DELETE" ? impl_->client->Delete(path, request_headers, text, "application/json")
                           : impl_->client->Post(path, request_headers, text, "application/json");
  if (!res) {
    ADD_FAILURE() << method << " " << path << ": " << httplib::to_string(res.error());
    return a;
  }
  a.status = res->status;
  a.headers.insert(res->headers.begin(), res->headers.end());
  a.body = nlohmann::json::parse(res->body, nullptr, false);
  return a;
}

}  // namespace tapstack::testing
