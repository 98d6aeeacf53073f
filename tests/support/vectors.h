// Loads the known-answer vector files copied into tests/vectors/ (each entry names its source).
#pragma once

#include <fstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace tapstack::testing {

// Parses tests/vectors/<file>; throws (failing the test) when the file is missing or malformed.
inline nlohmann::json LoadVectors(const std::string& file) {
  std::ifstream in(std::string(TAPSTACK_VECTORS_DIR) + "/" + file);
  if (!in) throw std::runtime_error("cannot open vector file " + file);
  return nlohmann::json::parse(in);
}

// The entry of `file`'s "vectors" array whose "id" is `id`; throws when absent.
inline nlohmann::json VectorById(const nlohmann::json& doc, const std::string& id) {
  for (const auto& v : doc.at("vectors")) {
    if (v.at("id") == id) return v;
  }
  throw std::runtime_error("no vector with id " + id);
}

}  // namespace tapstack::testing
