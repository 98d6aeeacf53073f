#include "store/value.h"

#include <algorithm>
#include <cstdio>

namespace tapstack::store {

namespace {
constexpr std::size_t kDebugShownMax = 32;  // characters or bytes shown by DebugString
}  // namespace

std::string_view TypeName(Value::Type type) {
  switch (type) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kInt64:
      return "int64";
    case Value::Type::kText:
      return "text";
    case Value::Type::kBlob:
      return "blob";
    case Value::Type::kBool:
      return "bool";
  }
  return "unknown";
}

std::string Value::DebugString() const {
  switch (type()) {
    case Type::kNull:
      return "NULL";
    case Type::kInt64:
      return std::to_string(int64());
    case Type::kBool:
      return boolean() ? "true" : "false";
    case Type::kText: {
      const std::string& t = text();
      std::string out = "'" + t.substr(0, kDebugShownMax) + "'";
      if (t.size() > kDebugShownMax) out += "...(" + std::to_string(t.size()) + " chars)";
      return out;
    }
    case Type::kBlob: {
      const Bytes& b = blob();
      std::string out = "x'";
      const std::size_t shown = std::min(b.size(), kDebugShownMax);
      for (std::size_t i = 0; i < shown; ++i) {
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02x", b[i]);
        out += hex;
      }
      out += "'";
      if (b.size() > kDebugShownMax) out += "...(" + std::to_string(b.size()) + " bytes)";
      return out;
    }
  }
  return "?";
}

}  // namespace tapstack::store
