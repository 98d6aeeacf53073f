#include "benchkit/dcep_online_workload.h"

namespace tapstack::benchkit {

Result<std::unique_ptr<DcepWalletNetwork>> DcepWalletNetwork::Open(const std::filesystem::path& dir,
                                                                   int wallets,
                                                                   bool wallets_at_ccb) {
  if (wallets < 2 || wallets > kDcepWalletsMax) {
    return InvalidArgument("--wallets: expected 2.." + std::to_string(kDcepWalletsMax) + ", got " +
                           std::to_string(wallets));
  }
  std::unique_ptr<DcepWalletNetwork> w(new DcepWalletNetwork());
  TS_ASSIGN_OR_RETURN(const std::filesystem::path config_path, dcep::DefaultDcepConfigPath());
  TS_ASSIGN_OR_RETURN(dcep::DcepConfig config, dcep::LoadDcepConfig(config_path));
  dcep::DcepNetworkOptions options;
  options.data_dir = dir;
  options.config = std::move(config);
  options.operator_ids = {"icbc", "ccb"};
  options.random = &w->random_;
  TS_ASSIGN_OR_RETURN(w->network_, dcep::DcepNetwork::Open(std::move(options)));
  TS_ASSIGN_OR_RETURN(w->icbc_, w->network_->operator_of("icbc"));
  TS_ASSIGN_OR_RETURN(w->ccb_, w->network_->operator_of("ccb"));
  auto open_wallets = [&](dcep::Operator& op, const std::string& prefix,
                          std::vector<std::string>& out) -> Status {
    TS_RETURN_IF_ERROR(op.RequestIssuance(kDcepWalletFundFen * wallets, "bench-float")
                           .status()
                           .WithContext("issuance"));
    for (int i = 0; i < wallets; ++i) {
      const std::string phone = prefix + std::to_string(1'000'000 + i);
      Result<dcep::WalletInfo> opened =
          op.OpenWallet({phone, "Bench", "ID" + std::to_string(i), "", true}, "o" + phone);
      if (!opened.ok()) return opened.status().WithContext("open wallet " + std::to_string(i));
      TS_RETURN_IF_ERROR(op.Exchange(opened->wallet_id, kDcepWalletFundFen, false, "f" + phone)
                             .status()
                             .WithContext("fund wallet " + std::to_string(i)));
      out.push_back(opened->wallet_id);
    }
    return Status::Ok();
  };
  TS_RETURN_IF_ERROR(open_wallets(*w->icbc_, "1380", w->wallets_));
  if (wallets_at_ccb) TS_RETURN_IF_ERROR(open_wallets(*w->ccb_, "1390", w->ccb_wallets_));
  return w;
}

DcepWalletNetwork::~DcepWalletNetwork() {
  if (network_ != nullptr) (void)network_->Close();
}

void PaymentOrderFactory::Fill(std::vector<dcep::PaymentOrder>& orders, std::size_t n) {
  orders.resize(n);
  const std::size_t count = wallets_.size();
  for (dcep::PaymentOrder& o : orders) {
    const std::size_t from = rng_() % count;
    std::size_t to = rng_() % (count - 1);
    if (to >= from) ++to;
    o = dcep::PaymentOrder{};
    o.payer_wallet = wallets_[from];
    o.payee_wallet = wallets_[to];
    o.amount_fen = 1 + static_cast<std::int64_t>(rng_() % kDcepPaymentFenMax);
    o.idempotency_key = stream_ + "-" + std::to_string(++sequence_);
  }
}

}  // namespace tapstack::benchkit
