// DcepWalletClient: what a wallet app (or a merchant's terminal) does with a digital-currency
// hardware wallet (device/dcep_applet.h) — every step an APDU exchange through a transmit
// function, with command chaining and GET RESPONSE (emv/apdu_chaining.h) for long data.
//
//   DcepWalletClient payer(transmit_to_watch_a), payee(transmit_to_watch_b);
//   TS_RETURN_IF_ERROR(PayOffline(payer, payee, 1'250));  // both offline
//
// Errors of every call: kUnavailable when the applet is not there (6A82); otherwise the applet's
// refusal as a Status whose message starts with the status word and its meaning
// ("9401 insufficient balance: ..."): kFailedPrecondition (9401, 6A84 caps, 6985, 6283 blocked or
// revoked), kCryptoFailure (6982 chain or signature), kInvalidArgument (6A80 and other words).
// Not thread-safe; one client per channel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "core/bytes.h"
#include "core/status.h"
#include "device/dcep_applet.h"

namespace tapstack::device {

inline constexpr std::uint16_t kCnyNumericCurrency = 156;
// Most bytes ReadLog gathers (an applet keeps at most 256 records of about 0.9 KB).
inline constexpr std::size_t kDcepLogReadBytesMax = std::size_t{1} << 20;

class DcepWalletClient {
 public:
  using Transmit = std::function<Bytes(ByteView)>;
  explicit DcepWalletClient(Transmit transmit) : transmit_(std::move(transmit)) {}

  // SELECT of the applet's AID.
  Status Select();
  Result<DcepPurseStatus> PurseStatus();
  // The device certificate (7F21) and the device public key raw.
  Result<Bytes> DeviceCertificate();
  Result<Bytes> PublicKey();

  // Personalisation after InstallDcepWallet: the E4 chain { device cert, operator cert }.
  Status PutCertificates(ByteView chain_e4);
  // An operator's E5 load order; returns the new balance.
  Result<std::int64_t> Load(ByteView load_order_e5);

  // Payee: a payment request (E1) for `amount_fen`; the nonce stays pending in the applet.
  Result<Bytes> CreatePaymentRequest(std::int64_t amount_fen,
                                     std::uint16_t currency = kCnyNumericCurrency);
  // Payer: pays a request; returns the signed transfer and its chain (E2 || E4).
  Result<Bytes> Pay(ByteView request_e1);
  // Payee: verifies and credits a transfer (E2 || E4).
  Status Receive(ByteView transfer_with_chain);

  // Every log record from `from_sequence` on (E9 records back to back), reading page by page.
  Result<Bytes> ReadLog(std::uint32_t from_sequence = 0);
  // An operator's E7 sync acknowledgement.
  Status Sync(ByteView sync_ack_e7);

 private:
  // Sends one (possibly long) command with CLA 80, P1 00, and gathers the whole answer.
  Result<emv::ResponseApdu> Exchange(std::uint8_t ins, std::uint8_t p2, ByteView data,
                                     bool expect_data);
  // Exchange, returning the data of a 9000 answer and the refusal otherwise.
  Result<Bytes> Command(std::uint8_t ins, std::uint8_t p2, ByteView data, bool expect_data);

  Transmit transmit_;
};

// One offline payment between two hardware wallets, relayed by the devices' hosts: the payee
// creates the request, the payer's applet pays it, the payee's applet verifies and credits.
// Returns the transfer (E2 || E4) the payee accepted. Errors: as the three calls.
Result<Bytes> PayOffline(DcepWalletClient& payer, DcepWalletClient& payee, std::int64_t amount_fen);

}  // namespace tapstack::device
