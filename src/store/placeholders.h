// Internal to store/: rewriting the portable `?` placeholders for PostgreSQL.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace tapstack::store::internal {

struct NumberedSql {
  std::string sql;          // the statement with each `?` replaced by $1, $2, …
  int parameter_count = 0;  // how many `?` there were
};

// Replaces each `?` placeholder in `sql` by $1..$n, leaving alone what is inside '...' and E'...'
// strings, "..." identifiers, $tag$...$tag$ strings, -- line comments and /* */ comments (nested
// as PostgreSQL nests them). Errors (kInvalidArgument, naming the byte offset): numbered
// placeholders (?1, $1), which are not portable, and unterminated strings, identifiers or comments.
Result<NumberedSql> NumberPlaceholders(std::string_view sql);

}  // namespace tapstack::store::internal
