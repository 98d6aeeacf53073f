// Row and Rows: the result of a query, with checked typed access by column index or name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "store/value.h"

namespace tapstack::store {

// Column names of one result, shared by its rows.
using ColumnNames = std::shared_ptr<const std::vector<std::string>>;

// One result row. Cheap to move; copying copies its values.
//
// Typed getters return:
//   kOutOfRange       the index is not below size();
//   kInvalidArgument  no column has that name, the value is NULL (use GetOptional*), or the value
//                     has another type. The message names the column and both types.
// A BOOLEAN column reads as bool on both databases; GetBool also accepts an int64 0 or 1, because a
// SQLite expression such as `count(*) > 0` has no declared type and comes back as an integer.
// Names match case-insensitively (PostgreSQL folds unquoted names to lower case, SQLite keeps
// them); name result columns of expressions with `AS`, since the databases name them differently.
class Row {
 public:
  Row(ColumnNames names, std::vector<Value> values);

  std::size_t size() const { return values_.size(); }
  const std::vector<std::string>& column_names() const { return *names_; }
  const std::vector<Value>& values() const { return values_; }

  // Index of the column called `name`; kInvalidArgument when there is none.
  Result<std::size_t> ColumnIndex(std::string_view name) const;

  // The raw value; kOutOfRange / kInvalidArgument as above.
  Result<Value> Get(std::size_t column) const;
  Result<Value> Get(std::string_view column) const;
  Result<bool> IsNull(std::size_t column) const;
  Result<bool> IsNull(std::string_view column) const;

  Result<std::int64_t> GetInt64(std::size_t column) const;
  Result<std::int64_t> GetInt64(std::string_view column) const;
  Result<std::string> GetText(std::size_t column) const;
  Result<std::string> GetText(std::string_view column) const;
  Result<Bytes> GetBlob(std::size_t column) const;
  Result<Bytes> GetBlob(std::string_view column) const;
  Result<bool> GetBool(std::size_t column) const;
  Result<bool> GetBool(std::string_view column) const;

  // As above, but NULL reads as std::nullopt instead of an error.
  Result<std::optional<std::int64_t>> GetOptionalInt64(std::size_t column) const;
  Result<std::optional<std::int64_t>> GetOptionalInt64(std::string_view column) const;
  Result<std::optional<std::string>> GetOptionalText(std::size_t column) const;
  Result<std::optional<std::string>> GetOptionalText(std::string_view column) const;
  Result<std::optional<Bytes>> GetOptionalBlob(std::size_t column) const;
  Result<std::optional<Bytes>> GetOptionalBlob(std::string_view column) const;
  Result<std::optional<bool>> GetOptionalBool(std::size_t column) const;
  Result<std::optional<bool>> GetOptionalBool(std::string_view column) const;

 private:
  // The value at `column`, checked for range.
  Result<const Value*> At(std::size_t column) const;
  std::string Describe(std::size_t column) const;
  template <typename T>
  Result<std::optional<T>> GetTyped(std::size_t column) const;
  template <typename T>
  Result<T> GetRequired(std::size_t column) const;

  ColumnNames names_;
  std::vector<Value> values_;
};

// All rows of one query, in order, plus the column names (also available when there are no rows).
class Rows {
 public:
  Rows() : names_(std::make_shared<const std::vector<std::string>>()) {}
  Rows(ColumnNames names, std::vector<Row> rows)
      : names_(std::move(names)), rows_(std::move(rows)) {}

  const std::vector<std::string>& column_names() const { return *names_; }
  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const Row& operator[](std::size_t i) const { return rows_[i]; }
  std::vector<Row>::const_iterator begin() const { return rows_.begin(); }
  std::vector<Row>::const_iterator end() const { return rows_.end(); }

 private:
  ColumnNames names_;
  std::vector<Row> rows_;
};

}  // namespace tapstack::store
