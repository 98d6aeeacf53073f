#include "server/qr_world.h"

#include "core/pan.h"
#include "demo/demo_keys.h"
#include "store/sqlite_store.h"
#include "tsp/otp_challenge.h"
#include "wallet/wallet_service.h"

namespace tapstack::server {
namespace {

// The platforms' link to the clearing in this process: the JSON goes through a function call.
class InProcessClearingLink final : public qrpay::ClearingLink {
 public:
  explicit InProcessClearingLink(network::QrClearing& clearing) : clearing_(clearing) {}
  Result<nlohmann::json> Send(const nlohmann::json& request) override {
    return clearing_.Handle(request);
  }

 private:
  network::QrClearing& clearing_;
};

}  // namespace

QrWorld::~QrWorld() {
  platforms_.clear();  // before the rail, the rates and the clearing they point to
}

Result<std::unique_ptr<QrWorld>> QrWorld::Start(QrWorldOptions options) {
  std::unique_ptr<QrWorld> world(new QrWorld());
  world->options_ = options;
  std::error_code ignored;
  std::filesystem::create_directories(options.data_dir, ignored);
  TS_ASSIGN_OR_RETURN(const std::filesystem::path seed, demo::DefaultSeedPath());
  TS_ASSIGN_OR_RETURN(world->config_, qrpay::LoadQrpayConfig(seed.parent_path() / "qrpay.json"));
  if (options.rail != nullptr) {
    if (options.demo == nullptr) return InvalidArgument("options.demo: required with options.rail");
    world->demo_ = *options.demo;
    world->rail_ = options.rail;
  } else {
    TS_ASSIGN_OR_RETURN(world->demo_, demo::LoadDemoNetwork(seed));
    PaymentRailOptions rail;
    rail.data_dir = options.data_dir;
    rail.clock = options.clock;
    rail.cards_per_bank = options.cards_per_bank;
    TS_ASSIGN_OR_RETURN(world->own_rail_, PaymentRail::Start(world->demo_, rail));
    world->rail_ = world->own_rail_.get();
  }
  TS_ASSIGN_OR_RETURN(network::FxTable fx, DemoFxTable(world->demo_));
  world->rates_ = std::make_unique<FxRateSource>(std::move(fx));
  NetworkCardRailOptions card_rail;
  card_rail.link = &world->rail_->acquirer_link();
  card_rail.acquirer_id = std::string(kQrAcquirerId);
  card_rail.clock = options.clock;
  card_rail.random = &world->random_;
  TS_ASSIGN_OR_RETURN(world->card_rail_, NetworkCardRail::Create(std::move(card_rail)));

  TS_ASSIGN_OR_RETURN(world->clearing_store_, store::OpenSqlite(options.data_dir, "qr_clearing"));
  TS_ASSIGN_OR_RETURN(world->clearing_, network::QrClearing::Open(*world->clearing_store_, options.clock));
  world->clearing_link_ = std::make_unique<InProcessClearingLink>(*world->clearing_);

  for (const qrpay::PlatformInfo& info : world->config_.platforms) {
    qrpay::PlatformOptions platform;
    platform.platform_id = info.id;
    platform.config = &world->config_;
    platform.data_dir = options.data_dir;
    platform.qr_key = demo::DemoQrKey(info.id);
    platform.clock = options.clock;
    platform.random = &world->random_;
    platform.card_rail = world->card_rail_.get();
    platform.rates = world->rates_.get();
    platform.clearing = world->clearing_link_.get();
    TS_ASSIGN_OR_RETURN(std::unique_ptr<qrpay::Platform> opened, qrpay::Platform::Open(std::move(platform)));
    qrpay::Platform* raw = opened.get();
    TS_RETURN_IF_ERROR(world->clearing_->RegisterPlatform(
        info.id, [raw](const nlohmann::json& request) -> Result<nlohmann::json> {
          return raw->HandleClearing(request);
        }));
    world->platforms_.emplace(info.id, std::move(opened));
  }
  return world;
}

std::vector<qrpay::Platform*> QrWorld::platforms() {
  std::vector<qrpay::Platform*> out;
  for (const qrpay::PlatformInfo& info : config_.platforms) {
    if (auto it = platforms_.find(info.id); it != platforms_.end()) out.push_back(it->second.get());
  }
  return out;
}

Result<qrpay::Platform*> QrWorld::platform(std::string_view platform_id) {
  const auto it = platforms_.find(platform_id);
  if (it == platforms_.end()) return NotFound("platform " + std::string(platform_id) + ": not in seed/qrpay.json");
  return it->second.get();
}

Result<DemoPhone> QrWorld::BindPhone(const std::string& device_id, int bank_index, int card_index,
                                     const std::string& holder_name, const std::string& phone_number) {
  if (bank_index < 0 || static_cast<std::size_t>(bank_index) >= demo_.banks.size()) {
    return InvalidArgument("bank_index: expected 0-" + std::to_string(demo_.banks.size() - 1));
  }
  const demo::DemoBank& bank = demo_.banks[static_cast<std::size_t>(bank_index)];
  DemoPhone phone;
  phone.device_id = device_id;
  phone.bank_name = bank.name;
  phone.bank_country = bank.country;
  device::SecureElementOptions se;
  se.data_dir = options_.data_dir / "devices" / device_id;
  se.device_id = device_id;
  TS_ASSIGN_OR_RETURN(phone.se, device::SecureElement::Open(se));

  TS_ASSIGN_OR_RETURN(std::string pan, PaymentRail::CardNumber(demo_, bank_index, card_index));
  TS_ASSIGN_OR_RETURN(const Pan parsed, Pan::Parse(pan));
  phone.masked_pan = parsed.Masked();
  tsp::ProvisionRequest request;
  request.requestor_id = std::string(wallet::kDemoRequestorId);
  request.device_id = device_id;
  request.device_public_key = phone.se->public_key();
  request.pan = pan;
  request.pan_expiry = demo::kDemoCardExpiry;
  TS_ASSIGN_OR_RETURN(request.cvv2, demo::DemoCardCvv2(bank.institution_id, pan, demo::kDemoCardExpiry));
  request.holder_name = holder_name;
  request.phone = phone_number;
  tsp::TspService& tsp = rail_->tsp().service();
  TS_ASSIGN_OR_RETURN(const tsp::ProvisionOutcome outcome, tsp.Provision(std::move(request)));
  tsp::ProvisionOutcome approved = outcome;
  if (outcome.decision == tsp::ProvisionDecision::kStepUp) {
    TS_ASSIGN_OR_RETURN(const std::vector<tsp::SmsOutboxMessage> sms, tsp.SmsOutbox(phone_number, 0));
    if (sms.empty()) return Internal("the TSP asked for an OTP but sent no SMS to " + phone_number);
    TS_ASSIGN_OR_RETURN(const tsp::OtpVerification verified,
                        tsp.VerifyOtp(wallet::kDemoRequestorId, outcome.token->token_id,
                                      tsp::OtpFromSmsText(sms.back().text)));
    if (verified.outcome != tsp::OtpOutcome::kVerified) {
      return FailedPrecondition("binding " + phone.masked_pan + ": the SMS code was not accepted");
    }
    approved = verified.approved;
  } else if (outcome.decision == tsp::ProvisionDecision::kDeclined) {
    return FailedPrecondition("binding " + phone.masked_pan + ": declined by " + bank.name + " (" +
                              outcome.decline_reason + ")");
  }
  phone.token = *approved.token;
  TS_RETURN_IF_ERROR(phone.se->InstallToken(phone.token.token_id, approved.credentials));
  return phone;
}

}  // namespace tapstack::server
