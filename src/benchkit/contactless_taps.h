// Contactless load for the end-to-end benchmark: phones with demo cards bound through the TSP,
// and their taps made ahead of time (the phone's work is not the network's figure).
#pragma once

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

// `devices` phones, phone d holding a token of demo card (bank d % banks, card 4 + d / banks),
// bound through `tsp` exactly as the wallet does it (Provision, the OTP from the SMS outbox,
// VerifyOtp, InstallToken); then `taps` contactless purchases of 1.00 CNY per phone, in ATC order.
// Errors: any step's, naming the phone.
inline Result<std::vector<std::vector<acquirer::Purchase>>> MakeContactlessTaps(
    const demo::DemoNetwork& demo, tsp::TspService& tsp, const std::filesystem::path& dir,
    int devices, int taps) {
  std::vector<std::vector<acquirer::Purchase>> out;
  SeededRandom random(2026);
  const std::string requestor = demo.tsp.requestors.at(0).id;
  const int banks = static_cast<int>(demo.banks.size());
  for (int d = 0; d < devices; ++d) {
    const std::string name = "phone-" + std::to_string(d);
    device::SecureElementOptions o;
    o.data_dir = dir;
    o.device_id = name;
    TS_ASSIGN_OR_RETURN(std::unique_ptr<device::SecureElement> se, device::SecureElement::Open(o));
    tsp::ProvisionRequest request;
    request.requestor_id = requestor;
    request.device_id = name;
    request.device_public_key = se->public_key();
    TS_ASSIGN_OR_RETURN(request.pan, server::PaymentRail::CardNumber(demo, d % banks, 4 + d / banks));
    request.pan_expiry = demo::kDemoCardExpiry;
    TS_ASSIGN_OR_RETURN(request.cvv2,
                        demo::DemoCardCvv2(demo.banks[static_cast<std::size_t>(d % banks)].institution_id,
                                           request.pan, demo::kDemoCardExpiry));
    request.holder_name = "BENCH";
    request.phone = "+86137" + std::to_string(10'000'000 + d);
    const std::string phone = request.phone;
    TS_ASSIGN_OR_RETURN(tsp::ProvisionOutcome outcome, tsp.Provision(std::move(request)));
    if (outcome.decision == tsp::ProvisionDecision::kStepUp) {  // else green: bound at once
      TS_ASSIGN_OR_RETURN(std::vector<tsp::SmsOutboxMessage> sms, tsp.SmsOutbox(phone, 0));
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
    TS_RETURN_IF_ERROR(se->InstallToken(outcome.token->token_id, outcome.credentials));

    acquirer::ContactlessKernel kernel(
        [&se](ByteView capdu) -> Result<Bytes> { return se->Transmit(capdu); }, random,
        SystemClock::Instance());
    std::vector<acquirer::Purchase> device_taps;
    for (int t = 0; t < taps; ++t) {
      se->BiometricVerified();
      acquirer::ContactlessTerminalData data;
      data.amount_authorised_minor = 100;
      TS_ASSIGN_OR_RETURN(acquirer::ContactlessResult tap, kernel.Run(data));
      acquirer::Purchase p;
      p.pan = tap.token_number;
      p.expiry = tap.expiry_yymm;
      p.amount = Amount(100, Cny());
      p.entry = acquirer::EntryMode::kContactless;
      p.icc_data.assign(tap.icc_data.begin(), tap.icc_data.end());
      device_taps.push_back(std::move(p));
    }
    out.push_back(std::move(device_taps));
  }
  return out;
}

}  // namespace tapstack::benchkit
