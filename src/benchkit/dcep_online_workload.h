// Durable online e-CNY transfers, shared by `tapstack bench dcep-online` and
// bench/dcep_bench.cc: a digital-currency network (central bank, operators icbc and ccb) with
// funded tier-1 wallets at icbc, and random payment orders between them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/random_source.h"
#include "core/status.h"
#include "dcep/dcep_network.h"

namespace tapstack::benchkit {

// What each wallet is funded with (100,000.00 CNY): payments of at most kDcepPaymentFenMax never
// drain one in any run the operator's ledger can hold.
inline constexpr std::int64_t kDcepWalletFundFen = 10'000'000;
inline constexpr std::int64_t kDcepPaymentFenMax = 1'000;
inline constexpr int kDcepWalletsMax = 1'000'000;

class DcepWalletNetwork {
 public:
  // Opens the network under `dir` (created) with operators icbc and ccb, has the central bank
  // issue float to icbc, then opens `wallets` tier-1 wallets at icbc (in person) and funds each
  // with kDcepWalletFundFen; with `wallets_at_ccb`, as many at ccb too (for same-operator
  // payments at both operators at once). Errors: wallets outside 2..kDcepWalletsMax
  // (kInvalidArgument), any step's, naming it.
  static Result<std::unique_ptr<DcepWalletNetwork>> Open(const std::filesystem::path& dir,
                                                         int wallets, bool wallets_at_ccb = false);
  ~DcepWalletNetwork();  // closes the network
  DcepWalletNetwork(const DcepWalletNetwork&) = delete;
  DcepWalletNetwork& operator=(const DcepWalletNetwork&) = delete;

  dcep::DcepNetwork& network() { return *network_; }
  dcep::Operator& payer_operator() { return *icbc_; }  // icbc: where the wallets are
  dcep::Operator& payee_operator() { return *ccb_; }   // ccb: for inter-operator payments
  const std::vector<std::string>& wallets() const { return wallets_; }
  const std::vector<std::string>& ccb_wallets() const { return ccb_wallets_; }  // wallets_at_ccb

 private:
  DcepWalletNetwork() : random_(1) {}
  SeededRandom random_;  // wallet ids (outlives the network, which uses it)
  std::unique_ptr<dcep::DcepNetwork> network_;
  dcep::Operator* icbc_ = nullptr;
  dcep::Operator* ccb_ = nullptr;
  std::vector<std::string> wallets_;
  std::vector<std::string> ccb_wallets_;
};

// Random same-operator payment orders between distinct wallets, 1..kDcepPaymentFenMax fen, with
// idempotency keys "<stream>-<n>" (distinct streams never collide). Not thread-safe: one per
// worker.
class PaymentOrderFactory {
 public:
  PaymentOrderFactory(const std::vector<std::string>& wallets, std::uint64_t stream)
      : wallets_(wallets), stream_(std::to_string(stream)), rng_(stream * 7919 + 7) {}
  // Replaces `orders` with `n` new orders.
  void Fill(std::vector<dcep::PaymentOrder>& orders, std::size_t n);

 private:
  const std::vector<std::string>& wallets_;
  std::string stream_;
  std::uint64_t sequence_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace tapstack::benchkit
