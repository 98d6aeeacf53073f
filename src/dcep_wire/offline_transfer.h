// Offline transfer, signed by the payer's secure element, and the payer's certificate chain that
// travels next to it (docs/dcep-offline.md; digital-currency.md section 5.1):
//
//   E2 { E3 body { 5F29 version 01 | C1 payer device id | C2 payer counter (4)
//        | C3 payee device id | 9F37 payee nonce (16) | 9F02 amount fen (8)
//        | 5F2A currency numeric (2) | 9A time unix s (8) | 93 payer certificate serial (8) }
//      | 5F37 signature by the payer device key over the complete E3 encoding }
//   E4 { 7F21 payer device certificate | 7F21 payer operator certificate }
//
// (payer device id, payer counter) identifies a transfer: the operator de-duplicates on it, and
// the same key with a different record is a double spend. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/signature.h"
#include "dcep_wire/certificate.h"
#include "emv/tlv.h"

namespace tapstack::dcep_wire {

inline constexpr emv::TlvTag kTagOfflineTransfer = 0xE2;
inline constexpr emv::TlvTag kTagOfflineTransferBody = 0xE3;
inline constexpr emv::TlvTag kTagCertificateChain = 0xE4;

struct OfflineTransferBody {
  std::string payer_device_id;
  std::uint32_t payer_counter = 0;  // 1 for the device's first payment
  std::string payee_device_id;      // "op-<operator id>" for an unload
  Bytes payee_nonce;                // 16 bytes
  std::int64_t amount_fen = 0;
  std::uint16_t currency_numeric = 0;
  std::int64_t time_unix_s = 0;  // informational
  std::uint64_t payer_certificate_serial = 0;

  friend bool operator==(const OfflineTransferBody&, const OfflineTransferBody&) = default;
};

struct OfflineTransfer {
  OfflineTransferBody body;
  Bytes signed_body;  // the complete E3 encoding
  Bytes signature;    // 64 bytes
  Bytes encoded;      // the complete E2 encoding
};

// The E3 encoding. Errors (kInvalidArgument) name the field: device ids, nonce width, amount not
// positive, negative time.
Result<Bytes> EncodeOfflineTransferBody(const OfflineTransferBody& body);

// Encodes `body`, signs it with the payer device key and returns the E2 encoding.
// Errors: as EncodeOfflineTransferBody; kCryptoFailure.
Result<Bytes> SignOfflineTransfer(const OfflineTransferBody& body,
                                  const crypto::PrivateKey& payer_key);

// Parses E2. Errors (kInvalidArgument) name the tag; kOutOfRange above kOfflineTransferBytesMax.
// Does not verify the signature.
Result<OfflineTransfer> ParseOfflineTransfer(ByteView encoded);

// OK when the signature verifies under `payer_key`. Errors: kCryptoFailure.
Status VerifyOfflineTransfer(const OfflineTransfer& transfer, const crypto::PublicKey& payer_key);

// ---- the chain container E4 ---------------------------------------------------------------------

struct CertificateChain {
  Certificate device;
  Certificate operator_cert;
};

// E4 { device.encoded | operator_cert.encoded }. Errors: an empty certificate.
Result<Bytes> EncodeCertificateChain(const CertificateChain& chain);
// Errors (kInvalidArgument): wrong tag, not exactly two certificates, a certificate that does not
// parse; kOutOfRange above kCertificateChainBytesMax. Does not verify anything.
Result<CertificateChain> ParseCertificateChain(ByteView encoded);

// What PAY answers and RECEIVE takes: E2 immediately followed by E4.
struct TransferWithChain {
  OfflineTransfer transfer;
  CertificateChain chain;
};
// Errors (kInvalidArgument): not exactly E2 then E4, or either does not parse (naming which).
Result<TransferWithChain> ParseTransferWithChain(ByteView encoded);

// The complete offline check a payee (or the operator) makes on a received transfer:
// VerifyChain(root_key, chain, now_unix_s, is_revoked), then that the transfer names the chain's
// device as payer and its serial, then the signature under the device key.
// Errors: as VerifyChain; kCryptoFailure for a payer id or serial that is not the chain's, or a
// signature that does not verify.
Status VerifyOfflineTransferFromRoot(const OfflineTransfer& transfer, const CertificateChain& chain,
                                     const crypto::PublicKey& root_key, std::int64_t now_unix_s,
                                     const IsRevoked& is_revoked = {});

// The transfer names the chain's device as payer and its certificate serial. Errors:
// kCryptoFailure.
Status CheckTransferNamesChain(const OfflineTransfer& transfer, const CertificateChain& chain);

}  // namespace tapstack::dcep_wire
