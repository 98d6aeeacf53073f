// QrWorld: the QR-payment side of the demo network in one process, for `tapstack demo qr`,
// `tapstack demo abroad`, their tests and the QR benchmark:
//   - the card rail (server/payment_rail.h, in memory): switch, TSP, every demo issuer bank;
//   - the network's QR clearing (network/qr_clearing.h) on <data_dir>/qr_clearing.db;
//   - one wallet payment platform per platform of seed/qrpay.json (tapstack-cn in CNY, the partner
//     induspay-pk in PKR), each on its own store, with the network's rates (FxRateSource), the card
//     rail through its own acquirer terminals (NetworkCardRail, DE32 kQrAcquirerId) and a JSON link
//     to the clearing, which forwards to the payee platform's HandleClearing;
//   - phones with a demo bank card bound to their secure element (BindPhone): provisioned through
//     the TSP with the ID&V step-up and the SMS code, as the wallet app does it.
// Keys are the demo key set (demo/demo_keys.h). Roles still talk only in their messages: ISO 8583
// on the rail, APDUs to the secure elements, JSON to the clearing.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/csprng.h"
#include "demo/demo_network.h"
#include "device/secure_element.h"
#include "network/qr_clearing.h"
#include "qrpay/platform.h"
#include "qrpay/qrpay_config.h"
#include "server/payment_rail.h"
#include "server/qr_rails.h"
#include "store/store.h"
#include "tsp/token_vault.h"

namespace tapstack::server {

// DE32 of the wallet platforms' acquirer terminals.
inline constexpr std::string_view kQrAcquirerId = "48029001";

struct QrWorldOptions {
  std::filesystem::path data_dir;  // created when missing; state survives a restart
  const Clock* clock = nullptr;    // default: the system clock
  int cards_per_bank = 4;          // demo cards the issuers hold per bank (own rail only)
  // The card rail to use (not owned; `tapstack serve` passes its own); nullptr: start one in
  // memory under data_dir.
  PaymentRail* rail = nullptr;
  // The demo network `rail` serves (required with `rail`; must outlive the world).
  const demo::DemoNetwork* demo = nullptr;
};

// A phone with one bank card bound: its secure element and the token the TSP issued for it.
struct DemoPhone {
  std::string device_id;
  std::string masked_pan;   // first 6 / last 4: all the phone's owner sees of the card number
  std::string bank_name;
  std::string bank_country;
  std::unique_ptr<device::SecureElement> se;
  tsp::TokenRecord token;
};

class QrWorld {
 public:
  // Errors: the seed's, the stores', the roles' Open errors.
  static Result<std::unique_ptr<QrWorld>> Start(QrWorldOptions options);
  ~QrWorld();

  const demo::DemoNetwork& demo() const { return demo_; }
  const qrpay::QrpayConfig& config() const { return config_; }
  PaymentRail& rail() { return *rail_; }
  // The platforms in seed order.
  std::vector<qrpay::Platform*> platforms();
  network::QrClearing& clearing() { return *clearing_; }
  // Errors: kNotFound naming the platform.
  Result<qrpay::Platform*> platform(std::string_view platform_id);

  // Binds demo card `card_index` of bank `bank_index` to a new phone `device_id` (its secure
  // element under <data_dir>/devices/<device_id>): TSP provisioning, ID&V step-up, the OTP read
  // from the SMS outbox, the credentials installed. Errors: the TSP's; kFailedPrecondition when
  // the issuer declined the binding.
  Result<DemoPhone> BindPhone(const std::string& device_id, int bank_index, int card_index,
                              const std::string& holder_name, const std::string& phone_number);

 private:
  QrWorld() = default;

  QrWorldOptions options_;
  demo::DemoNetwork demo_;
  qrpay::QrpayConfig config_;
  crypto::Csprng random_;
  std::unique_ptr<PaymentRail> own_rail_;
  PaymentRail* rail_ = nullptr;
  std::unique_ptr<FxRateSource> rates_;
  std::unique_ptr<NetworkCardRail> card_rail_;
  std::unique_ptr<store::Store> clearing_store_;
  std::unique_ptr<network::QrClearing> clearing_;
  std::unique_ptr<qrpay::ClearingLink> clearing_link_;
  std::map<std::string, std::unique_ptr<qrpay::Platform>, std::less<>> platforms_;
};

}  // namespace tapstack::server
