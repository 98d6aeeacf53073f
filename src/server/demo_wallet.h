// The demo wallet: the wallet role (wallet/) on <data_dir>/wallet.db, talking JSON over HTTP to
// the TSP at `tsp_url` with the demo requestor's API key, with the card products (bank names, card
// art colours, promotions) of the seed's banks. Keys from the demo key set, never production
// secrets.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "crypto/csprng.h"
#include "demo/demo_network.h"
#include "store/store.h"
#include "wallet/http_tsp_client.h"
#include "wallet/wallet_service.h"

namespace tapstack::server {

// One card product per seed bank and BIN range, with the bank's name, a colour and a promotion.
std::vector<wallet::CardProduct> DemoCardProducts(const demo::DemoNetwork& demo);

class DemoWallet {
 public:
  // `tsp_ca_file`: for an https tsp_url, the PEM certificate to trust ("" = the system's).
  // Errors: the store's; wallet::HttpTspClient::Create's and WalletService::Open's.
  static Result<std::unique_ptr<DemoWallet>> Open(const demo::DemoNetwork& demo,
                                                  const std::filesystem::path& data_dir,
                                                  const std::string& tsp_url,
                                                  const std::string& tsp_ca_file = "");
  wallet::WalletService& service() { return *service_; }

 private:
  DemoWallet() = default;
  crypto::Csprng random_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<wallet::HttpTspClient> tsp_;
  std::unique_ptr<wallet::WalletService> service_;  // declared last: destroyed first
};

}  // namespace tapstack::server
