#include "store/placeholders.h"

#include <cctype>

namespace tapstack::store::internal {

namespace {

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status Unterminated(std::string_view what, std::size_t offset) {
  return InvalidArgument("unterminated " + std::string(what) + " starting at byte " +
                         std::to_string(offset));
}

}  // namespace

Result<NumberedSql> NumberPlaceholders(std::string_view sql) {
  NumberedSql out;
  out.sql.reserve(sql.size() + 8);
  const std::size_t n = sql.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = sql[i];
    const bool after_ident = i > 0 && IsIdentChar(sql[i - 1]);
    if (c == '\'') {
      // E'...' strings take backslash escapes; plain ones only '' (standard_conforming_strings).
      const bool escapes =
          i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && !(i > 1 && IsIdentChar(sql[i - 2]));
      std::size_t j = i + 1;
      for (;; ++j) {
        if (j >= n) return Unterminated("string", i);
        if (escapes && sql[j] == '\\') {
          ++j;
          continue;
        }
        if (sql[j] == '\'') {
          if (j + 1 < n && sql[j + 1] == '\'') {
            ++j;
            continue;
          }
          break;
        }
      }
      out.sql.append(sql.substr(i, j + 1 - i));
      i = j + 1;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (;; ++j) {
        if (j >= n) return Unterminated("quoted identifier", i);
        if (sql[j] == '"') {
          if (j + 1 < n && sql[j + 1] == '"') {
            ++j;
            continue;
          }
          break;
        }
      }
      out.sql.append(sql.substr(i, j + 1 - i));
      i = j + 1;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      std::size_t j = sql.find('\n', i);
      if (j == std::string_view::npos) j = n;
      out.sql.append(sql.substr(i, j - i));
      i = j;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      int depth = 1;
      std::size_t j = i + 2;
      while (depth > 0) {
        if (j + 1 >= n) return Unterminated("comment", i);
        if (sql[j] == '/' && sql[j + 1] == '*') {
          ++depth;
          j += 2;
        } else if (sql[j] == '*' && sql[j + 1] == '/') {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      out.sql.append(sql.substr(i, j - i));
      i = j;
    } else if (c == '$' && !after_ident) {
      if (i + 1 < n && IsDigit(sql[i + 1])) {
        return InvalidArgument("numbered placeholder at byte " + std::to_string(i) +
                               " is not portable: write ?");
      }
      // A dollar quote: $$ or $tag$ where tag is an identifier.
      std::size_t j = i + 1;
      while (j < n && sql[j] != '$' && IsIdentChar(sql[j])) ++j;
      if (j < n && sql[j] == '$') {
        const std::string_view tag = sql.substr(i, j + 1 - i);
        const std::size_t end = sql.find(tag, j + 1);
        if (end == std::string_view::npos) return Unterminated("dollar-quoted string", i);
        out.sql.append(sql.substr(i, end + tag.size() - i));
        i = end + tag.size();
      } else {
        out.sql.push_back(c);
        ++i;
      }
    } else if (c == '?') {
      if (i + 1 < n && IsDigit(sql[i + 1])) {
        return InvalidArgument("numbered placeholder at byte " + std::to_string(i) +
                               " is not portable: write ?");
      }
      ++out.parameter_count;
      out.sql += '$';
      out.sql += std::to_string(out.parameter_count);
      ++i;
    } else if (IsIdentChar(c)) {
      // Copy a whole identifier or number so that a `$` inside it is not taken for a quote.
      std::size_t j = i;
      while (j < n && IsIdentChar(sql[j])) ++j;
      out.sql.append(sql.substr(i, j - i));
      i = j;
    } else {
      out.sql.push_back(c);
      ++i;
    }
  }
  return out;
}

}  // namespace tapstack::store::internal
