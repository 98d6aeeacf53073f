#include "server/demo_tsp.h"

#include "demo/demo_keys.h"
#include "store/sqlite_store.h"

namespace tapstack::server {

std::vector<network::BinRange> DemoTokenBinRanges(const demo::DemoNetwork& demo) {
  std::vector<network::BinRange> ranges;
  for (const demo::DemoTokenRange& r : demo.tsp.token_ranges) {
    ranges.push_back({r.low, r.high, demo.tsp.institution_id, network::RangeKind::kToken});
  }
  return ranges;
}

Result<std::unique_ptr<DemoTsp>> DemoTsp::Open(const demo::DemoNetwork& demo,
                                               const std::filesystem::path& data_dir,
                                               const Clock& clock,
                                               link::MessageHandler& switch_handler,
                                               const store::StoreOptions& store_options) {
  if (demo.tsp.token_ranges.empty()) {
    return FailedPrecondition("seed: the \"tsp\" section has no token_bin_ranges");
  }
  std::unique_ptr<DemoTsp> t(new DemoTsp());
  std::vector<tsp::TokenBinRange> token_ranges;
  std::vector<tsp::TokenRangeKeys> range_keys;
  for (const demo::DemoTokenRange& r : demo.tsp.token_ranges) {
    token_ranges.push_back({r.low, r.high, 16});
    range_keys.push_back({r.low, r.high, r.profile, demo::DemoTokenImk()});
  }
  std::vector<tsp::IssuerBinRange> issuer_ranges;
  for (const demo::DemoBank& b : demo.banks) {
    for (const auto* list : {&b.credit_bins, &b.debit_bins}) {
      for (const demo::DemoBinRange& r : *list) issuer_ranges.push_back({r.low, r.high});
    }
  }
  TS_ASSIGN_OR_RETURN(t->token_numbers_, tsp::TokenNumberGenerator::Create(
                                             std::move(token_ranges), issuer_ranges, nullptr));
  TS_ASSIGN_OR_RETURN(t->par_, tsp::ParGenerator::Create(demo.tsp.par_bin_prefix,
                                                         demo::DemoTspKey("par")));
  TS_ASSIGN_OR_RETURN(t->store_, store::OpenSqlite(data_dir, "tsp", store_options));
  t->idv_link_ = std::make_unique<link::InMemoryLink>(switch_handler);

  tsp::TspServiceOptions o;
  o.store = t->store_.get();
  o.vault_keys = tsp::TokenVaultKeys{{"demo-kek-1", demo::DemoTspKey("kek")},
                                     demo::DemoTspKey("pan-fingerprint")};
  o.token_numbers = &*t->token_numbers_;
  o.par = &*t->par_;
  o.token_ranges = std::move(range_keys);
  for (const demo::DemoTokenRequestor& r : demo.tsp.requestors) {
    o.requestors.push_back({r.id, r.name, std::string(demo::kDemoRequestorApiKey)});
  }
  o.otp_key = demo::DemoTspKey("otp");
  o.idv_link = t->idv_link_.get();
  o.idv.acquirer_id = demo.tsp.institution_id;
  o.authorization_actor = "network:" + demo.network_institution_id;
  o.clock = &clock;
  o.random = &t->random_;
  TS_ASSIGN_OR_RETURN(t->service_, tsp::TspService::Open(std::move(o)));
  t->adapter_ = std::make_unique<TspTokenService>(*t->service_);
  return t;
}

DemoTsp::~DemoTsp() = default;

}  // namespace tapstack::server
