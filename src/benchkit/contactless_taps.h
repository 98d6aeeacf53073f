// Contactless load for the end-to-end benchmark: phones with demo cards bound through the TSP,
// and their taps, made outside the timed authorisation (the phone's work is not the network's
// figure): all ahead of time (MakeContactlessTaps), or phone by phone as the load needs them
// (BindContactlessPhone, then ContactlessPhone::MakeTap on a refill thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "acquirer/contactless_kernel.h"
#include "acquirer/pos_terminal.h"
#include "core/clock.h"
#include "core/random_source.h"
#include "demo/demo_keys.h"
#include "demo/demo_network.h"
#include "device/secure_element.h"
#include "server/payment_rail.h"
#include "tsp/otp_challenge.h"
#include "tsp/tsp_service.h"

namespace tapstack::benchkit {

// A phone (secure-element emulator) with a token bound through the TSP, and the terminal kernel
// that taps it. Not thread-safe: one thread makes its taps.
struct ContactlessPhone {
  std::unique_ptr<device::SecureElement> se;
  std::unique_ptr<SeededRandom> random;  // the kernel's unpredictable numbers (outlives it)
  std::unique_ptr<acquirer::ContactlessKernel> kernel;
  std::int64_t taps_made = 0;

  // One contactless purchase of `amount_minor` CNY fen, as the terminal sends it: the phone's
  // next ATC. Errors: the kernel's (a card refusal, an ATC at its maximum).
  Result<acquirer::Purchase> MakeTap(std::int64_t amount_minor = 100) {
    se->BiometricVerified();
    acquirer::ContactlessTerminalData data;
    data.amount_authorised_minor = amount_minor;
    TS_ASSIGN_OR_RETURN(acquirer::ContactlessResult tap, kernel->Run(data));
    acquirer::Purchase p;
    p.pan = tap.token_number;
    p.expiry = tap.expiry_yymm;
    p.amount = Amount(amount_minor, Cny());
    p.entry = acquirer::EntryMode::kContactless;
    p.icc_data.assign(tap.icc_data.begin(), tap.icc_data.end());
    ++taps_made;
    return p;
  }
};

// Phone "phone-<d>" under `dir`, holding a token of demo card (bank, card) bound through `tsp`
// exactly as the wallet does it (Provision, the OTP from the SMS outbox, VerifyOtp,
// InstallToken). Errors: any step's, naming the phone.
inline Result<std::unique_ptr<ContactlessPhone>> BindContactlessPhone(const demo::DemoNetwork& demo,
                                                                      tsp::TspService& tsp,
                                                                      const std::filesystem::path& dir, int d,
                                                                      int bank, int card) {
  const std::string requestor = demo.tsp.requestors.at(0).id;
  const std::string name = "phone-" + std::to_string(d);
  auto phone = std::make_unique<ContactlessPhone>();
  device::SecureElementOptions o;
  o.data_dir = dir;
  o.device_id = name;
  TS_ASSIGN_OR_RETURN(phone->se, device::SecureElement::Open(o));
  tsp::ProvisionRequest request;
  request.requestor_id = requestor;
  request.device_id = name;
  request.device_public_key = phone->se->public_key();
  TS_ASSIGN_OR_RETURN(request.pan, server::PaymentRail::CardNumber(demo, bank, card));
  request.pan_expiry = demo::kDemoCardExpiry;
  TS_ASSIGN_OR_RETURN(request.cvv2,
                      demo::DemoCardCvv2(demo.banks[static_cast<std::size_t>(bank)].institution_id,
                                         request.pan, demo::kDemoCardExpiry));
  request.holder_name = "BENCH";
  request.phone = "+86137" + std::to_string(10'000'000 + d);
  const std::string sms_phone = request.phone;
  TS_ASSIGN_OR_RETURN(tsp::ProvisionOutcome outcome, tsp.Provision(std::move(request)));
  if (outcome.decision == tsp::ProvisionDecision::kStepUp) {  // else green: bound at once
    TS_ASSIGN_OR_RETURN(std::vector<tsp::SmsOutboxMessage> sms, tsp.SmsOutbox(sms_phone, 0));
    const std::string code = sms.empty() ? std::string() : tsp::OtpFromSmsText(sms.back().text);
    if (code.empty()) {
      return NotFound(name + ": no OTP in the outbox");
    }
    TS_ASSIGN_OR_RETURN(tsp::OtpVerification verified,
                        tsp.VerifyOtp(requestor, outcome.token->token_id, code));
    if (verified.outcome != tsp::OtpOutcome::kVerified) {
      return FailedPrecondition(name + ": OTP not verified");
    }
    outcome = std::move(verified.approved);
  }
  if (outcome.decision != tsp::ProvisionDecision::kApproved) {
    return FailedPrecondition(name + ": provisioning " + outcome.decline_reason);
  }
  TS_RETURN_IF_ERROR(phone->se->InstallToken(outcome.token->token_id, outcome.credentials));
  phone->random = std::make_unique<SeededRandom>(2026 + static_cast<std::uint64_t>(d));
  device::SecureElement* se = phone->se.get();
  phone->kernel = std::make_unique<acquirer::ContactlessKernel>(
      [se](ByteView capdu) -> Result<Bytes> { return se->Transmit(capdu); }, *phone->random,
      SystemClock::Instance());
  return phone;
}

// `devices` phones, phone d holding a token of demo card (bank d % banks, card 4 + d / banks)
// (BindContactlessPhone); then `taps` contactless purchases of 1.00 CNY per phone, in ATC order.
// Errors: any step's, naming the phone.
inline Result<std::vector<std::vector<acquirer::Purchase>>> MakeContactlessTaps(
    const demo::DemoNetwork& demo, tsp::TspService& tsp, const std::filesystem::path& dir,
    int devices, int taps) {
  std::vector<std::vector<acquirer::Purchase>> out;
  const int banks = static_cast<int>(demo.banks.size());
  for (int d = 0; d < devices; ++d) {
    TS_ASSIGN_OR_RETURN(std::unique_ptr<ContactlessPhone> phone,
                        BindContactlessPhone(demo, tsp, dir, d, d % banks, 4 + d / banks));
    std::vector<acquirer::Purchase> device_taps;
    for (int t = 0; t < taps; ++t) {
      TS_ASSIGN_OR_RETURN(acquirer::Purchase p, phone->MakeTap());
      device_taps.push_back(std::move(p));
    }
    out.push_back(std::move(device_taps));
  }
  return out;
}

}  // namespace tapstack::benchkit
