// Behaviour every Store must have, run against SQLite and PostgreSQL alike.
#include "store/store.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store_fixture.h"

namespace tapstack::store {
namespace {

using testing::StoreTest;

Bytes AllByteValues() {
  Bytes b;
  for (int i = 0; i < 256; ++i) b.push_back(static_cast<std::uint8_t>(i));
  return b;
}

TEST_P(StoreTest, ReportsItsDialect) {
  EXPECT_EQ(store_->dialect(), GetParam());
  EXPECT_FALSE(store_->description().empty());
}

TEST_P(StoreTest, Int64RoundTripsAtTheExtremes) {
  CreateTableT();
  const std::vector<std::int64_t> values = {std::numeric_limits<std::int64_t>::min(),
                                            std::numeric_limits<std::int64_t>::max(),
                                            0,
                                            -1,
                                            (std::int64_t{1} << 53) + 1,
                                            -9'007'199'254'740'993};
  for (std::size_t i = 0; i < values.size(); ++i) {
    TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, amount) VALUES (?, ?)",
                                 {static_cast<std::int64_t>(i), values[i]}));
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto row =
        store_->QueryRow("SELECT amount FROM t WHERE id = ?", {static_cast<std::int64_t>(i)});
    TS_ASSERT_OK(row);
    auto amount = row->GetInt64("amount");
    TS_ASSERT_OK(amount);
    EXPECT_EQ(*amount, values[i]);
  }
  // And as a parameter compared on the database side, not only stored and read back.
  auto found = store_->QueryRow("SELECT id FROM t WHERE amount = ?",
                                {std::numeric_limits<std::int64_t>::max()});
  TS_ASSERT_OK(found);
  EXPECT_EQ(*found->GetInt64(0), 1);
}

TEST_P(StoreTest, TextRoundTripsIncludingEmptyUnicodeAndLarge) {
  CreateTableT();
  const std::string large(200'000, 'x');
  const std::vector<std::string> values = {"", "plain",
                                           "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x92\xB3",
                                           "it's \"quoted\" ? -- not a comment", large};
  for (std::size_t i = 0; i < values.size(); ++i) {
    TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, name) VALUES (?, ?)",
                                 {static_cast<std::int64_t>(i), values[i]}));
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto row = store_->QueryRow("SELECT name FROM t WHERE id = ?", {static_cast<std::int64_t>(i)});
    TS_ASSERT_OK(row);
    auto name = row->GetText(0);
    TS_ASSERT_OK(name);
    EXPECT_EQ(*name, values[i]);
    EXPECT_FALSE(*row->IsNull(0)) << "empty text must not turn into NULL";
  }
}

TEST_P(StoreTest, TextThatIsNotUtf8OrHasNulIsRefusedOnBothDatabases) {
  CreateTableT();
  const std::vector<std::string> bad = {std::string("a\0b", 3), "\xff", "\xC3", "\xC0\xAF",
                                        "\xED\xA0\x80"};
  for (const std::string& text : bad) {
    auto n = store_->Execute("INSERT INTO t (id, name) VALUES (?, ?)", {1, text});
    EXPECT_EQ(n.status().code(), ErrorCode::kInvalidArgument) << Value(text).DebugString();
    EXPECT_NE(n.status().message().find("parameter 2"), std::string::npos) << n.status().message();
  }
  EXPECT_EQ(CountRows("t"), 0);
}

TEST_P(StoreTest, BlobRoundTripsWithZeroBytesEmptyAndLarge) {
  CreateTableT();
  Bytes large(1 << 20);
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<std::uint8_t>(i * 131);
  const std::vector<Bytes> values = {{0x00, 0xff, 0x00, 0x01}, {}, AllByteValues(), {0x00}, large};
  for (std::size_t i = 0; i < values.size(); ++i) {
    TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, data) VALUES (?, ?)",
                                 {static_cast<std::int64_t>(i), values[i]}));
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    auto row = store_->QueryRow("SELECT data, length(data) AS size FROM t WHERE id = ?",
                                {static_cast<std::int64_t>(i)});
    TS_ASSERT_OK(row);
    auto data = row->GetBlob("data");
    TS_ASSERT_OK(data);
    EXPECT_EQ(*data, values[i]) << "blob " << i;
    // The database itself counts every byte: nothing was cut at a 0x00.
    EXPECT_EQ(*row->GetInt64("size"), static_cast<std::int64_t>(values[i].size()));
  }
  // A blob parameter matches byte for byte on the database side.
  auto found = store_->QueryRow("SELECT id FROM t WHERE data = ?", {Bytes{0x00, 0xff, 0x00, 0x01}});
  TS_ASSERT_OK(found);
  EXPECT_EQ(*found->GetInt64(0), 0);
}

TEST_P(StoreTest, BoolRoundTripsAndComparisonsReadAsBool) {
  CreateTableT();
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, flag) VALUES (?, ?)", {1, true}));
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, flag) VALUES (?, ?)", {2, false}));
  auto rows = store_->Query("SELECT id, flag FROM t ORDER BY id");
  TS_ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].values()[1], Value(true));
  EXPECT_EQ((*rows)[1].values()[1], Value(false));
  EXPECT_EQ(*(*rows)[0].GetBool("flag"), true);
  EXPECT_EQ(*(*rows)[1].GetBool("flag"), false);
  auto flagged = store_->QueryRow("SELECT id FROM t WHERE flag = ?", {true});
  TS_ASSERT_OK(flagged);
  EXPECT_EQ(*flagged->GetInt64(0), 1);
  auto any = store_->QueryRow("SELECT count(*) > 1 AS several FROM t");
  TS_ASSERT_OK(any);
  EXPECT_EQ(*any->GetBool("several"), true);
}

TEST_P(StoreTest, NullsRoundTripForEveryTypeAndReadOnlyThroughOptional) {
  CreateTableT();
  std::optional<std::int64_t> no_amount;
  TS_ASSERT_OK(
      store_->Execute("INSERT INTO t (id, name, amount, data, flag) VALUES (?, ?, ?, ?, ?)",
                      {1, nullptr, no_amount, Value::Null(), Value()}));
  auto row = store_->QueryRow("SELECT name, amount, data, flag FROM t WHERE id = 1");
  TS_ASSERT_OK(row);
  for (std::size_t c = 0; c < 4; ++c) EXPECT_TRUE(*row->IsNull(c)) << c;
  EXPECT_EQ(*row->GetOptionalText("name"), std::nullopt);
  EXPECT_EQ(*row->GetOptionalInt64("amount"), std::nullopt);
  EXPECT_EQ(*row->GetOptionalBlob("data"), std::nullopt);
  EXPECT_EQ(*row->GetOptionalBool("flag"), std::nullopt);
  auto amount = row->GetInt64("amount");
  EXPECT_EQ(amount.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(amount.status().message().find("amount"), std::string::npos)
      << amount.status().message();
  EXPECT_NE(amount.status().message().find("NULL"), std::string::npos);
  // SQL NULL semantics are the database's: `= NULL` matches nothing, IS NULL matches.
  EXPECT_TRUE(store_->Query("SELECT id FROM t WHERE amount = ?", {nullptr})->empty());
  EXPECT_EQ(store_->Query("SELECT id FROM t WHERE amount IS NULL")->size(), 1u);
  // An optional with a value binds the value.
  std::optional<std::int64_t> some = 77;
  TS_ASSERT_OK(store_->Execute("UPDATE t SET amount = ? WHERE id = 1", {some}));
  EXPECT_EQ(*store_->QueryRow("SELECT amount FROM t")->GetOptionalInt64(0), 77);
}

TEST_P(StoreTest, WrongTypeOrUnknownColumnIsInvalidArgumentNamingTheColumn) {
  CreateTableT();
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, name, amount) VALUES (1, 'alice', 5)"));
  auto row = store_->QueryRow("SELECT name, amount FROM t");
  TS_ASSERT_OK(row);
  auto as_int = row->GetInt64("name");
  EXPECT_EQ(as_int.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(as_int.status().message().find("'name'"), std::string::npos)
      << as_int.status().message();
  EXPECT_NE(as_int.status().message().find("text"), std::string::npos);
  EXPECT_EQ(row->GetBlob(1).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(row->GetBool("amount").status().code(), ErrorCode::kInvalidArgument)
      << "5 is not a boolean";
  EXPECT_EQ(row->GetText("missing").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(row->GetText(std::size_t{7}).status().code(), ErrorCode::kOutOfRange);
  // Names match regardless of case, since PostgreSQL folds them and SQLite does not.
  EXPECT_EQ(*row->GetText("NAME"), "alice");
}

TEST_P(StoreTest, ColumnNamesAreKnownEvenWithoutRows) {
  CreateTableT();
  auto rows = store_->Query("SELECT id, name AS holder FROM t");
  TS_ASSERT_OK(rows);
  EXPECT_TRUE(rows->empty());
  EXPECT_EQ(rows->column_names(), (std::vector<std::string>{"id", "holder"}));
}

TEST_P(StoreTest, ExecuteReturnsRowsAffectedOnlyForWrites) {
  CreateTableT();
  for (int i = 1; i <= 3; ++i) {
    auto n = store_->Execute("INSERT INTO t (id, amount) VALUES (?, ?)", {i, i * 10});
    TS_ASSERT_OK(n);
    EXPECT_EQ(*n, 1);
  }
  EXPECT_EQ(*store_->Execute("UPDATE t SET amount = amount + 1 WHERE amount >= ?", {20}), 2);
  // Statements that write nothing report 0, not the count of the previous write.
  EXPECT_EQ(*store_->Execute("SELECT id FROM t"), 0);
  EXPECT_EQ(*store_->Execute("UPDATE t SET amount = 0 WHERE amount >= ?", {20}), 2);
  EXPECT_EQ(*store_->Execute("CREATE TABLE other (id BIGINT)"), 0);
  EXPECT_EQ(*store_->Execute("DELETE FROM t WHERE id = ?", {99}), 0);
  EXPECT_EQ(*store_->Execute("DELETE FROM t"), 3);
}

TEST_P(StoreTest, SumOfBigintReadsAsInt64) {
  CreateTableT();
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, amount) VALUES (1, ?), (2, ?)",
                               {std::int64_t{4'000'000'000'000}, 2}));
  auto row = store_->QueryRow("SELECT SUM(amount) AS total FROM t");
  TS_ASSERT_OK(row);
  EXPECT_EQ(*row->GetInt64("total"), 4'000'000'000'002);
}

TEST_P(StoreTest, PreparedStatementIsCompiledOnceAndReused) {
  CreateTableT();
  auto insert = store_->Prepare("INSERT INTO t (id, name) VALUES (?, ?)");
  TS_ASSERT_OK(insert);
  EXPECT_EQ(insert->parameter_count(), 2);
  const StoreStats before = store_->stats();
  for (int i = 0; i < 50; ++i) {
    auto n = insert->Execute({i, "n" + std::to_string(i)});
    TS_ASSERT_OK(n);
    EXPECT_EQ(*n, 1);
  }
  const StoreStats after = store_->stats();
  EXPECT_EQ(after.statements_prepared, before.statements_prepared) << "no recompilation";
  EXPECT_EQ(after.statement_cache_hits - before.statement_cache_hits, 50);
  EXPECT_EQ(CountRows("t"), 50);
  auto select = store_->Prepare("SELECT name FROM t WHERE id = ?");
  TS_ASSERT_OK(select);
  EXPECT_EQ(*select->Query({7})->begin()->GetText(0), "n7");
  EXPECT_EQ(*select->Query({8})->begin()->GetText(0), "n8");
}

TEST_P(StoreTest, StatementCacheEvictsAndRecompilesTransparently) {
  StoreOptions small;
  small.statement_cache_max = 2;
  Reopen(small);
  CreateTableT();
  auto a = store_->Prepare("INSERT INTO t (id) VALUES (?)");
  TS_ASSERT_OK(a);
  TS_ASSERT_OK(store_->Execute("SELECT 1 AS one"));
  TS_ASSERT_OK(store_->Execute("SELECT 2 AS two"));  // evicts the INSERT
  const std::int64_t prepared = store_->stats().statements_prepared;
  TS_ASSERT_OK(a->Execute({1}));
  EXPECT_EQ(store_->stats().statements_prepared, prepared + 1) << "evicted statement recompiled";
  EXPECT_EQ(CountRows("t"), 1);
}

TEST_P(StoreTest, WrongParameterCountIsInvalidArgument) {
  CreateTableT();
  auto n = store_->Execute("INSERT INTO t (id, name) VALUES (?, ?)", {1});
  EXPECT_EQ(n.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(n.status().message().find("2 parameters, 1 values"), std::string::npos)
      << n.status().message();
  EXPECT_EQ(CountRows("t"), 0);
}

TEST_P(StoreTest, SyntaxErrorsAndUnknownTablesAreInvalidArgument) {
  EXPECT_EQ(store_->Execute("SELEC 1").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Prepare("INSERT INTO").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->Query("SELECT * FROM no_such_table").status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->ExecuteScript("CREATE TABLE x (a BIGINT); CREAT TABLE y (b BIGINT)").code(),
            ErrorCode::kInvalidArgument);
  // The message names the statement.
  Status s = store_->Execute("SELEC 1").status();
  EXPECT_NE(s.message().find("SELEC 1"), std::string::npos) << s.message();
}

TEST_P(StoreTest, NonPortablePlaceholdersAreRefused) {
  CreateTableT();
  for (const char* sql : {"SELECT id FROM t WHERE id = :id", "SELECT id FROM t WHERE id = $1",
                          "SELECT id FROM t WHERE id = ?1"}) {
    EXPECT_EQ(store_->Prepare(sql).status().code(), ErrorCode::kInvalidArgument) << sql;
  }
  // `?` inside strings, quoted names and comments is not a placeholder.
  auto row = store_->QueryRow("SELECT '?' AS \"q?\", id FROM t /* ? */ WHERE id = ? -- ?\n",
                              {std::int64_t{0}});
  EXPECT_EQ(row.status().code(), ErrorCode::kNotFound) << row.status().ToString();
}

TEST_P(StoreTest, SeveralStatementsInOneExecuteAreRefusedAndNothingRuns) {
  CreateTableT();
  auto n = store_->Execute("INSERT INTO t (id) VALUES (1); INSERT INTO t (id) VALUES (2)");
  EXPECT_EQ(n.status().code(), ErrorCode::kInvalidArgument) << n.status().ToString();
  EXPECT_EQ(CountRows("t"), 0);
  // A trailing semicolon is one statement.
  TS_EXPECT_OK(store_->Execute("INSERT INTO t (id) VALUES (3);"));
}

TEST_P(StoreTest, ConstraintViolationsMapToDocumentedCodes) {
  TS_ASSERT_OK(
      store_->ExecuteScript("CREATE TABLE account (id BIGINT PRIMARY KEY, pan_hash BYTEA UNIQUE, "
                            "  balance BIGINT NOT NULL CHECK (balance >= 0));"
                            "CREATE TABLE entry (id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL "
                            "REFERENCES account(id))"));
  TS_ASSERT_OK(store_->Execute("INSERT INTO account (id, pan_hash, balance) VALUES (?, ?, ?)",
                               {1, Bytes{1, 2, 3}, 100}));
  auto dup_key = store_->Execute("INSERT INTO account (id, pan_hash, balance) VALUES (?, ?, ?)",
                                 {1, Bytes{9}, 1});
  EXPECT_EQ(dup_key.status().code(), ErrorCode::kAlreadyExists) << dup_key.status().ToString();
  auto dup_unique = store_->Execute("INSERT INTO account (id, pan_hash, balance) VALUES (?, ?, ?)",
                                    {2, Bytes{1, 2, 3}, 1});
  EXPECT_EQ(dup_unique.status().code(), ErrorCode::kAlreadyExists);
  // The message never carries the offending value (it could be card data).
  EXPECT_EQ(dup_unique.status().message().find("\\x010203"), std::string::npos)
      << dup_unique.status().message();
  EXPECT_EQ(store_->Execute("INSERT INTO account (id, balance) VALUES (3, NULL)").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->Execute("INSERT INTO account (id, balance) VALUES (3, -1)").status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->Execute("INSERT INTO entry (id, account_id) VALUES (1, 42)").status().code(),
            ErrorCode::kFailedPrecondition)
      << "foreign keys are enforced";
  EXPECT_EQ(CountRows("account"), 1);
  EXPECT_EQ(CountRows("entry"), 0);
}

TEST_P(StoreTest, OnConflictDoNothingIsPortable) {
  CreateTableT();
  EXPECT_EQ(*store_->Execute("INSERT INTO t (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                             {1, "first"}),
            1);
  EXPECT_EQ(*store_->Execute("INSERT INTO t (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                             {1, "second"}),
            0);
  EXPECT_EQ(*store_->QueryRow("SELECT name FROM t")->GetText(0), "first");
  auto returned = store_->QueryRow("INSERT INTO t (id, amount) VALUES (?, ?) RETURNING id", {2, 5});
  TS_ASSERT_OK(returned);
  EXPECT_EQ(*returned->GetInt64(0), 2);
}

TEST_P(StoreTest, RollbackLeavesNoPartialState) {
  CreateTableT();
  TS_ASSERT_OK(store_->Begin());
  EXPECT_TRUE(store_->in_transaction());
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (1)"));
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (2)"));
  EXPECT_EQ(CountRows("t"), 2) << "the transaction sees its own writes";
  TS_ASSERT_OK(store_->Rollback());
  EXPECT_FALSE(store_->in_transaction());
  EXPECT_EQ(CountRows("t"), 0);
}

TEST_P(StoreTest, TransactionGuardRollsBackUnlessCommitted) {
  CreateTableT();
  {
    auto tx = Transaction::Begin(*store_);
    TS_ASSERT_OK(tx);
    TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (1)"));
  }  // dropped without Commit
  EXPECT_FALSE(store_->in_transaction());
  EXPECT_EQ(CountRows("t"), 0);
  {
    auto tx = Transaction::Begin(*store_);
    TS_ASSERT_OK(tx);
    TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (2)"));
    TS_ASSERT_OK(tx->Commit());
    EXPECT_FALSE(tx->open());
    EXPECT_EQ(tx->Commit().code(), ErrorCode::kFailedPrecondition);
  }
  EXPECT_EQ(CountRows("t"), 1);
}

TEST_P(StoreTest, TransactionGuardLeavesALaterTransactionAlone) {
  CreateTableT();
  {
    auto tx = Transaction::Begin(*store_);
    TS_ASSERT_OK(tx);
    TS_ASSERT_OK(store_->Commit());  // ended behind the guard's back
    TS_ASSERT_OK(store_->Begin());
    TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (1)"));
    EXPECT_EQ(tx->Commit().code(), ErrorCode::kFailedPrecondition);
  }  // the guard must not roll back the transaction it did not begin
  EXPECT_TRUE(store_->in_transaction());
  TS_ASSERT_OK(store_->Commit());
  EXPECT_EQ(CountRows("t"), 1);
}

TEST_P(StoreTest, CommittedWritesAreVisibleToOtherConnectionsOnlyAfterCommit) {
  CreateTableT();
  auto other = OpenAnother();
  TS_ASSERT_OK(other);
  TS_ASSERT_OK(store_->Begin());
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (1)"));
  EXPECT_EQ(*(*other)->QueryRow("SELECT count(*) AS n FROM t")->GetInt64(0), 0);
  TS_ASSERT_OK(store_->Commit());
  EXPECT_EQ(*(*other)->QueryRow("SELECT count(*) AS n FROM t")->GetInt64(0), 1);
  EXPECT_EQ(store_->stats().transactions_committed, 1);
}

TEST_P(StoreTest, AnErrorAbortsTheTransactionAndLaterStatementsFail) {
  CreateTableT();
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (1)"));
  TS_ASSERT_OK(store_->Begin());
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (2)"));
  EXPECT_EQ(store_->Execute("INSERT INTO t (id) VALUES (1)").status().code(),
            ErrorCode::kAlreadyExists);
  auto after = store_->Execute("INSERT INTO t (id) VALUES (3)");
  EXPECT_EQ(after.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(after.status().message().find("aborted"), std::string::npos);
  EXPECT_EQ(store_->Query("SELECT id FROM t").status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->Commit().code(), ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(store_->in_transaction());
  EXPECT_EQ(CountRows("t"), 1) << "row 2 was rolled back with the aborted transaction";
}

TEST_P(StoreTest, StatementsAfterAFailedCommitFailInsteadOfPretending) {
  // A deferred foreign key is checked at COMMIT, so the commit itself fails.
  TS_ASSERT_OK(store_->ExecuteScript(
      "CREATE TABLE parent (id BIGINT PRIMARY KEY);"
      "CREATE TABLE child (id BIGINT PRIMARY KEY, parent_id BIGINT REFERENCES parent(id) "
      "  DEFERRABLE INITIALLY DEFERRED)"));
  TS_ASSERT_OK(store_->Begin());
  TS_ASSERT_OK(store_->Execute("INSERT INTO child (id, parent_id) VALUES (1, 99)"));
  Status commit = store_->Commit();
  EXPECT_EQ(commit.code(), ErrorCode::kFailedPrecondition) << commit.ToString();
  EXPECT_FALSE(store_->in_transaction());
  EXPECT_EQ(store_->Commit().code(), ErrorCode::kFailedPrecondition) << "no second chance";
  EXPECT_EQ(store_->Rollback().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(CountRows("child"), 0);
  // The store itself is fine for the next transaction.
  TS_ASSERT_OK(store_->RunInTransaction([](Store& s) {
    TS_RETURN_IF_ERROR(s.Execute("INSERT INTO parent (id) VALUES (99)").status());
    return s.Execute("INSERT INTO child (id, parent_id) VALUES (1, 99)").status();
  }));
  EXPECT_EQ(CountRows("child"), 1);
}

TEST_P(StoreTest, TransactionsDoNotNestAndNeedBegin) {
  EXPECT_EQ(store_->Commit().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->Rollback().code(), ErrorCode::kFailedPrecondition);
  TS_ASSERT_OK(store_->Begin());
  EXPECT_EQ(store_->Begin().code(), ErrorCode::kFailedPrecondition);
  EXPECT_TRUE(store_->in_transaction()) << "a refused nested Begin does not end the outer one";
  TS_ASSERT_OK(store_->Commit());
  EXPECT_EQ(store_->RunInTransaction([](Store& s) { return s.Begin(); }).code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(store_->in_transaction());
}

TEST_P(StoreTest, DataIsDurableAcrossCloseAndReopen) {
  CreateTableT();
  TS_ASSERT_OK(store_->RunInTransaction([](Store& s) {
    return s.Execute("INSERT INTO t (id, name, data) VALUES (?, ?, ?)", {1, "kept", Bytes{0, 7}})
        .status();
  }));
  Reopen();
  auto row = store_->QueryRow("SELECT name, data FROM t WHERE id = 1");
  TS_ASSERT_OK(row);
  EXPECT_EQ(*row->GetText(0), "kept");
  EXPECT_EQ(*row->GetBlob(1), (Bytes{0, 7}));
}

TEST_P(StoreTest, UncommittedDataIsGoneAfterReopen) {
  CreateTableT();
  TS_ASSERT_OK(store_->Begin());
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (1)"));
  Reopen();  // Close rolls the open transaction back
  EXPECT_EQ(CountRows("t"), 0);
}

TEST_P(StoreTest, ClosedStoreRefusesCalls) {
  TS_ASSERT_OK(store_->Close());
  EXPECT_EQ(store_->Execute("SELECT 1 AS one").status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(store_->Begin().code(), ErrorCode::kFailedPrecondition);
  TS_EXPECT_OK(store_->Close());
}

TEST_P(StoreTest, QueryRowReportsNoRowAsNotFound) {
  CreateTableT();
  EXPECT_EQ(store_->QueryRow("SELECT id FROM t WHERE id = ?", {1}).status().code(),
            ErrorCode::kNotFound);
}

TEST_P(StoreTest, QueryRefusesMoreRowsThanTheLimit) {
  StoreOptions limited;
  limited.query_rows_max = 3;
  Reopen(limited);
  CreateTableT();
  for (int i = 0; i < 4; ++i) TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (?)", {i}));
  EXPECT_EQ(store_->Query("SELECT id FROM t LIMIT 3")->size(), 3u);
  EXPECT_EQ(store_->Query("SELECT id FROM t").status().code(), ErrorCode::kOutOfRange);
}

TEST_P(StoreTest, RunInTransactionCommitsOnSuccessAndRollsBackOnError) {
  CreateTableT();
  int calls = 0;
  Status s = store_->RunInTransaction([&](Store& st) {
    ++calls;
    TS_RETURN_IF_ERROR(st.Execute("INSERT INTO t (id) VALUES (1)").status());
    return NotFound("card not found");  // the function's own error: rolled back, not retried
  });
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(CountRows("t"), 0);
  EXPECT_FALSE(store_->in_transaction());
  TS_ASSERT_OK(store_->RunInTransaction(
      [](Store& st) { return st.Execute("INSERT INTO t (id) VALUES (1)").status(); }));
  EXPECT_EQ(CountRows("t"), 1);
}

TEST_P(StoreTest, RunInTransactionDoesNotRetryAUniqueViolation) {
  CreateTableT();
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id) VALUES (1)"));
  int calls = 0;
  Status s = store_->RunInTransaction([&](Store& st) {
    ++calls;
    return st.Execute("INSERT INTO t (id) VALUES (1)").status();
  });
  EXPECT_EQ(s.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(store_->stats().transaction_retries, 0);
}

// Another connection holds a write lock on row 1; ours waits busy_timeout_ms, fails with a
// conflict, and the retry (after the other side commits) succeeds.
TEST_P(StoreTest, RunInTransactionRetriesAConflictWithAnotherConnection) {
  CreateTableT();
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, amount) VALUES (1, 100)"));
  StoreOptions impatient;
  impatient.busy_timeout_ms = 50;
  auto waiter = OpenAnother(impatient);
  TS_ASSERT_OK(waiter);
  TS_ASSERT_OK(store_->Begin());
  TS_ASSERT_OK(store_->Execute("UPDATE t SET amount = amount + 1 WHERE id = 1"));

  int calls = 0;
  std::vector<int> retried_after;
  RetryPolicy policy;
  policy.on_retry = [&](int failed_attempt, const Status& error) {
    EXPECT_EQ(error.code(), ErrorCode::kUnavailable) << error.ToString();
    retried_after.push_back(failed_attempt);
    if (store_->in_transaction()) {
      EXPECT_TRUE(store_->Commit().ok());
    }
  };
  Status s = (*waiter)->RunInTransaction(
      [&](Store& st) {
        ++calls;
        return st.Execute("UPDATE t SET amount = amount * 2 WHERE id = 1").status();
      },
      policy);
  TS_ASSERT_OK(s);
  EXPECT_EQ(retried_after, std::vector<int>{1});
  EXPECT_EQ((*waiter)->stats().transaction_retries, 1);
  EXPECT_LE(calls, 2);  // SQLite fails at BEGIN already, PostgreSQL at the UPDATE
  EXPECT_EQ(*store_->QueryRow("SELECT amount FROM t WHERE id = 1")->GetInt64(0), 202)
      << "(100 + 1) * 2: both transactions applied, one after the other";
}

TEST_P(StoreTest, RunInTransactionGivesUpAfterAttemptsMax) {
  CreateTableT();
  TS_ASSERT_OK(store_->Execute("INSERT INTO t (id, amount) VALUES (1, 100)"));
  StoreOptions impatient;
  impatient.busy_timeout_ms = 20;
  auto waiter = OpenAnother(impatient);
  TS_ASSERT_OK(waiter);
  TS_ASSERT_OK(store_->Begin());
  TS_ASSERT_OK(store_->Execute("UPDATE t SET amount = 0 WHERE id = 1"));
  int retries = 0;
  RetryPolicy policy;
  policy.attempts_max = 3;
  policy.on_retry = [&](int, const Status&) { ++retries; };
  Status s = (*waiter)->RunInTransaction(
      [](Store& st) { return st.Execute("UPDATE t SET amount = 5 WHERE id = 1").status(); },
      policy);
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("3 attempts"), std::string::npos) << s.message();
  EXPECT_EQ(retries, 2);
  EXPECT_FALSE((*waiter)->in_transaction());
  TS_ASSERT_OK(store_->Rollback());
  EXPECT_EQ(*store_->QueryRow("SELECT amount FROM t WHERE id = 1")->GetInt64(0), 100);
}

TEST_P(StoreTest, UseFromASecondThreadDuringATransactionIsRefused) {
  CreateTableT();
  Status from_other_thread;
  TS_ASSERT_OK(store_->RunInTransaction([&](Store& st) {
    std::thread other(
        [&] { from_other_thread = st.Execute("INSERT INTO t (id) VALUES (9)").status(); });
    other.join();
    return st.Execute("INSERT INTO t (id) VALUES (1)").status();
  }));
  EXPECT_EQ(from_other_thread.code(), ErrorCode::kFailedPrecondition)
      << from_other_thread.ToString();
  // Once the transaction is over, another thread may take its turn.
  Status later;
  std::thread other([&] { later = store_->Execute("INSERT INTO t (id) VALUES (2)").status(); });
  other.join();
  TS_EXPECT_OK(later);
  EXPECT_EQ(CountRows("t"), 2);
}

TEST_P(StoreTest, BadRoleNamesAreRefused) {
  for (const char* role : {"", "Ledger", "../etc", "a/b", "1abc", "a-b",
                           "a123456789012345678901234567890123456789012345678901234567890123"}) {
    Status s = CheckRoleName(role);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << role;
  }
  TS_EXPECT_OK(CheckRoleName("tsp_vault2"));
}

TS_INSTANTIATE_FOR_BOTH_DATABASES(StoreTest);

}  // namespace
}  // namespace tapstack::store
