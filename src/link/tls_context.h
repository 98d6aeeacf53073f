// Loads the TLS setup of an ISO 8583 link (tls_config.h) into an OpenSSL 3 context for asio::ssl.
//
// Both sides: TLS 1.2 is the lowest version (RFC 8996 deprecates 1.0 and 1.1; PCI DSS 4.0 4.2.1
// asks for strong cryptography on open networks), no compression (CRIME), no renegotiation.
// The files are read and checked here, once, at start-up: a missing or unreadable file, a file
// without a PEM certificate / unencrypted key, or a key that does not match its certificate is an
// error naming the configuration key (`where` + "tls_cert_file", …), rather than a listener that
// refuses every handshake later.
// Thread-safety: a loaded context is immutable and shared by every connection of a link.
#pragma once

#include <asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "link/tls_config.h"

namespace tapstack::link {

struct ServerTls {
  ServerTls();
  asio::ssl::context context;
  bool requires_client_certificate = false;
};

struct ClientTls {
  ClientTls();
  asio::ssl::context context;
  std::string server_name;  // checked against the server's certificate; sent as SNI when a DNS name
};

// `where` prefixes the key names in errors, e.g. "iso8583." → "iso8583.tls_cert_file: …".
// Errors (kInvalidArgument): cert_file or key_file missing (both are required), a file that
// cannot be read or holds no PEM certificate / unencrypted PEM key / CA certificate, a key that
// does not match the certificate.
Result<std::shared_ptr<ServerTls>> LoadServerTls(const TlsServerConfig& config, std::string_view where);

// `server_name` is config.server_name, or the link's host when that is empty.
// Errors (kInvalidArgument): ca_file missing (a server that is not verified is not authenticated),
// one of cert_file / key_file without the other, and the file errors above.
Result<std::shared_ptr<ClientTls>> LoadClientTls(const TlsClientConfig& config, std::string_view host,
                                                 std::string_view where);

}  // namespace tapstack::link
