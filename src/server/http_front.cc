#include "server/http_front.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace tapstack::server {

namespace {

constexpr int kHttpStartWaitMs = 2000;
// The configuration keys TLS errors name (docs/CONFIG.md).
constexpr char kCertKey[] = "http.tls_cert_file";
constexpr char kKeyKey[] = "http.tls_key_file";

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

// Opens `path` for reading, or says why not (errno text) under the key's name.
Result<std::unique_ptr<BIO, BioFree>> OpenPem(const char* key, const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> probe(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!probe) {
    return InvalidArgument(std::string(key) + ": cannot read '" + path + "': " + std::strerror(errno));
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "rb"));
  if (!bio) return InvalidArgument(std::string(key) + ": cannot read '" + path + "'");
  return bio;
}

// Checks the certificate and key files the way the TLS listener will load them, so that a bad
// file stops start-up with the key's name rather than as a listener that refuses every handshake.
Status CheckTlsFiles(const std::string& cert_file, const std::string& key_file) {
  TS_ASSIGN_OR_RETURN(auto cert_bio, OpenPem(kCertKey, cert_file));
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return InvalidArgument(std::string(kCertKey) + ": '" + cert_file +
                           "' holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)");
  }
  TS_ASSIGN_OR_RETURN(auto key_bio, OpenPem(kKeyKey, key_file));
  // No passphrase callback: an encrypted key is refused here rather than prompting on a terminal.
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, const_cast<char*>("")));
  if (!key) {
    ERR_clear_error();
    return InvalidArgument(std::string(kKeyKey) + ": '" + key_file +
                           "' holds no unencrypted PEM private key");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument(std::string(kKeyKey) + ": the key in '" + key_file +
                           "' does not match the certificate in " + kCertKey + " '" + cert_file + "'");
  }
  return Status::Ok();
}

}  // namespace

std::string LoopbackUrl(const HttpFront& http) {
  const std::string url = http.url();
  for (const char* scheme : {"http://", "https://"}) {
    const std::string wildcard = std::string(scheme) + "0.0.0.0:";
    if (url.rfind(wildcard, 0) == 0) return scheme + std::string("127.0.0.1:") + url.substr(wildcard.size());
  }
  return url;
}

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
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition: http = 409; break;
    case ErrorCode::kUnavailable: http = 503; break;
    default: break;
  }
  ReplyJson(res, {{"error", ErrorCodeName(status.code())}, {"message", status.message()}}, http);
}

HttpFront::HttpFront() : http_(std::make_unique<httplib::Server>()) { InstallDefaults(); }

void HttpFront::InstallDefaults() {
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second process silently share the
  // port; keep only SO_REUSEADDR (fast restart after a crash).
  http_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // The body is buffered before any route's own limit applies: no request may be larger than the
  // largest route limit (the QR picture upload's).
  http_->set_payload_max_length(kHttpBodyBytesMax);
  // The node's roles call each other on this same listener (the wallet → the TSP, the handsets →
  // the transit and e-CNY operators) from inside a request: enough workers that those inner calls
  // always find one free (httplib's default pool is max(8, cores - 1)).
  http_->new_task_queue = [] { return new httplib::ThreadPool(kHttpWorkerThreads); };
  http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404 && res.body.empty()) {
      ReplyJson(res, {{"error", "not_found"}, {"message", "no route for " + req.method + " " + req.path}}, 404);
    }
  });
}

HttpFront::~HttpFront() { Stop(); }

Status HttpFront::UseTls(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() && key_file.empty()) return Status::Ok();
  if (port_ != 0) return FailedPrecondition("HttpFront::UseTls after Bind");
  if (cert_file.empty()) return InvalidArgument(std::string(kCertKey) + ": required with " + kKeyKey);
  if (key_file.empty()) return InvalidArgument(std::string(kKeyKey) + ": required with " + kCertKey);
  TS_RETURN_IF_ERROR(CheckTlsFiles(cert_file, key_file));
  auto server = std::make_unique<httplib::SSLServer>(cert_file.c_str(), key_file.c_str());
  if (!server->is_valid()) {
    const char* reason = ERR_reason_error_string(ERR_get_error());
    ERR_clear_error();
    return InvalidArgument(std::string(kCertKey) + ", " + kKeyKey + ": OpenSSL refused '" + cert_file +
                           "' / '" + key_file + "': " + (reason != nullptr ? reason : "unknown error"));
  }
  // cpp-httplib 0.11 allows TLS 1.1; 1.0 and 1.1 are deprecated (RFC 8996).
  if (SSL_CTX_set_min_proto_version(server->ssl_context(), TLS1_2_VERSION) != 1) {
    ERR_clear_error();
    return Internal("TLS: cannot set TLS 1.2 as the minimum version");
  }
  http_ = std::move(server);
  tls_cert_file_ = cert_file;
  InstallDefaults();
  return Status::Ok();
}

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

std::string HttpFront::url() const {
  return (tls() ? "https://" : "http://") + bind_ + ":" + std::to_string(port_);
}

}  // namespace tapstack::server
