#include "server/serve_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace tapstack::server {

namespace {

constexpr std::size_t kConsolePasswordBytesMin = 8;

Status UnknownKeys(const toml::table& table, std::string_view prefix,
                   const std::set<std::string_view>& known) {
  for (const auto& [key, node] : table) {
    if (!known.contains(key.str())) {
      return InvalidArgument("config: unknown key '" + std::string(prefix) + std::string(key.str()) +
                             "'");
    }
  }
  return Status::Ok();
}

Status ReadString(const toml::table& table, std::string_view section, std::string_view key,
                  std::string& out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  auto value = node->value<std::string>();
  if (!node->is_string() || !value) {
    return InvalidArgument("config: " + std::string(section) + (section.empty() ? "" : ".") +
                           std::string(key) + ": expected a string");
  }
  out = *value;
  return Status::Ok();
}

Status ReadInt(const toml::table& table, std::string_view section, std::string_view key,
               std::int64_t min, std::int64_t max, std::int64_t& out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  auto value = node->value<std::int64_t>();
  if (!node->is_integer() || !value || *value < min || *value > max) {
    return InvalidArgument("config: " + std::string(section) + "." + std::string(key) +
                           ": expected an integer " + std::to_string(min) + "-" + std::to_string(max));
  }
  out = *value;
  return Status::Ok();
}

template <typename T>
Status ReadInt(const toml::table& table, std::string_view section, std::string_view key,
               std::int64_t min, std::int64_t max, T& out) {
  std::int64_t value = out;
  TS_RETURN_IF_ERROR(ReadInt(table, section, key, min, max, value));
  out = static_cast<T>(value);
  return Status::Ok();
}

Status ReadPort(const toml::table& table, std::string_view section, std::string_view key,
                std::uint16_t& out) {
  return ReadInt(table, section, key, 1, 65535, out);
}

Status ReadStrings(const toml::table& table, std::string_view section, std::string_view key,
                   std::vector<std::string>& out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  const std::string where = "config: " + std::string(section) + "." + std::string(key);
  const toml::array* array = node->as_array();
  if (array == nullptr) return InvalidArgument(where + ": expected an array of strings");
  std::vector<std::string> values;
  for (const toml::node& item : *array) {
    auto value = item.value<std::string>();
    if (!item.is_string() || !value) return InvalidArgument(where + ": expected an array of strings");
    values.push_back(*value);
  }
  out = std::move(values);
  return Status::Ok();
}

// A role's name: it names files and PostgreSQL schemas, so only lower-case letters, digits and _.
Status ReadName(const toml::table& table, std::string_view section, std::string& out) {
  std::string name = out;
  TS_RETURN_IF_ERROR(ReadString(table, section, "name", name));
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
    return InvalidArgument("config: " + std::string(section) + ".name: expected lower-case letters, digits and _");
  }
  out = name;
  return Status::Ok();
}

Status ReadIssuerLinks(const toml::node& node, std::vector<IssuerLinkConfig>& out) {
  const toml::array* array = node.as_array();
  if (array == nullptr) return InvalidArgument("config: network.issuers: expected [[network.issuers]] tables");
  std::vector<IssuerLinkConfig> links;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string section = "network.issuers[" + std::to_string(i) + "]";
    const toml::table* table = (*array)[i].as_table();
    if (table == nullptr) return InvalidArgument("config: " + section + ": expected a table");
    TS_RETURN_IF_ERROR(UnknownKeys(*table, section + ".",
                                   {"host", "port", "banks", "tls_ca_file", "tls_server_name", "tls_cert_file",
                                    "tls_key_file"}));
    IssuerLinkConfig link;
    TS_RETURN_IF_ERROR(ReadString(*table, section, "host", link.host));
    TS_RETURN_IF_ERROR(ReadPort(*table, section, "port", link.port));
    TS_RETURN_IF_ERROR(ReadStrings(*table, section, "banks", link.banks));
    TS_RETURN_IF_ERROR(ReadString(*table, section, "tls_ca_file", link.tls.ca_file));
    TS_RETURN_IF_ERROR(ReadString(*table, section, "tls_server_name", link.tls.server_name));
    TS_RETURN_IF_ERROR(ReadString(*table, section, "tls_cert_file", link.tls.cert_file));
    TS_RETURN_IF_ERROR(ReadString(*table, section, "tls_key_file", link.tls.key_file));
    if (link.port == 0) return InvalidArgument("config: " + section + ".port: required");
    if (link.banks.empty()) return InvalidArgument("config: " + section + ".banks: list the institution ids it hosts");
    links.push_back(std::move(link));
  }
  out = std::move(links);
  return Status::Ok();
}

const toml::table* Section(const toml::table& root, std::string_view name, Status& status) {
  const toml::node* node = root.get(name);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) status = InvalidArgument("config: [" + std::string(name) + "] must be a table");
  return node->as_table();
}

// The listener's TLS keys come as a pair; mutual TLS needs the listener's own certificate.
Status CheckListenerTls(const link::TlsServerConfig& tls) {
  if (tls.cert_file.empty()) {
    return InvalidArgument(tls.key_file.empty() ? "iso8583.tls_cert_file: required with iso8583.tls_client_ca_file"
                                                : "iso8583.tls_cert_file: required with iso8583.tls_key_file");
  }
  if (tls.key_file.empty()) return InvalidArgument("iso8583.tls_key_file: required with iso8583.tls_cert_file");
  return Status::Ok();
}

// A link's TLS is on when its CA file is set; every other TLS key needs it (a server that is not
// verified is not authenticated), and the client certificate and key come as a pair.
Status CheckLinkTls(const link::TlsClientConfig& tls, const std::string& where) {
  if (!tls.enabled()) return Status::Ok();
  if (tls.ca_file.empty()) {
    const std::string other = !tls.server_name.empty() ? "tls_server_name"
                              : !tls.cert_file.empty() ? "tls_cert_file"
                                                       : "tls_key_file";
    return InvalidArgument(where + "tls_ca_file: required with " + where + other);
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return InvalidArgument(tls.cert_file.empty() ? where + "tls_cert_file: required with " + where + "tls_key_file"
                                                 : where + "tls_key_file: required with " + where + "tls_cert_file");
  }
  return Status::Ok();
}

}  // namespace

Status ParseServeConfig(std::string_view toml_text, ServeConfig& config) {
  // Debian's toml++ is built with exceptions: parse errors arrive as toml::parse_error.
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& err) {
    return InvalidArgument("config: line " + std::to_string(err.source().begin.line) + " column " +
                           std::to_string(err.source().begin.column) + ": " +
                           std::string(err.description()));
  }
  TS_RETURN_IF_ERROR(UnknownKeys(
      root, "", {"role", "store", "http", "console", "iso8583", "demo", "log", "network", "issuer",
                 "acquirer"}));

  ServeConfig next = config;
  Status status;
  std::string role;
  TS_RETURN_IF_ERROR(ReadString(root, "", "role", role));
  if (!role.empty()) {
    auto parsed = ParseRole(role);
    if (!parsed.ok()) return InvalidArgument("config: role: " + parsed.status().message());
    next.role = *parsed;
  }
  if (const toml::table* store = Section(root, "store", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*store, "store.", {"data_dir", "url"}));
    TS_RETURN_IF_ERROR(ReadString(*store, "store", "data_dir", next.data_dir));
    TS_RETURN_IF_ERROR(ReadString(*store, "store", "url", next.store_url));
    if (next.data_dir.empty()) return InvalidArgument("config: store.data_dir: must not be empty");
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* http = Section(root, "http", status)) {
    TS_RETURN_IF_ERROR(
        UnknownKeys(*http, "http.", {"bind", "port", "web_dir", "tls_cert_file", "tls_key_file"}));
    TS_RETURN_IF_ERROR(ReadString(*http, "http", "bind", next.http_bind));
    TS_RETURN_IF_ERROR(ReadPort(*http, "http", "port", next.http_port));
    TS_RETURN_IF_ERROR(ReadString(*http, "http", "web_dir", next.web_dir));
    TS_RETURN_IF_ERROR(ReadString(*http, "http", "tls_cert_file", next.http_tls_cert_file));
    TS_RETURN_IF_ERROR(ReadString(*http, "http", "tls_key_file", next.http_tls_key_file));
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* console = Section(root, "console", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*console, "console.", {"user", "password"}));
    TS_RETURN_IF_ERROR(ReadString(*console, "console", "user", next.console_user));
    TS_RETURN_IF_ERROR(ReadString(*console, "console", "password", next.console_password));
    if (next.console_user.empty()) return InvalidArgument("config: console.user: must not be empty");
    if (next.console_password.size() < kConsolePasswordBytesMin) {
      return InvalidArgument("config: console.password: expected at least " +
                             std::to_string(kConsolePasswordBytesMin) + " bytes");
    }
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* iso = Section(root, "iso8583", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*iso, "iso8583.",
                                   {"bind", "port", "allowed_peers", "tls_cert_file", "tls_key_file",
                                    "tls_client_ca_file"}));
    TS_RETURN_IF_ERROR(ReadString(*iso, "iso8583", "bind", next.iso8583_bind));
    TS_RETURN_IF_ERROR(ReadPort(*iso, "iso8583", "port", next.iso8583_port));
    TS_RETURN_IF_ERROR(ReadStrings(*iso, "iso8583", "allowed_peers", next.allowed_peers));
    TS_RETURN_IF_ERROR(ReadString(*iso, "iso8583", "tls_cert_file", next.iso8583_tls.cert_file));
    TS_RETURN_IF_ERROR(ReadString(*iso, "iso8583", "tls_key_file", next.iso8583_tls.key_file));
    TS_RETURN_IF_ERROR(ReadString(*iso, "iso8583", "tls_client_ca_file", next.iso8583_tls.client_ca_file));
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* demo = Section(root, "demo", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*demo, "demo.", {"seed_file", "cards_per_bank"}));
    TS_RETURN_IF_ERROR(ReadString(*demo, "demo", "seed_file", next.seed_file));
    TS_RETURN_IF_ERROR(ReadInt(*demo, "demo", "cards_per_bank", 1, 1'000'000, next.cards_per_bank));
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* log = Section(root, "log", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*log, "log.", {"level"}));
    TS_RETURN_IF_ERROR(ReadString(*log, "log", "level", next.log_level));
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
    if (!kLevels.contains(next.log_level)) {
      return InvalidArgument("config: log.level: expected trace, debug, info, warn or error");
    }
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* network = Section(root, "network", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*network, "network.", {"name", "issuers", "issuer_timeout_ms"}));
    TS_RETURN_IF_ERROR(ReadName(*network, "network", next.network_name));
    TS_RETURN_IF_ERROR(ReadInt(*network, "network", "issuer_timeout_ms", 10, 60'000, next.issuer_timeout_ms));
    if (const toml::node* issuers = network->get("issuers")) {
      TS_RETURN_IF_ERROR(ReadIssuerLinks(*issuers, next.issuer_links));
    }
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* issuer = Section(root, "issuer", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*issuer, "issuer.", {"name", "banks"}));
    TS_RETURN_IF_ERROR(ReadName(*issuer, "issuer", next.issuer_name));
    TS_RETURN_IF_ERROR(ReadStrings(*issuer, "issuer", "banks", next.issuer_banks));
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* acquirer = Section(root, "acquirer", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*acquirer, "acquirer.",
                                   {"network_host", "network_port", "network_timeout_ms", "network_tls_ca_file",
                                    "network_tls_server_name", "network_tls_cert_file", "network_tls_key_file"}));
    TS_RETURN_IF_ERROR(ReadString(*acquirer, "acquirer", "network_tls_ca_file", next.network_tls.ca_file));
    TS_RETURN_IF_ERROR(ReadString(*acquirer, "acquirer", "network_tls_server_name", next.network_tls.server_name));
    TS_RETURN_IF_ERROR(ReadString(*acquirer, "acquirer", "network_tls_cert_file", next.network_tls.cert_file));
    TS_RETURN_IF_ERROR(ReadString(*acquirer, "acquirer", "network_tls_key_file", next.network_tls.key_file));
    TS_RETURN_IF_ERROR(ReadString(*acquirer, "acquirer", "network_host", next.network_host));
    TS_RETURN_IF_ERROR(ReadPort(*acquirer, "acquirer", "network_port", next.network_port));
    TS_RETURN_IF_ERROR(ReadInt(*acquirer, "acquirer", "network_timeout_ms", 10, 120'000, next.network_timeout_ms));
  }
  TS_RETURN_IF_ERROR(status);
  config = next;
  return Status::Ok();
}

std::string DefaultWebDir() { return TAPSTACK_WEB_DIR; }

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAll: return "all";
    case Role::kNetwork: return "network";
    case Role::kIssuer: return "issuer";
    case Role::kAcquirer: return "acquirer";
  }
  return "?";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role role : {Role::kAll, Role::kNetwork, Role::kIssuer, Role::kAcquirer}) {
    if (RoleName(role) == name) return role;
  }
  return InvalidArgument("'" + std::string(name) + "' is not a role: expected all, network, issuer or acquirer");
}

Status ValidateServeConfig(const ServeConfig& config) {
  if (!config.store_url.empty() && !config.store_url.starts_with("postgresql://") &&
      !config.store_url.starts_with("postgres://")) {
    return InvalidArgument("store.url: expected postgresql://…");
  }
  if (config.role == Role::kAll && !config.store_url.empty()) {
    return InvalidArgument("store.url: role all runs on the embedded SQLite store; use --role for PostgreSQL");
  }
  // The files themselves are read (and the key matched to the certificate) when the listener
  // starts: HttpFront::UseTls.
  if (config.http_tls_cert_file.empty() != config.http_tls_key_file.empty()) {
    return InvalidArgument(config.http_tls_cert_file.empty()
                               ? "http.tls_cert_file: required with http.tls_key_file"
                               : "http.tls_key_file: required with http.tls_cert_file");
  }
  if (config.iso8583_tls.enabled()) {
    if (config.role == Role::kAll || config.role == Role::kAcquirer) {
      return InvalidArgument("iso8583.tls_cert_file: TLS on the ISO 8583 listener is for roles network and issuer");
    }
    TS_RETURN_IF_ERROR(CheckListenerTls(config.iso8583_tls));
  }
  for (std::size_t i = 0; i < config.issuer_links.size(); ++i) {
    TS_RETURN_IF_ERROR(CheckLinkTls(config.issuer_links[i].tls, "network.issuers[" + std::to_string(i) + "]."));
  }
  TS_RETURN_IF_ERROR(CheckLinkTls(config.network_tls, "acquirer.network_"));
  if (config.role == Role::kNetwork && config.issuer_links.empty()) {
    return InvalidArgument("network.issuers: a network needs at least one [[network.issuers]] link");
  }
  return Status::Ok();
}

Status LoadServeConfigFile(const std::string& path, ServeConfig& config) {
  std::ifstream in(path);
  if (!in) return NotFound("config file '" + path + "' cannot be opened");
  std::stringstream text;
  text << in.rdbuf();
  return ParseServeConfig(text.str(), config).WithContext(path);
}

}  // namespace tapstack::server
