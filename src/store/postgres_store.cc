#include "store/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/placeholders.h"

namespace tapstack::store {

namespace {

// Type OIDs from PostgreSQL's src/include/catalog/pg_type.dat (stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kCharOid = 18;
constexpr Oid kNameOid = 19;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kOidOid = 26;
constexpr Oid kJsonOid = 114;
constexpr Oid kUnknownOid = 705;
constexpr Oid kBpcharOid = 1042;
constexpr Oid kVarcharOid = 1043;
constexpr Oid kNumericOid = 1700;

constexpr int kTextFormat = 0;
constexpr int kBinaryFormat = 1;

std::string OidName(Oid oid) {
  switch (oid) {
    case kBoolOid:
      return "boolean";
    case kByteaOid:
      return "bytea";
    case kCharOid:
      return "\"char\"";
    case kNameOid:
      return "name";
    case kInt8Oid:
      return "bigint";
    case kInt2Oid:
      return "smallint";
    case kInt4Oid:
      return "integer";
    case kTextOid:
      return "text";
    case kOidOid:
      return "oid";
    case kJsonOid:
      return "json";
    case kUnknownOid:
      return "unknown";
    case kBpcharOid:
      return "character";
    case kVarcharOid:
      return "character varying";
    case kNumericOid:
      return "numeric";
    default:
      return "type oid " + std::to_string(oid);
  }
}

bool IsTextLike(Oid oid) {
  return oid == kTextOid || oid == kVarcharOid || oid == kBpcharOid || oid == kNameOid ||
         oid == kCharOid || oid == kUnknownOid || oid == kJsonOid;
}
bool IsInteger(Oid oid) { return oid == kInt8Oid || oid == kInt4Oid || oid == kInt2Oid; }

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Maps an SQLSTATE (PostgreSQL manual, appendix A) to a Status code; sets *conflict for errors
// that a retry of the transaction can clear and *connection_lost when the session is gone.
Status MapSqlState(std::string_view state, std::string message, bool* conflict,
                   bool* connection_lost) {
  *conflict = false;
  *connection_lost = false;
  const std::string_view cls = state.substr(0, 2);
  if (state == "23505") return AlreadyExists(std::move(message));
  if (cls == "23") return FailedPrecondition(std::move(message));
  if (state == "40001" || state == "40P01" || state == "55P03") {
    *conflict = true;
    return Unavailable(std::move(message));
  }
  if (cls == "08" || state == "57P01" || state == "57P02" || state == "57P03") {
    *connection_lost = true;
    return Unavailable(std::move(message));
  }
  if (state == "57014" || state == "53300") return Unavailable(std::move(message));
  if (state == "22003" || state == "22001") return OutOfRange(std::move(message));
  if (cls == "22" || cls == "42" || cls == "3F") return InvalidArgument(std::move(message));
  if (cls == "25" || cls == "0A" || cls == "55") return FailedPrecondition(std::move(message));
  if (cls == "53" || cls == "58") return IoError(std::move(message));
  if (state == "XX001" || state == "XX002") return Corruption(std::move(message));
  return Internal(std::move(message));
}

void PutBigEndian(std::string& buf, std::uint64_t v, int bytes) {
  buf.resize(static_cast<std::size_t>(bytes));
  for (int i = bytes - 1; i >= 0; --i) {
    buf[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

std::string Trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string url, std::string role, StoreOptions options)
      : Store(Dialect::kPostgres, "postgres", std::move(options)),
        url_(std::move(url)),
        role_(std::move(role)) {}
  ~PostgresStore() override { (void)DoClose(); }

  // Connects for the first time and creates the role's schema.
  Status Open() {
    TS_RETURN_IF_ERROR(Connect(/*create_schema=*/true));
    set_description(Describe());
    return Status::Ok();
  }

  std::string Describe() const {
    if (conn_ == nullptr) return "postgres schema " + role_;
    return std::string("postgres:") + PQhost(conn_) + ":" + PQport(conn_) + "/" + PQdb(conn_) +
           " schema " + role_;
  }

 protected:
  Result<int> DoPrepare(std::string_view sql) override {
    TS_RETURN_IF_ERROR(EnsureConnected());
    TS_ASSIGN_OR_RETURN(Entry * entry, Lookup(sql));
    return static_cast<int>(entry->param_types.size());
  }

  Result<std::int64_t> DoRun(std::string_view sql, std::span<const Value> params,
                             Rows* rows) override {
    TS_RETURN_IF_ERROR(EnsureConnected());
    TS_ASSIGN_OR_RETURN(Entry * entry, Lookup(sql));
    const std::size_t count = entry->param_types.size();
    if (count != params.size()) {
      return InvalidArgument("statement has " + std::to_string(count) + " parameters, " +
                             std::to_string(params.size()) + " values given");
    }
    std::vector<std::string> buffers(count);
    std::vector<const char*> values(count, nullptr);
    std::vector<int> lengths(count, 0);
    std::vector<int> formats(count, kTextFormat);
    for (std::size_t i = 0; i < count; ++i) {
      TS_RETURN_IF_ERROR(Encode(params[i], entry->param_types[i], i + 1, buffers[i], values[i],
                                lengths[i], formats[i]));
    }
    PgResult result(PQexecPrepared(conn_, entry->name.c_str(), static_cast<int>(count),
                                   values.data(), lengths.data(), formats.data(), kTextFormat));
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      Status s = ResultError(result.get());
      // After ALTER TABLE a cached SELECT * may no longer match ("cached plan must not change
      // result type"): forget the statement so that the next call prepares it afresh.
      if (result && SqlState(result.get()) == "0A000") Forget(sql);
      return s;
    }
    if (rows != nullptr) TS_RETURN_IF_ERROR(ReadRows(result.get(), rows));
    return RowsAffected(result.get());
  }

  Status DoExecuteScript(std::string_view sql) override {
    TS_RETURN_IF_ERROR(EnsureConnected());
    return Exec(std::string(sql));
  }

  Status DoBegin() override {
    TS_RETURN_IF_ERROR(EnsureConnected());
    return Exec("BEGIN ISOLATION LEVEL SERIALIZABLE");
  }

  Status DoCommit() override {
    if (broken_) return Unavailable("connection to PostgreSQL lost during the transaction");
    PgResult result(PQexec(conn_, "COMMIT"));
    if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      return ResultError(result.get());
    }
    // A transaction that the server had already aborted answers COMMIT with ROLLBACK.
    if (std::strcmp(PQcmdStatus(result.get()), "COMMIT") != 0) {
      return FailedPrecondition("the server rolled the transaction back instead of committing");
    }
    return Status::Ok();
  }

  Status DoRollback() override {
    if (broken_ || conn_ == nullptr)
      return Status::Ok();  // the server discarded it with the session
    return Exec("ROLLBACK");
  }

  Status DoClose() override {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
    cache_.clear();
    lru_.clear();
    return Status::Ok();
  }

 private:
  struct Entry {
    std::string name;              // server-side prepared statement name
    std::vector<Oid> param_types;  // as inferred by the server
    std::list<std::string>::iterator lru;
  };

  Status Connect(bool create_schema) {
    const std::string timeout = std::to_string(options().postgres_connect_timeout_s);
    const char* keys[] = {"dbname", "connect_timeout", "client_encoding", "application_name",
                          nullptr};
    const char* vals[] = {url_.c_str(), timeout.c_str(), "UTF8", "tapstack", nullptr};
    conn_ = PQconnectdbParams(keys, vals, /*expand_dbname=*/1);
    if (conn_ == nullptr) return Unavailable("cannot connect to PostgreSQL: out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
      Status s = Unavailable("cannot connect to PostgreSQL (schema " + role_ +
                             "): " + Trimmed(PQerrorMessage(conn_)));
      PQfinish(conn_);
      conn_ = nullptr;
      return s;
    }
    broken_ = false;
    // Server NOTICEs ("schema already exists, skipping") are chatter, not errors: drop them
    // instead of letting libpq print them on stderr.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    if (create_schema) {
      // Concurrent creators can race past IF NOT EXISTS; the loser sees a duplicate.
      Status s = Exec("CREATE SCHEMA IF NOT EXISTS \"" + role_ + "\"");
      if (!s.ok() && s.code() != ErrorCode::kAlreadyExists) return s;
    }
    // The rewriting of `?` relies on standard_conforming_strings (no backslash escapes in '...').
    const int lock_timeout_ms = std::max(options().busy_timeout_ms, 1);
    return Exec("SET search_path TO \"" + role_ + "\"; SET standard_conforming_strings TO on; " +
                "SET lock_timeout TO " + std::to_string(lock_timeout_ms));
  }

  // Reconnects when the connection was lost, unless a transaction is open.
  Status EnsureConnected() {
    if (conn_ != nullptr && !broken_) return Status::Ok();
    if (in_transaction()) {
      return Unavailable("connection to PostgreSQL lost during the transaction; roll it back");
    }
    (void)DoClose();
    TS_RETURN_IF_ERROR(Connect(/*create_schema=*/false));
    ++stats_.reconnects;
    return Status::Ok();
  }

  static std::string SqlState(const PGresult* result) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    return state != nullptr ? state : "";
  }

  // The Status for a failed call; notes lost connections and conflicts.
  Status ResultError(const PGresult* result) {
    if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD || result == nullptr) {
      broken_ = true;
      return Unavailable("connection to PostgreSQL lost: " +
                         Trimmed(conn_ != nullptr ? PQerrorMessage(conn_) : "no connection"));
    }
    const std::string state = SqlState(result);
    // The primary message only: DETAIL may quote the offending values (card data, say).
    std::string message = Trimmed(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
    if (message.empty()) message = Trimmed(PQresultErrorMessage(result));
    if (const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME)) {
      message += std::string(" (constraint ") + constraint + ")";
    }
    message += " [SQLSTATE " + state + "]";
    bool conflict = false;
    bool lost = false;
    Status s = MapSqlState(state, std::move(message), &conflict, &lost);
    if (conflict) MarkConflict();
    if (lost) broken_ = true;
    return s;
  }

  Status Exec(const std::string& sql) {
    PgResult result(PQexec(conn_, sql.c_str()));
    const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return ResultError(result.get());
    return Status::Ok();
  }

  void Forget(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
      lru_.erase(it->second.lru);
      cache_.erase(it);
    }
  }

  Result<Entry*> Lookup(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) {
      ++stats_.statement_cache_hits;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return &it->second;
    }
    TS_ASSIGN_OR_RETURN(internal::NumberedSql numbered, internal::NumberPlaceholders(sql));
    const std::size_t capacity = std::max<std::size_t>(options().statement_cache_max, 1);
    while (cache_.size() >= capacity) {
      auto victim = cache_.find(lru_.back());
      TS_RETURN_IF_ERROR(Exec("DEALLOCATE " + victim->second.name));
      cache_.erase(victim);
      lru_.pop_back();
    }
    std::string name = "ts_" + std::to_string(++statement_serial_);
    PgResult prepared(PQprepare(conn_, name.c_str(), numbered.sql.c_str(), 0, nullptr));
    if (!prepared || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return ResultError(prepared.get());
    }
    PgResult described(PQdescribePrepared(conn_, name.c_str()));
    if (!described || PQresultStatus(described.get()) != PGRES_COMMAND_OK) {
      return ResultError(described.get());
    }
    const int count = PQnparams(described.get());
    if (count != numbered.parameter_count) {
      return InvalidArgument("the server counts " + std::to_string(count) +
                             " parameters where the statement has " +
                             std::to_string(numbered.parameter_count) + " ?");
    }
    std::vector<Oid> types;
    types.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) types.push_back(PQparamtype(described.get(), i));
    ++stats_.statements_prepared;
    lru_.emplace_front(sql);
    auto [it, inserted] =
        cache_.emplace(lru_.front(), Entry{std::move(name), std::move(types), lru_.begin()});
    return &it->second;
  }

  // Encodes parameter `index` (1-based) for a server-inferred type: integers, booleans and bytea
  // in binary, the rest as text that the server parses.
  static Status Encode(const Value& v, Oid type, std::size_t index, std::string& buf,
                       const char*& value, int& length, int& format) {
    const auto mismatch = [&](std::string_view hint) {
      return InvalidArgument("parameter " + std::to_string(index) + ": cannot bind " +
                             std::string(TypeName(v.type())) + " to " + OidName(type) +
                             std::string(hint));
    };
    switch (v.type()) {
      case Value::Type::kNull:
        value = nullptr;
        return Status::Ok();
      case Value::Type::kInt64: {
        const std::int64_t i = v.int64();
        if (IsInteger(type)) {
          const int bytes = type == kInt8Oid ? 8 : type == kInt4Oid ? 4 : 2;
          const std::int64_t max = bytes == 8 ? INT64_MAX : bytes == 4 ? INT32_MAX : INT16_MAX;
          const std::int64_t min = bytes == 8 ? INT64_MIN : bytes == 4 ? INT32_MIN : INT16_MIN;
          if (i > max || i < min) {
            return OutOfRange("parameter " + std::to_string(index) + ": " + std::to_string(i) +
                              " does not fit " + OidName(type));
          }
          PutBigEndian(buf, static_cast<std::uint64_t>(i), bytes);
          format = kBinaryFormat;
        } else if (IsTextLike(type) || type == kBoolOid || type == kByteaOid) {
          return mismatch(type == kTextOid ? " (write CAST(? AS BIGINT) where the type is not "
                                             "clear from context)"
                                           : "");
        } else {
          buf = std::to_string(i);  // numeric, oid, …: the server parses the text
          format = kTextFormat;
        }
        break;
      }
      case Value::Type::kBool:
        if (type != kBoolOid) return mismatch(" (bind bool to BOOLEAN columns)");
        buf.assign(1, v.boolean() ? '\1' : '\0');
        format = kBinaryFormat;
        break;
      case Value::Type::kText:
        // UTF-8 without NUL was checked by Store before (a NUL would end a text parameter).
        if (IsInteger(type) || type == kBoolOid || type == kByteaOid) return mismatch("");
        buf = v.text();
        format = kTextFormat;
        break;
      case Value::Type::kBlob:
        if (type != kByteaOid) return mismatch(" (blobs go to BYTEA columns)");
        buf.assign(v.blob().begin(), v.blob().end());
        format = kBinaryFormat;
        break;
    }
    // std::string keeps a terminating NUL, which text-format parameters need; the buffer is never
    // a null pointer, so an empty blob or text is not taken for NULL.
    value = buf.c_str();
    length = static_cast<int>(buf.size());
    return Status::Ok();
  }

  static Result<Value> Decode(const PGresult* result, int row, int column) {
    const char* text = PQgetvalue(result, row, column);
    const auto size = static_cast<std::size_t>(PQgetlength(result, row, column));
    const Oid type = PQftype(result, column);
    const std::string_view s(text, size);
    const auto parse_int = [&](std::int64_t* out) {
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
      return ec == std::errc() && end == s.data() + s.size();
    };
    std::int64_t i = 0;
    switch (type) {
      case kInt8Oid:
      case kInt4Oid:
      case kInt2Oid:
      case kOidOid:
        if (!parse_int(&i)) {
          return Corruption("column " + std::string(PQfname(result, column)) +
                            ": server sent a non-integer for " + OidName(type));
        }
        return Value(i);
      case kNumericOid:
        return parse_int(&i) ? Value(i) : Value(std::string(s));
      case kBoolOid:
        return Value(s == "t");
      case kByteaOid: {
        std::size_t out_size = 0;
        unsigned char* raw =
            PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &out_size);
        if (raw == nullptr) return Internal("out of memory decoding bytea");
        Bytes bytes(raw, raw + out_size);
        PQfreemem(raw);
        return Value(std::move(bytes));
      }
      default:
        return Value(std::string(s));
    }
  }

  Status ReadRows(const PGresult* result, Rows* rows) const {
    const int row_count = PQntuples(result);
    const int columns = PQnfields(result);
    if (static_cast<std::size_t>(row_count) > options().query_rows_max) {
      return OutOfRange("query returned more than " + std::to_string(options().query_rows_max) +
                        " rows (StoreOptions::query_rows_max)");
    }
    auto list = std::make_shared<std::vector<std::string>>();
    for (int c = 0; c < columns; ++c) list->emplace_back(PQfname(result, c));
    ColumnNames names = std::move(list);
    std::vector<Row> out;
    out.reserve(static_cast<std::size_t>(row_count));
    for (int r = 0; r < row_count; ++r) {
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(result, r, c) != 0) {
          values.emplace_back();
          continue;
        }
        TS_ASSIGN_OR_RETURN(Value v, Decode(result, r, c));
        values.push_back(std::move(v));
      }
      out.emplace_back(names, std::move(values));
    }
    *rows = Rows(std::move(names), std::move(out));
    return Status::Ok();
  }

  // Rows inserted, updated or deleted; 0 for other commands (PQcmdTuples also counts SELECTs).
  static std::int64_t RowsAffected(PGresult* result) {
    const std::string_view command = PQcmdStatus(result);
    const bool dml = command.starts_with("INSERT ") || command.starts_with("UPDATE ") ||
                     command.starts_with("DELETE ") || command.starts_with("MERGE ");
    if (!dml) return 0;
    const std::string_view tuples = PQcmdTuples(result);
    std::int64_t n = 0;
    std::from_chars(tuples.data(), tuples.data() + tuples.size(), n);
    return n;
  }

  std::string url_;
  std::string role_;
  PGconn* conn_ = nullptr;
  bool broken_ = false;  // the connection was lost; replaced at the next call outside a transaction
  std::uint64_t statement_serial_ = 0;
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> cache_;
  std::list<std::string> lru_;  // cache keys, most recently used first
};

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgres(std::string_view url, std::string_view role,
                                            const StoreOptions& options) {
  TS_RETURN_IF_ERROR(CheckRoleName(role));
  auto store = std::make_unique<PostgresStore>(std::string(url), std::string(role), options);
  TS_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace tapstack::store
