#include "benchkit/provisioning_scenario.h"

#include <spdlog/spdlog.h>

#include "crypto/key_agreement.h"
#include "demo/demo_keys.h"
#include "tsp/otp_challenge.h"

namespace tapstack::benchkit {

using Clock = std::chrono::steady_clock;

Result<std::unique_ptr<ProvisioningLoad>> ProvisioningLoad::Start(const std::filesystem::path& data_dir,
                                                                  int cards_per_bank) {
  if (cards_per_bank < 1) return InvalidArgument("cards-per-bank: expected at least 1");
  std::unique_ptr<ProvisioningLoad> load(new ProvisioningLoad());
  load->cards_per_bank_ = cards_per_bank;
  TS_ASSIGN_OR_RETURN(const std::filesystem::path seed, demo::DefaultSeedPath());
  TS_ASSIGN_OR_RETURN(demo::DemoNetwork demo, demo::LoadDemoNetwork(seed));
  load->demo_ = std::make_unique<demo::DemoNetwork>(std::move(demo));
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  server::PaymentRailOptions options;
  options.data_dir = data_dir;
  options.cards_per_bank = cards_per_bank;
  TS_ASSIGN_OR_RETURN(load->rail_, server::PaymentRail::Start(*load->demo_, options));
  TS_ASSIGN_OR_RETURN(crypto::EcdhPrivateKey device_key, crypto::EcdhPrivateKey::Generate());
  TS_ASSIGN_OR_RETURN(load->device_public_, device_key.PublicKeyRaw());
  load->requestor_ = load->demo_->tsp.requestors.at(0).id;
  return load;
}

ProvisioningLoad::~ProvisioningLoad() { rail_.reset(); }

Result<BindTimings> ProvisioningLoad::BindOne(std::int64_t i) {
  const demo::DemoNetwork& net = *demo_;
  const auto banks = static_cast<std::int64_t>(net.banks.size());
  const int bank = static_cast<int>(i % banks);
  const int card = static_cast<int>((i / banks) % cards_per_bank_);
  tsp::TspService& tsp = rail_->tsp().service();
  BindTimings timings;
  const Clock::time_point t0 = Clock::now();
  tsp::ProvisionRequest request;
  request.requestor_id = requestor_;
  request.device_id = "bench-device-" + std::to_string(i);
  request.device_public_key = device_public_;
  TS_ASSIGN_OR_RETURN(request.pan, server::PaymentRail::CardNumber(net, bank, card));
  request.pan_expiry = demo::kDemoCardExpiry;
  TS_ASSIGN_OR_RETURN(request.cvv2, demo::DemoCardCvv2(net.banks[static_cast<std::size_t>(bank)].institution_id,
                                                       request.pan, demo::kDemoCardExpiry));
  request.holder_name = "BENCH";
  request.phone = "+86139" + std::to_string(10'000'000 + i);
  const std::string phone = request.phone;
  TS_ASSIGN_OR_RETURN(tsp::ProvisionOutcome pending, tsp.Provision(std::move(request)));
  const Clock::time_point t1 = Clock::now();
  timings.provision = t1 - t0;
  if (pending.decision == tsp::ProvisionDecision::kApproved) {
    timings.green = true;  // a bank whose ID&V policy is "approve": bound without an OTP
    return timings;
  }
  if (pending.decision != tsp::ProvisionDecision::kStepUp) {
    return FailedPrecondition("card " + std::to_string(i) + ": provisioning declined: " + pending.decline_reason);
  }
  TS_ASSIGN_OR_RETURN(std::vector<tsp::SmsOutboxMessage> sms, tsp.SmsOutbox(phone, 0));
  const std::string code = sms.empty() ? std::string() : tsp::OtpFromSmsText(sms.back().text);
  if (code.empty()) return NotFound("card " + std::to_string(i) + ": no OTP in the SMS outbox");
  const Clock::time_point t2 = Clock::now();
  timings.outbox = t2 - t1;
  TS_ASSIGN_OR_RETURN(tsp::OtpVerification verified, tsp.VerifyOtp(requestor_, pending.token->token_id, code));
  timings.verify = Clock::now() - t2;
  if (verified.outcome != tsp::OtpOutcome::kVerified || verified.approved.credentials.empty()) {
    return FailedPrecondition("card " + std::to_string(i) + ": OTP not verified");
  }
  return timings;
}

Status ProvisioningScenario::Setup(const ScenarioConfig& config) {
  const std::string& text = config.options.at("--cards-per-bank");
  int cards = 0;
  try {
    std::size_t used = 0;
    cards = std::stoi(text, &used);
    if (used != text.size()) cards = 0;
  } catch (const std::exception&) {
  }
  if (cards < 1) return InvalidArgument("--cards-per-bank: expected a positive integer, got \"" + text + "\"");
  spdlog::set_level(spdlog::level::warn);
  TS_ASSIGN_OR_RETURN(load_, ProvisioningLoad::Start(config.scratch_dir / "rail", cards));
  return Status::Ok();
}

Status ProvisioningScenario::RunOnce(int /*thread*/) {
  Result<BindTimings> bound = load_->BindOne(next_.fetch_add(1, std::memory_order_relaxed));
  if (!bound.ok()) return bound.status();
  if (bound->green) green_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> ProvisioningScenario::details() const {
  return {{"green", std::to_string(green_.load()) + " cards bound without an OTP (ID&V policy approve)"}};
}

}  // namespace tapstack::benchkit
