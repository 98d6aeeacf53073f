// `tapstack ledger audit`: the command's output and exit codes, in-process through CLI11.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli/ledger_command.h"
#include "cli/usage_error.h"
#include "ledger/ledger.h"
#include "ledger_test_util.h"

namespace tapstack::ledger::testing {
namespace {

class LedgerCliTest : public ::testing::Test {
 protected:
  void CreateSomeLedger() {
    LedgerOptions options;
    options.data_dir = dir_.path();
    options.name = "issuer_a";
    options.log_preallocate_bytes = 64 * 1024;
    auto ledger = std::move(*Ledger::Open(options));
    ASSERT_TRUE(
        ledger
            ->CreateAccounts(std::vector<Account>{MakeAccount(1), MakeAccount(2),
                                                  MakeAccount(3, 70001), MakeAccount(4, 70001)})
            .ok());
    ASSERT_EQ(Names(*ledger->CreateTransfers(
                  std::vector<Transfer>{MakeTransfer(10, 1, 2, 12345), MakePending(11, 2, 1, 5),
                                        MakeTransfer(12, 3, 4, 7, 0, 70001)})),
              "ok,ok,ok");
  }

  int Run(const std::string& name, std::string* out, std::string* err) {
    std::ostringstream out_stream;
    std::ostringstream err_stream;
    const int code = cli::RunLedgerAudit(dir_.path(), name, out_stream, err_stream);
    *out = out_stream.str();
    *err = err_stream.str();
    return code;
  }

  TempDir dir_;
};

TEST_F(LedgerCliTest, PrintsTotalsPerCurrencyAndOk) {
  CreateSomeLedger();
  std::string out;
  std::string err;
  EXPECT_EQ(Run("issuer_a", &out, &err), cli::kExitOk) << err;
  EXPECT_NE(out.find("4 accounts, 3 transfers, 0 remembered failures"), std::string::npos) << out;
  EXPECT_NE(out.find("CNY (156): 2 accounts, 2 transfers, 1 holds pending"), std::string::npos)
      << out;
  EXPECT_NE(out.find("debits_posted  12345 (123.45 CNY)"), std::string::npos) << out;
  EXPECT_NE(out.find("debits_pending  5 (0.05 CNY)"), std::string::npos) << out;
  EXPECT_NE(out.find("ledger 70001: 2 accounts, 1 transfers"), std::string::npos) << out;
  EXPECT_NE(out.find("audit: ok"), std::string::npos) << out;
  EXPECT_TRUE(err.empty());
}

TEST_F(LedgerCliTest, MissingOrDamagedLedgerExitsOne) {
  std::string out;
  std::string err;
  EXPECT_EQ(Run("ledger", &out, &err), cli::kExitFailure);
  EXPECT_NE(err.find("not_found"), std::string::npos) << err;
  CreateSomeLedger();
  // Damage the middle of the log: group 1 (accounts) is followed by an intact group 2.
  const auto path = LedgerLogPath(dir_.path(), "issuer_a");
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(kLogFirstGroupOffset + kRecordBytes + 1));
    file.put('\x7f');
  }
  EXPECT_EQ(Run("issuer_a", &out, &err), cli::kExitFailure);
  EXPECT_NE(err.find("corruption"), std::string::npos) << err;
}

TEST_F(LedgerCliTest, RegistersLedgerAuditWithCli11) {
  CreateSomeLedger();
  CLI::App app;
  cli::RegisterLedgerCommand(app);
  const std::string dir = dir_.path().string();
  ::testing::internal::CaptureStdout();
  app.parse("ledger audit --data-dir " + dir + " --name issuer_a", false);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("audit: ok"), std::string::npos) << out;
  CLI::App missing;
  cli::RegisterLedgerCommand(missing);
  EXPECT_THROW(missing.parse("ledger audit", false), CLI::ParseError);
}

}  // namespace
}  // namespace tapstack::ledger::testing
