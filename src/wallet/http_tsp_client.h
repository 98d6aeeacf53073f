// HttpTspClient: TspClient over the TSP's JSON API with cpp-httplib.
//
// Every call sends `Authorization: Bearer <api_key>` to <base_url>/v1/tsp/…, checks the answer's
// shape and maps the TSP's error JSON to Status as described in wallet/tsp_client.h (the TSP's
// message is kept; the request body, which may hold a PAN, is never put in an error).
//
// Thread-safety: thread-safe; each call opens its own connection (cpp-httplib clients are not
// shared between threads).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wallet/tsp_client.h"

namespace tapstack::wallet {

struct HttpTspClientOptions {
  // "http://127.0.0.1:8080" or "https://127.0.0.1:8443" (scheme, host and port; no path).
  std::string base_url;
  // https only: a PEM file of the certificates to trust (a self-signed TSP certificate itself);
  // "" = the system's trust store. The host name or IP is checked against the certificate.
  std::string ca_cert_file = "";
  // The token requestor's API key, sent as a bearer token.
  std::string api_key;
  int connect_timeout_ms = 2000;
  int read_timeout_ms = 10000;
};

class HttpTspClient final : public TspClient {
 public:
  // Errors: kInvalidArgument when base_url is not http(s)://host[:port] or api_key is empty.
  static Result<std::unique_ptr<HttpTspClient>> Create(HttpTspClientOptions options);

  Result<ProvisioningResult> Provision(const ProvisioningRequest& request) override;
  Result<OtpResult> VerifyOtp(const std::string& token_id, const std::string& otp) override;
  Result<ProvisioningResult> AddDevice(const std::string& token_id,
                                       const AddDeviceRequest& request) override;
  Result<TspToken> Suspend(const std::string& token_id, const std::string& reason) override;
  Result<TspToken> Resume(const std::string& token_id, const std::string& reason) override;
  Result<TspToken> Delete(const std::string& token_id, const std::string& reason) override;
  Result<TspToken> GetToken(const std::string& token_id) override;
  Result<std::string> ReplenishKeys(const std::string& token_id, int count) override;
  Result<std::vector<TokenTransaction>> ListTransactions(const std::string& token_id,
                                                         int limit) override;
  Result<std::vector<TokenNotification>> ListNotifications(std::int64_t after_seq,
                                                           int limit) override;

 private:
  explicit HttpTspClient(HttpTspClientOptions options) : options_(std::move(options)) {}

  HttpTspClientOptions options_;
};

}  // namespace tapstack::wallet
