// The pieces of the seeded demo network that both the one-process rail (PaymentRail) and the
// role processes (network, issuer, acquirer) are assembled from, so every deployment shape runs
// the same banks, cards, BIN table, FX rates and stand-in parameters.
#pragma once

#include <asio.hpp>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "demo/demo_network.h"
#include "issuer/issuer_host.h"
#include "link/tcp_client.h"
#include "network/switch.h"
#include "store/store.h"

namespace tapstack::server {

// The issuer configuration of the demo banks named in `institution_ids` (empty: every bank).
// Errors: kInvalidArgument naming an id that is not a seed bank.
Result<std::vector<issuer::IssuerBankConfig>> DemoIssuerBanks(const demo::DemoNetwork& demo,
                                                              std::span<const std::string> institution_ids);

// Issues the demo cards of the banks `institution_ids` on a host that has none yet (first start);
// a host that already has cards is left as it is. `cards_per_bank` < 0: as the seed says.
Status SeedDemoCards(issuer::IssuerHost& host, const demo::DemoNetwork& demo,
                     std::span<const std::string> institution_ids, int cards_per_bank);

// The institution ids of `banks`, in order.
std::vector<std::string> InstitutionIds(std::span<const issuer::IssuerBankConfig> banks);

// The network switch of the demo network (BIN table and FX rates from the seed) on `store` and
// `journal_store`; issuers are added by the caller. `token_ranges` (RangeKind::kToken) join the
// seed's issuer ranges in the BIN table; the caller then sets the switch's token service.
Result<std::unique_ptr<network::Switch>> OpenDemoSwitch(const demo::DemoNetwork& demo, const Clock& clock,
                                                        std::unique_ptr<store::Store> store,
                                                        std::unique_ptr<store::Store> journal_store,
                                                        std::span<const network::BinRange> token_ranges = {});

// The seed's FX rates (the network's rate table). Errors: a malformed rate in the seed.
Result<network::FxTable> DemoFxTable(const demo::DemoNetwork& demo);

// Registers `bank` with the switch, reached through `link` (not owned), with its seed stand-in
// parameters.
Status AddDemoIssuer(network::Switch& network, const demo::DemoBank& bank, link::RequestSender& link);

// A TCP link from the switch to an issuer host serving `institution_ids` (one link may carry
// several banks): signs on with the network's id, tells the switch when the link is ready (to
// deliver stored advices) and hands it late responses (to reverse late approvals). With `tls`
// (link/tls_context.h) the link runs over TLS.
std::unique_ptr<link::Iso8583Client> ConnectIssuerHost(asio::io_context& io, network::Switch& network,
                                                       const demo::DemoNetwork& demo, std::string host,
                                                       std::uint16_t port, int timeout_ms,
                                                       std::vector<std::string> institution_ids,
                                                       std::shared_ptr<link::ClientTls> tls = nullptr);

// Opens a role's relational store: PostgreSQL when `url` is set (schema `role`), else SQLite
// (<data_dir>/<role>.db).
Result<std::unique_ptr<store::Store>> OpenRoleStore(const std::string& url, const std::string& data_dir,
                                                    const std::string& role);

// Retries the switch's stored advices every `interval_ms` on `io` until `io` stops or the timer is
// destroyed.
class AdviceRetryTimer {
 public:
  AdviceRetryTimer(asio::io_context& io, network::Switch& network, int interval_ms);
  void Cancel();  // call on an io thread or before the io threads start

 private:
  void Schedule();
  asio::steady_timer timer_;
  network::Switch& network_;
  int interval_ms_;
};

}  // namespace tapstack::server
