#include "store/row.h"

#include <algorithm>
#include <cctype>

namespace tapstack::store {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Maps a Value type to the C++ type a getter returns.
template <typename T>
struct Expected;
template <>
struct Expected<std::int64_t> {
  static constexpr Value::Type kType = Value::Type::kInt64;
};
template <>
struct Expected<std::string> {
  static constexpr Value::Type kType = Value::Type::kText;
};
template <>
struct Expected<Bytes> {
  static constexpr Value::Type kType = Value::Type::kBlob;
};
template <>
struct Expected<bool> {
  static constexpr Value::Type kType = Value::Type::kBool;
};

}  // namespace

Row::Row(ColumnNames names, std::vector<Value> values)
    : names_(std::move(names)), values_(std::move(values)) {}

Result<std::size_t> Row::ColumnIndex(std::string_view name) const {
  for (std::size_t i = 0; i < names_->size(); ++i) {
    if (EqualsIgnoreCase((*names_)[i], name)) return i;
  }
  std::string known;
  for (const std::string& n : *names_) {
    if (!known.empty()) known += ", ";
    known += n;
  }
  return InvalidArgument("no result column named '" + std::string(name) + "' (columns: " + known +
                         ")");
}

std::string Row::Describe(std::size_t column) const {
  std::string name = column < names_->size() ? (*names_)[column] : std::string("?");
  return "column '" + name + "' (index " + std::to_string(column) + ")";
}

Result<const Value*> Row::At(std::size_t column) const {
  if (column >= values_.size()) {
    return OutOfRange("column index " + std::to_string(column) + " out of range: the row has " +
                      std::to_string(values_.size()) + " columns");
  }
  return &values_[column];
}

template <typename T>
Result<std::optional<T>> Row::GetTyped(std::size_t column) const {
  TS_ASSIGN_OR_RETURN(const Value* v, At(column));
  if (v->is_null()) return std::optional<T>();
  constexpr Value::Type kWant = Expected<T>::kType;
  if (v->type() == kWant) {
    if constexpr (std::is_same_v<T, std::int64_t>) return std::optional<T>(v->int64());
    if constexpr (std::is_same_v<T, std::string>) return std::optional<T>(v->text());
    if constexpr (std::is_same_v<T, Bytes>) return std::optional<T>(v->blob());
    if constexpr (std::is_same_v<T, bool>) return std::optional<T>(v->boolean());
  }
  if constexpr (std::is_same_v<T, bool>) {
    // SQLite has no boolean storage class: expressions without a declared type come back as 0/1.
    if (v->type() == Value::Type::kInt64 && (v->int64() == 0 || v->int64() == 1)) {
      return std::optional<bool>(v->int64() == 1);
    }
  }
  std::string message = Describe(column);
  message += ": expected ";
  message += TypeName(kWant);
  message += ", got ";
  message += TypeName(v->type());
  return InvalidArgument(std::move(message));
}

template <typename T>
Result<T> Row::GetRequired(std::size_t column) const {
  TS_ASSIGN_OR_RETURN(std::optional<T> v, GetTyped<T>(column));
  if (!v.has_value()) {
    return InvalidArgument(Describe(column) + ": is NULL, expected " +
                           std::string(TypeName(Expected<T>::kType)));
  }
  return std::move(*v);
}

Result<Value> Row::Get(std::size_t column) const {
  TS_ASSIGN_OR_RETURN(const Value* v, At(column));
  return *v;
}
Result<Value> Row::Get(std::string_view column) const {
  TS_ASSIGN_OR_RETURN(std::size_t i, ColumnIndex(column));
  return Get(i);
}
Result<bool> Row::IsNull(std::size_t column) const {
  TS_ASSIGN_OR_RETURN(const Value* v, At(column));
  return v->is_null();
}
Result<bool> Row::IsNull(std::string_view column) const {
  TS_ASSIGN_OR_RETURN(std::size_t i, ColumnIndex(column));
  return IsNull(i);
}

#define TS_STORE_ROW_GETTERS_(Name, T)                                                  \
  Result<T> Row::Get##Name(std::size_t column) const { return GetRequired<T>(column); } \
  Result<T> Row::Get##Name(std::string_view column) const {                             \
    TS_ASSIGN_OR_RETURN(std::size_t i, ColumnIndex(column));                            \
    return GetRequired<T>(i);                                                           \
  }                                                                                     \
  Result<std::optional<T>> Row::GetOptional##Name(std::size_t column) const {           \
    return GetTyped<T>(column);                                                         \
  }                                                                                     \
  Result<std::optional<T>> Row::GetOptional##Name(std::string_view column) const {      \
    TS_ASSIGN_OR_RETURN(std::size_t i, ColumnIndex(column));                            \
    return GetTyped<T>(i);                                                              \
  }

TS_STORE_ROW_GETTERS_(Int64, std::int64_t)
TS_STORE_ROW_GETTERS_(Text, std::string)
TS_STORE_ROW_GETTERS_(Blob, Bytes)
TS_STORE_ROW_GETTERS_(Bool, bool)

#undef TS_STORE_ROW_GETTERS_

}  // namespace tapstack::store
