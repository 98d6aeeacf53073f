#include "server/demo_wallet.h"

#include <array>

#include "demo/demo_keys.h"
#include "store/sqlite_store.h"

namespace tapstack::server {

std::vector<wallet::CardProduct> DemoCardProducts(const demo::DemoNetwork& demo) {
  // Card art colours, one per bank in seed order (a palette, not the banks' brands: they are
  // fictional).
  static constexpr std::array<const char*, 8> kColours = {
      "#C8102E", "#00529B", "#007A3D", "#F2A900", "#6A1B9A", "#00838F", "#5D4037", "#37474F"};
  std::vector<wallet::CardProduct> products;
  for (std::size_t i = 0; i < demo.banks.size(); ++i) {
    const demo::DemoBank& b = demo.banks[i];
    for (const auto* list : {&b.credit_bins, &b.debit_bins}) {
      for (const demo::DemoBinRange& r : *list) {
        products.push_back({r.low, r.high, b.name, b.short_name, kColours[i % kColours.size()],
                            {b.short_name + ": 5% back on metro and bus rides paid by tap",
                             b.short_name + ": no fee on payments abroad this month"}});
      }
    }
  }
  return products;
}

Result<std::unique_ptr<DemoWallet>> DemoWallet::Open(const demo::DemoNetwork& demo,
                                                     const std::filesystem::path& data_dir,
                                                     const std::string& tsp_url,
                                                     const std::string& tsp_ca_file) {
  std::unique_ptr<DemoWallet> w(new DemoWallet());
  TS_ASSIGN_OR_RETURN(w->store_, store::OpenSqlite(data_dir, "wallet"));
  wallet::HttpTspClientOptions tsp;
  tsp.base_url = tsp_url;
  tsp.api_key = std::string(demo::kDemoRequestorApiKey);
  tsp.ca_cert_file = tsp_ca_file;
  TS_ASSIGN_OR_RETURN(w->tsp_, wallet::HttpTspClient::Create(std::move(tsp)));
  wallet::WalletOptions options;
  options.random = &w->random_;
  options.card_products = DemoCardProducts(demo);
  if (!demo.tsp.requestors.empty()) options.requestor_id = demo.tsp.requestors[0].id;
  options.request_hmac_key = demo::DemoTspKey("wallet-idempotency");
  TS_ASSIGN_OR_RETURN(w->service_,
                      wallet::WalletService::Open(*w->store_, *w->tsp_, std::move(options)));
  return w;
}

}  // namespace tapstack::server
