// DemoNode: the roles of the demo network wired into one process, on the embedded store, behind
// one HTTP listener. This is what `tapstack serve` runs: the network switch with its ISO 8583
// listener, the issuer banks, the TSP (server/demo_tsp.h) and the wallet (server/demo_wallet.h),
// whose calls to the TSP are JSON over HTTP on this same listener, as they would be across
// machines. The transit operators of the six seed cities (transit/transit_operator.h) answer the
// transit API (transit/transit_http.h) on the same listener; their top-ups are in-app token
// payments through this node's own switch (server/network_top_up_payment.h), as an acquirer's
// terminal would send them. The wallet payment platforms of seed/qrpay.json (server/qr_world.h on
// this node's rail) answer the QR-payment API (qrpay/qrpay_http.h) under /v1/qrpay/{platform};
// their admin routes are closed (no admin token is configured). Later roles (digital currency)
// attach here.
//
// Thread-safety: Start/Stop from one thread; HTTP handlers run on the listener's worker threads
// and only read state fixed at start-up.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"
#include "server/console_api.h"
#include "dcep/dcep_network.h"
#include "handset/handset_host.h"
#include "server/demo_wallet.h"
#include "server/http_front.h"
#include "server/network_top_up_payment.h"
#include "server/payment_rail.h"
#include "server/qr_world.h"
#include "server/role_node.h"
#include "server/serve_config.h"
#include "store/store.h"
#include "transit/transit_operator.h"

namespace tapstack::server {

// Database files the demo node owns under the data directory (the roles add their own:
// network.db, issuer.db, issuer_ledger.wal).
inline constexpr char kNodeRole[] = "node";
// The transit operators' SQLite files live in this subdirectory of the data directory
// (transit_<city>.db and transit_<city>_clearing.db per city).
inline constexpr char kTransitDataSubdir[] = "transit";
// The wallet payment platforms' stores and the QR clearing's live here.
inline constexpr char kQrpayDataSubdir[] = "qrpay";
// The web app's handsets (their secure elements) and the gates they ride through.
inline constexpr char kHandsetDataSubdir[] = "handsets";
// The central bank's and the digital-currency operators' stores.
inline constexpr char kDcepDataSubdir[] = "dcep";
// What the central bank issues to each operator at the first start (fen): the e-CNY its users can
// exchange their deposits into.
inline constexpr std::int64_t kDemoIssuanceFen = 100'000'000;

class DemoNode final : public RoleNode {
 public:
  // Opens (creating when missing) <data_dir>/node.db, applies migrations, records this start,
  // opens the transit network under <data_dir>/transit (keys: demo::DemoTransitKey) and begins
  // serving HTTP on config.http_bind:http_port.
  // Errors: the store's (kIoError, kCorruption, kFailedPrecondition for a newer schema);
  // kInvalidArgument when the seed has no merchant to lend the top-up terminal its acquirer, or
  // the transit cities file is bad (kNotFound when it is missing); kUnavailable when the HTTP
  // address cannot be bound (port in use).
  static Result<std::unique_ptr<DemoNode>> Start(const ServeConfig& config);

  // Deletes every role database under `data_dir` and its transit subdirectory (the `--reset` of
  // `tapstack serve`).
  // Errors: kIoError naming the file that could not be removed.
  static Status ResetData(const std::string& data_dir);

  ~DemoNode() override;
  DemoNode(const DemoNode&) = delete;
  DemoNode& operator=(const DemoNode&) = delete;

  // Stops accepting HTTP, waits for in-flight requests and closes the store. Idempotent.
  void Stop() override;
  std::vector<std::pair<std::string, std::string>> Summary() const override;
  Status Health() const override;

  std::string http_url() const;
  std::uint16_t iso8583_port() const { return rail_->switch_port(); }
  PaymentRail& rail() { return *rail_; }
  transit::TransitNetwork& transit() { return *transit_; }
  // How many times a node has started on this data directory, this start included.
  std::int64_t start_count() const { return start_count_; }
  const std::string& store_description() const { return store_->description(); }

 private:
  DemoNode() = default;
  void InstallRoutes();

  ServeConfig config_;
  std::unique_ptr<store::Store> store_;
  demo::DemoNetwork demo_;
  std::unique_ptr<PaymentRail> rail_;
  std::unique_ptr<DemoWallet> wallet_;
  // One top-up merchant for every city's operator (TransitNetworkOptions::payment is shared);
  // destroyed after the transit network that calls it.
  std::unique_ptr<NetworkTopUpPayment> top_up_;
  std::unique_ptr<transit::TransitNetwork> transit_;
  std::unique_ptr<QrWorld> qr_;  // on rail_: destroyed before it
  std::unique_ptr<handset::HandsetHost> handsets_;  // on rail_'s acquirer link
  std::unique_ptr<dcep::DcepNetwork> dcep_;
  std::unique_ptr<ConsoleApi> console_;  // on rail_'s switch and TSP and on dcep_: destroyed before them
  std::int64_t start_count_ = 0;
  HttpFront http_;
};

}  // namespace tapstack::server
