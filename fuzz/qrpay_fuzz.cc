// Fuzz target for what a wallet platform and a merchant's scanner read from a camera: arbitrary
// bytes as a merchant-presented code (qrpay/merchant_qr.h; also with the CRC recomputed so the
// fuzzer reaches the tapstack objects), as a consumer-presented code at a scanner
// (acquirer/consumer_presented.h) and as a payment code. Properties: nothing crashes; a code that
// reads back is re-made (with the same key) into a code that reads back to the same fields, and a
// code read from fuzzed bytes only verifies when its MAC really is the key's.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "acquirer/consumer_presented.h"
#include "merchant_qr_fuzz_util.h"
#include "qr/crc16.h"
#include "qrpay/merchant_qr.h"
#include "qrpay/payment_code.h"

namespace {

using namespace tapstack;

using fuzz::Check;
using fuzz::Key;
using fuzz::WithFixedCrc;

void FuzzMerchantCode(std::string_view text) {
  auto code = qrpay::ReadMerchantQr(text);
  if (!code.ok()) return;
  (void)qrpay::VerifyMerchantQr(*code, Key(), 0);
  // Re-make the code from what was read: it must read back to the same fields and verify.
  Result<std::string> made =
      code->dynamic ? qrpay::MakeDynamicMerchantQr(code->merchant,
                                                   {code->order_id, *code->amount, code->expires_unix_s}, Key())
                    : qrpay::MakeStaticMerchantQr(code->merchant, Key());
  if (!made.ok()) return;  // e.g. a name the decoder accepts but the issuer's rules do not
  auto again = qrpay::ReadMerchantQr(*made);
  Check(again.ok());
  Check(again->dynamic == code->dynamic && again->merchant.merchant_id == code->merchant.merchant_id &&
        again->merchant.name == code->merchant.name && again->order_id == code->order_id &&
        again->amount == code->amount);
  Check(qrpay::VerifyMerchantQr(*again, Key(), 0).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  FuzzMerchantCode(text);
  FuzzMerchantCode(WithFixedCrc(text));
  (void)acquirer::ConsumerPresentedPurchase(text, Amount(2350, Cny()), 1'795'000'000'000);
  (void)qrpay::CheckPaymentCode(text);
  return 0;
}
