// Fuzz target for what a payer's e-CNY app reads from a camera: arbitrary bytes as a merchant QR
// code (dcep/merchant_qr.h), also with the CRC recomputed so the fuzzer reaches the e-CNY objects
// behind the CRC check. Properties: nothing crashes; a code that reads back is re-made (with the
// same key) into a code that reads back to the same fields and verifies; a code read from fuzzed
// bytes verifies only when its MAC really is the key's.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dcep/merchant_qr.h"
#include "merchant_qr_fuzz_util.h"
#include "qr/crc16.h"

namespace {

using namespace tapstack;

using fuzz::Check;
using fuzz::Key;
using fuzz::WithFixedCrc;

void FuzzMerchantCode(std::string_view text) {
  Result<dcep::MerchantQr> code = dcep::ParseMerchantQr(text);
  if (!code.ok()) {
    Check(!code.status().message().empty());
    return;
  }
  (void)dcep::VerifyMerchantQr(*code, Key(), 0);
  // Whatever the decoder accepts, the encoder accepts too (they share the field rules), and the
  // re-made code reads back to the same fields with a MAC that verifies.
  Result<std::string> made = dcep::EncodeMerchantQr(*code, Key());
  Check(made.ok());
  Result<dcep::MerchantQr> again = dcep::ParseMerchantQr(*made);
  Check(again.ok());
  Check(again->dynamic == code->dynamic && again->operator_id == code->operator_id &&
        again->merchant_id == code->merchant_id && again->mcc == code->mcc &&
        again->name == code->name && again->city == code->city &&
        again->amount_fen == code->amount_fen && again->order_id == code->order_id &&
        again->expires_unix_s == code->expires_unix_s);
  Check(dcep::VerifyMerchantQr(*again, Key(), 0).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  FuzzMerchantCode(text);
  FuzzMerchantCode(WithFixedCrc(text));
  return 0;
}
