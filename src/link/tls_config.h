// TLS settings of an ISO 8583 link, as configured (file names only; tls_context.h loads them).
// Plain data without asio or OpenSSL types, so configuration code can hold them cheaply.
#pragma once

#include <string>

namespace tapstack::link {

// A listener's TLS: its certificate chain and key, and, for mutual TLS, the CA that must have
// signed every client's certificate (banks' links to a network are mutually authenticated).
struct TlsServerConfig {
  std::string cert_file = {};       // PEM chain, leaf first
  std::string key_file = {};        // PEM private key, not encrypted
  std::string client_ca_file = {};  // PEM CA certificates; "" = clients need no certificate

  bool enabled() const { return !cert_file.empty() || !key_file.empty() || !client_ca_file.empty(); }
};

// A client link's TLS: the CA that must have signed the server's certificate, the name that
// certificate must carry (a DNS name, or an IP address matched against IP subject alternative
// names), and optionally the client's own certificate for mutual TLS.
struct TlsClientConfig {
  std::string ca_file = {};      // PEM CA certificates; required when TLS is on
  std::string server_name = {};  // "" = the link's host
  std::string cert_file = {};    // PEM chain; with key_file, or neither
  std::string key_file = {};     // PEM private key, not encrypted

  bool enabled() const {
    return !ca_file.empty() || !server_name.empty() || !cert_file.empty() || !key_file.empty();
  }
};

}  // namespace tapstack::link
