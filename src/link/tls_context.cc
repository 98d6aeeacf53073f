#include "link/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tapstack::link {

namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

// No passphrase prompt: an encrypted key is refused at start-up instead of blocking on a terminal.
int RefusePassphrase(char*, int, int, void*) { return 0; }

std::string Key(std::string_view where, std::string_view key) { return std::string(where) + std::string(key); }

// The reason OpenSSL gave last, or "" (and clears its error queue either way).
std::string OpenSslReason() {
  const unsigned long code = ERR_peek_last_error();
  std::string reason;
  if (code != 0) {
    const char* text = ERR_reason_error_string(code);
    if (text != nullptr) reason = std::string(": ") + text;
  }
  ERR_clear_error();
  return reason;
}

// Says why `path` cannot be read (errno text), under the key's name.
Status CheckReadable(const std::string& key, const std::string& path) {
  std::FILE* probe = std::fopen(path.c_str(), "rb");
  if (probe == nullptr) return InvalidArgument(key + ": cannot read '" + path + "': " + std::strerror(errno));
  std::fclose(probe);
  return Status::Ok();
}

void SetBaseline(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_default_passwd_cb(ctx, &RefusePassphrase);
}

Status UseCertificateAndKey(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file,
                            std::string_view where) {
  const std::string cert_key = Key(where, "tls_cert_file");
  const std::string key_key = Key(where, "tls_key_file");
  TS_RETURN_IF_ERROR(CheckReadable(cert_key, cert_file));
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return InvalidArgument(cert_key + ": '" + cert_file +
                           "' holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)" +
                           OpenSslReason());
  }
  TS_RETURN_IF_ERROR(CheckReadable(key_key, key_file));
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(key_file.c_str(), "rb"));
  std::unique_ptr<EVP_PKEY, PkeyFree> key;
  if (bio) key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, &RefusePassphrase, nullptr));
  if (!key) {
    ERR_clear_error();
    return InvalidArgument(key_key + ": '" + key_file + "' holds no unencrypted PEM private key");
  }
  // SSL_CTX_use_PrivateKey also refuses a key of another certificate; check it explicitly to
  // say so.
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return InvalidArgument(key_key + ": the key in '" + key_file + "' does not match the certificate in " +
                           cert_key + " '" + cert_file + "'");
  }
  return Status::Ok();
}

Status LoadCaFile(SSL_CTX* ctx, const std::string& key, const std::string& ca_file) {
  TS_RETURN_IF_ERROR(CheckReadable(key, ca_file));
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    return InvalidArgument(key + ": '" + ca_file + "' holds no PEM CA certificate" + OpenSslReason());
  }
  return Status::Ok();
}

}  // namespace

ServerTls::ServerTls() : context(asio::ssl::context::tls_server) {}

ClientTls::ClientTls() : context(asio::ssl::context::tls_client) {}

Result<std::shared_ptr<ServerTls>> LoadServerTls(const TlsServerConfig& config, std::string_view where) {
  if (config.cert_file.empty()) {
    return InvalidArgument(Key(where, "tls_cert_file") + ": required for a TLS listener");
  }
  if (config.key_file.empty()) {
    return InvalidArgument(Key(where, "tls_key_file") + ": required with " + Key(where, "tls_cert_file"));
  }
  auto tls = std::make_shared<ServerTls>();
  SSL_CTX* ctx = tls->context.native_handle();
  SetBaseline(ctx);
  TS_RETURN_IF_ERROR(UseCertificateAndKey(ctx, config.cert_file, config.key_file, where));
  if (!config.client_ca_file.empty()) {
    const std::string key = Key(where, "tls_client_ca_file");
    TS_RETURN_IF_ERROR(LoadCaFile(ctx, key, config.client_ca_file));
    // Tell clients which CAs are accepted (RFC 8446 4.3.2 certificate_authorities).
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (names == nullptr) {
      ERR_clear_error();
      return InvalidArgument(key + ": '" + config.client_ca_file + "' holds no PEM CA certificate");
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    tls->requires_client_certificate = true;
  }
  return tls;
}

Result<std::shared_ptr<ClientTls>> LoadClientTls(const TlsClientConfig& config, std::string_view host,
                                                 std::string_view where) {
  if (config.ca_file.empty()) {
    return InvalidArgument(Key(where, "tls_ca_file") + ": required for a TLS link (the CA of the server's certificate)");
  }
  if (config.cert_file.empty() != config.key_file.empty()) {
    return InvalidArgument(config.cert_file.empty()
                               ? Key(where, "tls_cert_file") + ": required with " + Key(where, "tls_key_file")
                               : Key(where, "tls_key_file") + ": required with " + Key(where, "tls_cert_file"));
  }
  auto tls = std::make_shared<ClientTls>();
  tls->server_name = config.server_name.empty() ? std::string(host) : config.server_name;
  if (tls->server_name.empty()) {
    return InvalidArgument(Key(where, "tls_server_name") + ": required when the link has no host");
  }
  SSL_CTX* ctx = tls->context.native_handle();
  SetBaseline(ctx);
  TS_RETURN_IF_ERROR(LoadCaFile(ctx, Key(where, "tls_ca_file"), config.ca_file));
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!config.cert_file.empty()) {
    TS_RETURN_IF_ERROR(UseCertificateAndKey(ctx, config.cert_file, config.key_file, where));
  }
  return tls;
}

}  // namespace tapstack::link
