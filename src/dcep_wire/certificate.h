// Card-verifiable certificates of the digital-currency PKI (BSI TR-03110 part 3 shape; tags are
// tapstack's, docs/dcep-offline.md). The chain is central-bank root -> operator -> device; a root
// certificate is self-signed and its public key is pre-installed in every applet.
//
//   7F21 { 7F4E body { 5F29 version 01 | 93 serial (8) | 42 issuer id | 5F20 subject id
//          | 5F4C role (01 root, 02 operator, 03 device) | 80 scheme (1)
//          | 7F49 { 86 public key raw (65 or 32) } | 5F24 not_after unix s (8) | 81 tier (1)
//          | 82 offline balance max fen (8) | 83 offline payment max fen (8)
//          | 84 offline payments before sync max (2) | 85 offline value before sync max fen (8)
//          | 87 offline unsynced max age s (4) }
//        | 5F37 signature (64) over the complete 7F4E encoding }
//
// 7F49 is a constructed tag under BER (bit 6 of 7F is set), so the raw key sits in 86 inside it,
// as in TR-03110's public-key template. The offline caps bind only device certificates; root and
// operator certificates carry zeros. A cap of 0 allows nothing (caps are never "unlimited").
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/signature.h"
#include "emv/tlv.h"

namespace tapstack::dcep_wire {

inline constexpr emv::TlvTag kTagCertificate = 0x7F21;
inline constexpr emv::TlvTag kTagCertificateBody = 0x7F4E;

enum class CertificateRole : std::uint8_t { kRoot = 0x01, kOperator = 0x02, kDevice = 0x03 };

// "root", "operator", "device".
std::string_view CertificateRoleName(CertificateRole role);

// The signed fields.
struct CertificateBody {
  std::uint64_t serial = 0;
  std::string issuer_id;   // the issuer's subject id (a root names itself)
  std::string subject_id;  // device certificates: the device id (1-64 of a-z 0-9 - _)
  CertificateRole role = CertificateRole::kDevice;
  crypto::SignatureScheme scheme = crypto::SignatureScheme::kSm2Sm3;
  Bytes public_key;  // raw: 65 bytes (SM2, P-256) or 32 (Ed25519)
  std::int64_t not_after_unix_s = 0;
  std::uint8_t tier = 0;  // wallet tier 1-4 for devices, 0 otherwise
  std::int64_t offline_balance_max_fen = 0;
  std::int64_t offline_payment_max_fen = 0;
  std::uint16_t offline_payments_before_sync_max = 0;
  std::int64_t offline_value_before_sync_max_fen = 0;
  // Expiry of unsynced transfers: a device whose oldest transfer not yet acknowledged by a sync is
  // older than this stops paying and asking to be paid offline until it syncs.
  std::uint32_t offline_unsynced_max_age_s = 0;

  friend bool operator==(const CertificateBody&, const CertificateBody&) = default;
};

// A parsed certificate, with the bytes its signature covers.
struct Certificate {
  CertificateBody body;
  Bytes signed_body;  // the complete 7F4E encoding
  Bytes signature;    // 64 bytes, raw
  Bytes encoded;      // the complete 7F21 encoding, as received

  // The public key of the body. Errors: a key not on the curve (kInvalidArgument).
  Result<crypto::PublicKey> PublicKey() const;
};

// The 7F4E encoding of `body`. Errors (kInvalidArgument) name the field: ids outside their
// alphabet or length, a key of the wrong length for the scheme, negative amounts or time.
Result<Bytes> EncodeCertificateBody(const CertificateBody& body);

// Encodes and signs `body` with the issuer's key and returns the 7F21 encoding. For a root
// certificate pass the root's own key. Errors: as EncodeCertificateBody; kCryptoFailure.
Result<Bytes> IssueCertificate(const CertificateBody& body, const crypto::PrivateKey& issuer_key);

// Parses a 7F21 certificate. Errors (kInvalidArgument) name the tag and field: a wrong outer or
// body tag, a missing, repeated, unknown or wrong-length field, version other than 01, unknown
// role or scheme, a key of the wrong length, trailing bytes; kOutOfRange above
// kCertificateBytesMax. Does not check the signature.
Result<Certificate> ParseCertificate(ByteView encoded);

// OK when `cert`'s signature verifies under `issuer_key`. Errors: kCryptoFailure.
Status VerifyCertificate(const Certificate& cert, const crypto::PublicKey& issuer_key);

// Decides whether a certificate is revoked (by subject id, serial or both). May be empty: nothing
// is revoked.
using IsRevoked = std::function<bool(const Certificate&)>;

// Checks root -> operator -> device:
//   the operator certificate has role operator and verifies under `root_key`; the device
//   certificate has role device, names the operator's subject id as its issuer, and verifies
//   under the operator's key; neither has expired (not_after < now_unix_s) nor is revoked.
// Errors: kCryptoFailure (a signature, a role, the issuer linkage, an unusable key);
// kOutOfRange (expired); kFailedPrecondition (revoked). Each message names which certificate.
Status VerifyChain(const crypto::PublicKey& root_key, const Certificate& operator_cert,
                   const Certificate& device_cert, std::int64_t now_unix_s,
                   const IsRevoked& is_revoked = {});

// The part of VerifyChain that can change after a chain was verified: neither certificate has
// expired nor is revoked. Errors: kOutOfRange (expired); kFailedPrecondition (revoked).
Status CheckChainCurrent(const Certificate& operator_cert, const Certificate& device_cert,
                         std::int64_t now_unix_s, const IsRevoked& is_revoked = {});

}  // namespace tapstack::dcep_wire
