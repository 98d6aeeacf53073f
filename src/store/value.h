// Value: one typed SQL parameter or column value, the same on SQLite and PostgreSQL.
//
// The store knows five types: NULL, 64-bit signed integer, UTF-8 text, blob (bytes) and boolean.
// There is deliberately no floating-point type: money is exact (integer minor units).
//
// Values convert implicitly from the C++ types that map without loss, so parameters can be written
// as `{account_id, "EUR", pan_ciphertext, true, nullptr}`. Conversions that could lose information
// do not compile: unsigned 64-bit integers, floating point and enums must be converted explicitly.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "core/bytes.h"

namespace tapstack::store {

class Value {
 public:
  enum class Type { kNull, kInt64, kText, kBlob, kBool };

  Value() = default;        // NULL
  Value(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): NULL
  Value(bool b) : v_(std::in_place_index<kBoolIndex>, b) {}  // NOLINT(google-explicit-constructor)
  // Every signed integer type and the unsigned types narrower than 64 bits; not char, not bool.
  template <typename I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, char> &&
           (std::is_signed_v<I> ? sizeof(I) <= 8 : sizeof(I) < 8))
      Value(I i)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<kInt64Index>, static_cast<std::int64_t>(i)) {}
  Value(std::string s)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<kTextIndex>, std::move(s)) {}
  Value(std::string_view s)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<kTextIndex>, s) {}
  Value(const char* s)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<kTextIndex>, std::string(s)) {}
  Value(Bytes b) : v_(std::in_place_index<kBlobIndex>, std::move(b)) {}  // NOLINT
  Value(ByteView b)  // NOLINT(google-explicit-constructor)
      : v_(std::in_place_index<kBlobIndex>, b.begin(), b.end()) {}
  // An optional is NULL when empty, else its value.
  template <typename T>
  Value(const std::optional<T>& o) {  // NOLINT(google-explicit-constructor)
    if (o.has_value()) *this = Value(*o);
  }
  // Anything else (uint64_t, double, enums, pointers) is refused at compile time.
  template <typename T>
  Value(T) = delete;

  static Value Null() { return {}; }
  static Value Int64(std::int64_t i) { return Value(i); }
  static Value Text(std::string s) { return Value(std::move(s)); }
  static Value Blob(Bytes b) { return Value(std::move(b)); }
  static Value Bool(bool b) { return Value(b); }

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::kNull; }

  // Unchecked accessors: calling one for another type is a programmer error (throws
  // std::bad_variant_access). Row::Get* are the checked way to read query results.
  std::int64_t int64() const { return std::get<kInt64Index>(v_); }
  const std::string& text() const { return std::get<kTextIndex>(v_); }
  const Bytes& blob() const { return std::get<kBlobIndex>(v_); }
  bool boolean() const { return std::get<kBoolIndex>(v_); }

  // For test output and logs: `NULL`, `42`, `'text'`, `x'00ff'`, `true`. Long text and blobs are
  // cut after 32 characters/bytes. Never log values that may hold card data.
  std::string DebugString() const;

  friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }

 private:
  static constexpr std::size_t kInt64Index = 1;
  static constexpr std::size_t kTextIndex = 2;
  static constexpr std::size_t kBlobIndex = 3;
  static constexpr std::size_t kBoolIndex = 4;

  // The index order matches Type.
  std::variant<std::monostate, std::int64_t, std::string, Bytes, bool> v_;
};

// "null", "int64", "text", "blob", "bool".
std::string_view TypeName(Value::Type type);

}  // namespace tapstack::store
