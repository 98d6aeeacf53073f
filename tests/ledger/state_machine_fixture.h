// A StateMachine with a hand-driven clock for the rule tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "ledger/audit.h"
#include "ledger/limits.h"
#include "ledger/state_machine.h"
#include "ledger_test_util.h"

namespace tapstack::ledger::testing {

class StateMachineFixture : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kStart = 1'767'225'600'000'000'000;  // 2026-01-01 in ns

  std::uint64_t NextTimestamp() { return std::max(now_, sm_.last_timestamp() + 1); }

  std::vector<CreateAccountResult> Accounts(const std::vector<Account>& accounts) {
    std::vector<CreateAccountResult> results(accounts.size());
    sm_.CreateAccounts(accounts, NextTimestamp(), results);
    return results;
  }
  std::vector<CreateTransferResult> Transfers(const std::vector<Transfer>& transfers) {
    std::vector<CreateTransferResult> results(transfers.size());
    sm_.CreateTransfers(transfers, NextTimestamp(), results);
    return results;
  }
  CreateTransferResult One(const Transfer& transfer) { return Transfers({transfer})[0]; }
  CreateAccountResult OneAccount(const Account& account) { return Accounts({account})[0]; }
  std::uint64_t Expire() { return sm_.ExpirePending(NextTimestamp(), kExpireBatchMax); }
  void AdvanceSeconds(std::uint64_t seconds) { now_ = NextTimestamp() + seconds * kNanosPerSecond; }

  const Account& Get(std::uint64_t id) {
    const Account* account = sm_.FindAccount(Id(id));
    if (account == nullptr) throw std::runtime_error("no account " + std::to_string(id));
    return *account;
  }
  PendingState StateOf(std::uint64_t id) { return sm_.FindTransfer(Id(id)).value().pending_state; }

  // Creates accounts 1..n on CNY; `flags` for all of them.
  void CreateAccounts(std::uint64_t n, std::uint16_t flags = 0) {
    std::vector<Account> accounts;
    for (std::uint64_t i = 1; i <= n; ++i) accounts.push_back(MakeAccount(i, kCny, flags));
    for (CreateAccountResult r : Accounts(accounts)) ASSERT_EQ(r, CreateAccountResult::kOk);
  }

  void ExpectAuditOk() {
    const Status status = Audit(sm_);
    EXPECT_TRUE(status.ok()) << status.ToString();
  }

  std::uint64_t now_ = kStart;
  StateMachine sm_;
};

}  // namespace tapstack::ledger::testing
