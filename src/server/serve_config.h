// ServeConfig: what `tapstack serve` runs and where, from defaults, a TOML file, then flags.
// Every option is documented in docs/CONFIG.md and in the commented example tapstack.example.toml.
//
// Roles: "all" runs the whole demo network in one process (SQLite under data_dir); "network",
// "issuer" and "acquirer" run one role as its own process, reaching its peers over ISO 8583 on
// TCP, with its relational store on SQLite or, when store.url is set, PostgreSQL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "link/tls_config.h"

namespace tapstack::server {

enum class Role { kAll, kNetwork, kIssuer, kAcquirer };
std::string_view RoleName(Role role);
// Errors: kInvalidArgument naming the accepted roles.
Result<Role> ParseRole(std::string_view name);

// One issuer process the network links to, and the banks (institution ids) it hosts.
struct IssuerLinkConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::vector<std::string> banks;
  // TLS on this link (tls_ca_file, tls_server_name, tls_cert_file, tls_key_file): on when
  // tls_ca_file is set; tls_server_name defaults to host.
  link::TlsClientConfig tls = {};
};

struct ServeConfig {
  Role role = Role::kAll;
  // [store]
  std::string data_dir = "data";        // SQLite files, one per role: <data_dir>/<role>.db; ledger files
  std::string store_url;                // "" = SQLite; postgresql://… = the role's store on PostgreSQL
  // [http]
  std::string http_bind = "127.0.0.1";  // loopback by default: a demo is not an internet service
  std::uint16_t http_port = 8080;       // 0 (not allowed in the file) = any free port, for tests
  std::string web_dir;                  // the web app and console files; "" = DefaultWebDir()
  // Both set: the HTTP API is HTTPS only (server/http_front.h UseTls). PEM files; the key is not
  // encrypted. Both "" (default): plain HTTP.
  std::string http_tls_cert_file;
  std::string http_tls_key_file;
  // [console] the operations console's one admin account (role all). The demo default is printed
  // at start; set your own password for anything but a demo.
  std::string console_user = "admin";
  std::string console_password = "tapstack-console";
  // [iso8583] the role's ISO 8583 listener: acquirer-facing on the network, network-facing on an issuer
  std::uint16_t iso8583_port = 8583;    // 0: any
  std::string iso8583_bind = "127.0.0.1";
  std::vector<std::string> allowed_peers;  // IP addresses allowed to connect; empty: any
  // TLS on the listener (tls_cert_file, tls_key_file; tls_client_ca_file for mutual TLS): on when
  // the certificate and key are set. Roles network and issuer only.
  link::TlsServerConfig iso8583_tls;
  // [demo]
  std::string seed_file;                // "" = the seed/demo_network.json shipped with tapstack
  int cards_per_bank = -1;              // -1: as many as the seed says
  // [log]
  std::string log_level = "info";       // trace | debug | info | warn | error
  // [network] (role network)
  std::string network_name = "network";        // names its files and PostgreSQL schemas
  std::vector<IssuerLinkConfig> issuer_links;  // [[network.issuers]]
  int issuer_timeout_ms = 2'000;               // then the switch stands in
  // [issuer] (role issuer)
  std::string issuer_name = "issuer";          // names its files and PostgreSQL schema
  std::vector<std::string> issuer_banks;       // institution ids hosted; empty: every seed bank
  // [acquirer] (role acquirer)
  std::string network_host = "127.0.0.1";
  std::uint16_t network_port = 8583;
  int network_timeout_ms = 5'000;              // then the terminal reverses
  // TLS on the link to the network (network_tls_ca_file, network_tls_server_name,
  // network_tls_cert_file, network_tls_key_file): on when network_tls_ca_file is set.
  link::TlsClientConfig network_tls;
};

// Where `tapstack serve` finds web/ when http.web_dir is not set: the source tree it was built
// from (compiled in), so a build directory serves its own checkout's files.
std::string DefaultWebDir();

// Parses TOML text into `config`, overriding only the keys present. Errors (kInvalidArgument)
// name the key and what was expected: a syntax error (with line and column), an unknown table or
// key, a wrong type, or a value out of range. On error `config` is left unchanged.
Status ParseServeConfig(std::string_view toml_text, ServeConfig& config);

// Reads the file at `path` and parses it as above. Errors: kNotFound when the file is missing.
Status LoadServeConfigFile(const std::string& path, ServeConfig& config);

// Checks what the role needs once flags are applied (e.g. a network needs issuer links, TLS
// files come in pairs). TLS files are read when the role starts (link/tls_context.h).
// Errors: kInvalidArgument naming the missing or conflicting setting.
Status ValidateServeConfig(const ServeConfig& config);

}  // namespace tapstack::server
