#include "server/serve_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace tapstack::server {

namespace {

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
    return InvalidArgument("config: " + std::string(section) + "." + std::string(key) +
                           ": expected a string");
  }
  out = *value;
  return Status::Ok();
}

Status ReadPort(const toml::table& table, std::string_view section, std::uint16_t& out) {
  const toml::node* port = table.get("port");
  if (port == nullptr) return Status::Ok();
  auto value = port->value<std::int64_t>();
  if (!port->is_integer() || !value || *value < 1 || *value > 65535) {
    return InvalidArgument("config: " + std::string(section) + ".port: expected an integer 1-65535");
  }
  out = static_cast<std::uint16_t>(*value);
  return Status::Ok();
}

const toml::table* Section(const toml::table& root, std::string_view name, Status& status) {
  const toml::node* node = root.get(name);
  if (node == nullptr) return nullptr;
  if (!node->is_table()) status = InvalidArgument("config: [" + std::string(name) + "] must be a table");
  return node->as_table();
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
  TS_RETURN_IF_ERROR(UnknownKeys(root, "", {"store", "http", "iso8583", "demo", "log"}));

  ServeConfig next = config;
  Status status;
  if (const toml::table* store = Section(root, "store", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*store, "store.", {"data_dir"}));
    TS_RETURN_IF_ERROR(ReadString(*store, "store", "data_dir", next.data_dir));
    if (next.data_dir.empty()) return InvalidArgument("config: store.data_dir: must not be empty");
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* http = Section(root, "http", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*http, "http.", {"bind", "port"}));
    TS_RETURN_IF_ERROR(ReadString(*http, "http", "bind", next.http_bind));
    TS_RETURN_IF_ERROR(ReadPort(*http, "http", next.http_port));
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* iso = Section(root, "iso8583", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*iso, "iso8583.", {"bind", "port"}));
    TS_RETURN_IF_ERROR(ReadString(*iso, "iso8583", "bind", next.iso8583_bind));
    TS_RETURN_IF_ERROR(ReadPort(*iso, "iso8583", next.iso8583_port));
  }
  TS_RETURN_IF_ERROR(status);
  if (const toml::table* demo = Section(root, "demo", status)) {
    TS_RETURN_IF_ERROR(UnknownKeys(*demo, "demo.", {"seed_file"}));
    TS_RETURN_IF_ERROR(ReadString(*demo, "demo", "seed_file", next.seed_file));
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
  config = next;
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
