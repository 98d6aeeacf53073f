// ServeConfig: what `tapstack serve` runs and where, from defaults, a TOML file, then flags.
// Every option is documented in docs/CONFIG.md and in the commented example tapstack.example.toml.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::server {

struct ServeConfig {
  // [store]
  std::string data_dir = "data";        // SQLite files, one per role: <data_dir>/<role>.db
  // [http]
  std::string http_bind = "127.0.0.1";  // loopback by default: a demo is not an internet service
  std::uint16_t http_port = 8080;     // 0 (not allowed in the file) = any free port, for tests
  // [iso8583]
  std::uint16_t iso8583_port = 8583;    // acquirer-facing ISO 8583 listener of the switch (0: any)
  std::string iso8583_bind = "127.0.0.1";
  // [demo]
  std::string seed_file;                // "" = the seed/demo_network.json shipped with tapstack
  // [log]
  std::string log_level = "info";       // trace | debug | info | warn | error
};

// Parses TOML text into `config`, overriding only the keys present. Errors (kInvalidArgument)
// name the key and what was expected: a syntax error (with line and column), an unknown table or
// key, a wrong type, or a value out of range. On error `config` is left unchanged.
Status ParseServeConfig(std::string_view toml_text, ServeConfig& config);

// Reads the file at `path` and parses it as above. Errors: kNotFound when the file is missing.
Status LoadServeConfigFile(const std::string& path, ServeConfig& config);

}  // namespace tapstack::server
