// ClearingLink: a wallet platform's JSON link to the network's QR clearing (network/qr_clearing.h),
// through which a platform pays merchants that another platform acquires (a partner wallet abroad)
// and receives payments for its own merchants. In one process a function call carries the JSON; as
// separate processes, HTTP.
//
// Messages (JSON objects; amounts are {"minor": integer, "currency": "PKR"}):
//   → network  {"type": "qr_payment", "clearing_id": "<payer platform>:<payer's payment id>",
//               "payer_platform", "payee_platform", "payload": "<the merchant's MPM text>",
//               "amount": merchant currency, "payer_amount": payer currency, "rate": decimal text,
//               "markup_bps", "payer_alias": pseudonymous payer id shown to the merchant}
//   ← network  {"status": "approved", "clearing_id", "payee_payment_id"} or
//              {"status": "declined", "clearing_id", "reason": "<field: what was wrong>"}
// The network forwards a qr_payment to the payee platform unchanged and records the position only
// when the payee approved. A clearing_id seen before gets the first answer again.
#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace tapstack::qrpay {

class ClearingLink {
 public:
  virtual ~ClearingLink() = default;
  // Errors: kUnavailable (no answer: retry with the same clearing_id); kInvalidArgument (the
  // network refused the message's shape).
  virtual Result<nlohmann::json> Send(const nlohmann::json& request) = 0;
};

}  // namespace tapstack::qrpay
