#include "dcep_wire/certificate.h"

#include "core/hex.h"
#include "dcep_wire/internal/tlv_fields.h"
#include "dcep_wire/limits.h"
#include "dcep_wire/scheme.h"

namespace tapstack::dcep_wire {

namespace {

using internal::FieldReader;

constexpr emv::TlvTag kTagVersion = 0x5F29;
constexpr emv::TlvTag kTagSerial = 0x93;
constexpr emv::TlvTag kTagIssuerId = 0x42;
constexpr emv::TlvTag kTagSubjectId = 0x5F20;
constexpr emv::TlvTag kTagRole = 0x5F4C;
constexpr emv::TlvTag kTagScheme = 0x80;
constexpr emv::TlvTag kTagPublicKey = 0x7F49;
constexpr emv::TlvTag kTagPublicPoint = 0x86;  // TR-03110 part 3 D.3.3
constexpr emv::TlvTag kTagNotAfter = 0x5F24;
constexpr emv::TlvTag kTagTier = 0x81;
constexpr emv::TlvTag kTagOfflineBalanceMax = 0x82;
constexpr emv::TlvTag kTagOfflinePaymentMax = 0x83;
constexpr emv::TlvTag kTagOfflinePaymentsMax = 0x84;
constexpr emv::TlvTag kTagOfflineValueMax = 0x85;
// 86 is the public point inside 7F49; the body level skips it to keep the two apart.
constexpr emv::TlvTag kTagOfflineUnsyncedMaxAge = 0x87;

constexpr std::string_view kWhat = "certificate";

Status CheckBody(const CertificateBody& b) {
  TS_RETURN_IF_ERROR(internal::CheckAscii(b.issuer_id, "certificate issuer id (42)",
                                          kEntityIdBytesMax));
  TS_RETURN_IF_ERROR(internal::CheckAscii(b.subject_id, "certificate subject id (5F20)",
                                          kEntityIdBytesMax));
  if (b.role == CertificateRole::kDevice) {
    TS_RETURN_IF_ERROR(internal::CheckDeviceIdText(b.subject_id, "device certificate subject id (5F20)"));
  }
  if (b.role != CertificateRole::kRoot && b.role != CertificateRole::kOperator &&
      b.role != CertificateRole::kDevice) {
    return InvalidArgument("certificate role (5F4C): expected 01, 02 or 03");
  }
  if (b.public_key.size() != RawPublicKeyBytes(b.scheme)) {
    return InvalidArgument("certificate public key (7F49/86): expected " +
                           std::to_string(RawPublicKeyBytes(b.scheme)) + " bytes for " +
                           std::string(crypto::SignatureSchemeName(b.scheme)));
  }
  if (b.not_after_unix_s < 0) return InvalidArgument("certificate not_after (5F24): negative");
  TS_RETURN_IF_ERROR(internal::CheckAmount(b.offline_balance_max_fen, "offline balance max (82)"));
  TS_RETURN_IF_ERROR(internal::CheckAmount(b.offline_payment_max_fen, "offline payment max (83)"));
  TS_RETURN_IF_ERROR(
      internal::CheckAmount(b.offline_value_before_sync_max_fen, "offline value before sync max (85)"));
  return Status::Ok();
}

std::string Describe(const Certificate& cert) {
  return std::string(CertificateRoleName(cert.body.role)) + " certificate " +
         HexEncode(UintToBytes(cert.body.serial, kSerialBytes)) + " of " + cert.body.subject_id;
}

}  // namespace

std::string_view CertificateRoleName(CertificateRole role) {
  switch (role) {
    case CertificateRole::kRoot:
      return "root";
    case CertificateRole::kOperator:
      return "operator";
    case CertificateRole::kDevice:
      return "device";
  }
  return "unknown";
}

Result<crypto::PublicKey> Certificate::PublicKey() const {
  return crypto::PublicKey::FromRaw(body.scheme, body.public_key);
}

Result<Bytes> EncodeCertificateBody(const CertificateBody& b) {
  TS_RETURN_IF_ERROR(CheckBody(b));
  TS_ASSIGN_OR_RETURN(const Bytes key, emv::EncodeTlv(kTagPublicPoint, b.public_key));
  internal::TlvWriter w;
  w.PutUint(kTagVersion, kFormatVersion, 1);
  w.PutUint(kTagSerial, b.serial, kSerialBytes);
  w.PutText(kTagIssuerId, b.issuer_id);
  w.PutText(kTagSubjectId, b.subject_id);
  w.PutUint(kTagRole, static_cast<std::uint8_t>(b.role), 1);
  w.PutUint(kTagScheme, SchemeByte(b.scheme), 1);
  w.Put(kTagPublicKey, key);
  w.PutUint(kTagNotAfter, static_cast<std::uint64_t>(b.not_after_unix_s), kUnixTimeBytes);
  w.PutUint(kTagTier, b.tier, 1);
  w.PutUint(kTagOfflineBalanceMax, static_cast<std::uint64_t>(b.offline_balance_max_fen),
            kAmountBytes);
  w.PutUint(kTagOfflinePaymentMax, static_cast<std::uint64_t>(b.offline_payment_max_fen),
            kAmountBytes);
  w.PutUint(kTagOfflinePaymentsMax, b.offline_payments_before_sync_max, kPaymentsCountBytes);
  w.PutUint(kTagOfflineValueMax, static_cast<std::uint64_t>(b.offline_value_before_sync_max_fen),
            kAmountBytes);
  w.PutUint(kTagOfflineUnsyncedMaxAge, b.offline_unsynced_max_age_s, kAgeSecondsBytes);
  return w.Finish(kTagCertificateBody);
}

Result<Bytes> IssueCertificate(const CertificateBody& body, const crypto::PrivateKey& issuer_key) {
  TS_ASSIGN_OR_RETURN(const Bytes signed_body, EncodeCertificateBody(body));
  TS_ASSIGN_OR_RETURN(Bytes encoded,
                      internal::SignEnvelope(kTagCertificate, signed_body, issuer_key));
  if (encoded.size() > kCertificateBytesMax) {
    return OutOfRange("certificate: encodes to more than " + std::to_string(kCertificateBytesMax) +
                      " bytes");
  }
  return encoded;
}

Result<Certificate> ParseCertificate(ByteView encoded) {
  emv::TlvTree tree;
  TS_RETURN_IF_ERROR(
      internal::DecodeOne(encoded, kTagCertificate, kWhat, kCertificateBytesMax, tree));
  TS_ASSIGN_OR_RETURN(const internal::SignedParts parts,
                      internal::ReadSigned(tree, *tree.roots().begin(), kTagCertificateBody, kWhat));
  const FieldReader f(tree, *parts.body, kWhat);
  TS_RETURN_IF_ERROR(f.CheckTags({kTagVersion, kTagSerial, kTagIssuerId, kTagSubjectId, kTagRole,
                                  kTagScheme, kTagPublicKey, kTagNotAfter, kTagTier,
                                  kTagOfflineBalanceMax, kTagOfflinePaymentMax,
                                  kTagOfflinePaymentsMax, kTagOfflineValueMax,
                                  kTagOfflineUnsyncedMaxAge}));
  Certificate cert;
  CertificateBody& b = cert.body;
  TS_ASSIGN_OR_RETURN(const std::uint64_t version, f.Uint(kTagVersion, "version", 1));
  if (version != kFormatVersion) {
    return InvalidArgument("certificate: tag 5F29 (version) must be 01, got " +
                           HexEncode(UintToBytes(version, 1)));
  }
  TS_ASSIGN_OR_RETURN(b.serial, f.Uint(kTagSerial, "serial", kSerialBytes));
  TS_ASSIGN_OR_RETURN(b.issuer_id, f.Ascii(kTagIssuerId, "issuer id", kEntityIdBytesMax));
  TS_ASSIGN_OR_RETURN(b.subject_id, f.Ascii(kTagSubjectId, "subject id", kEntityIdBytesMax));
  TS_ASSIGN_OR_RETURN(const std::uint64_t role, f.Uint(kTagRole, "role", 1));
  if (role < 1 || role > 3) {
    return InvalidArgument("certificate: tag 5F4C (role) must be 01, 02 or 03, got " +
                           HexEncode(UintToBytes(role, 1)));
  }
  b.role = static_cast<CertificateRole>(role);
  if (b.role == CertificateRole::kDevice) {
    TS_ASSIGN_OR_RETURN(b.subject_id, f.DeviceId(kTagSubjectId, "device subject id"));
  }
  TS_ASSIGN_OR_RETURN(const std::uint64_t scheme, f.Uint(kTagScheme, "scheme", 1));
  Result<crypto::SignatureScheme> parsed_scheme = SchemeFromByte(static_cast<std::uint8_t>(scheme));
  if (!parsed_scheme.ok()) return parsed_scheme.status().WithContext("certificate: tag 80");
  b.scheme = *parsed_scheme;
  TS_ASSIGN_OR_RETURN(const emv::TlvNode* key_template, f.Node(kTagPublicKey, "public key"));
  if (!key_template->constructed) {
    return InvalidArgument("certificate: tag 7F49 (public key) must hold tag 86");
  }
  const FieldReader key_reader(tree, *key_template, "certificate public key 7F49");
  TS_RETURN_IF_ERROR(key_reader.CheckTags({kTagPublicPoint}));
  TS_ASSIGN_OR_RETURN(const ByteView key, key_reader.Fixed(kTagPublicPoint, "public key raw",
                                                           RawPublicKeyBytes(b.scheme)));
  b.public_key.assign(key.begin(), key.end());
  TS_ASSIGN_OR_RETURN(b.not_after_unix_s, f.UnixSeconds(kTagNotAfter, "not_after"));
  TS_ASSIGN_OR_RETURN(const std::uint64_t tier, f.Uint(kTagTier, "tier", 1));
  b.tier = static_cast<std::uint8_t>(tier);
  TS_ASSIGN_OR_RETURN(b.offline_balance_max_fen,
                      f.Amount(kTagOfflineBalanceMax, "offline balance max"));
  TS_ASSIGN_OR_RETURN(b.offline_payment_max_fen,
                      f.Amount(kTagOfflinePaymentMax, "offline payment max"));
  TS_ASSIGN_OR_RETURN(const std::uint64_t payments,
                      f.Uint(kTagOfflinePaymentsMax, "offline payments before sync max",
                             kPaymentsCountBytes));
  b.offline_payments_before_sync_max = static_cast<std::uint16_t>(payments);
  TS_ASSIGN_OR_RETURN(b.offline_value_before_sync_max_fen,
                      f.Amount(kTagOfflineValueMax, "offline value before sync max"));
  TS_ASSIGN_OR_RETURN(const std::uint64_t max_age,
                      f.Uint(kTagOfflineUnsyncedMaxAge, "offline unsynced max age", kAgeSecondsBytes));
  b.offline_unsynced_max_age_s = static_cast<std::uint32_t>(max_age);
  cert.signed_body.assign(parts.body_bytes.begin(), parts.body_bytes.end());
  cert.signature.assign(parts.signature.begin(), parts.signature.end());
  cert.encoded.assign(encoded.begin(), encoded.end());
  return cert;
}

Status VerifyCertificate(const Certificate& cert, const crypto::PublicKey& issuer_key) {
  return internal::VerifyBody(issuer_key, cert.signed_body, cert.signature, Describe(cert));
}

Status VerifyChain(const crypto::PublicKey& root_key, const Certificate& operator_cert,
                   const Certificate& device_cert, std::int64_t now_unix_s,
                   const IsRevoked& is_revoked) {
  if (operator_cert.body.role != CertificateRole::kOperator) {
    return CryptoFailure("chain: the middle certificate has role " +
                         std::string(CertificateRoleName(operator_cert.body.role)) +
                         ", expected operator");
  }
  if (device_cert.body.role != CertificateRole::kDevice) {
    return CryptoFailure("chain: the leaf certificate has role " +
                         std::string(CertificateRoleName(device_cert.body.role)) +
                         ", expected device");
  }
  if (device_cert.body.issuer_id != operator_cert.body.subject_id) {
    return CryptoFailure("chain: " + Describe(device_cert) + " names issuer " +
                         device_cert.body.issuer_id + ", not the operator " +
                         operator_cert.body.subject_id);
  }
  TS_RETURN_IF_ERROR(VerifyCertificate(operator_cert, root_key));
  Result<crypto::PublicKey> operator_key = operator_cert.PublicKey();
  if (!operator_key.ok()) {
    return CryptoFailure("chain: " + Describe(operator_cert) + " holds an unusable key");
  }
  TS_RETURN_IF_ERROR(VerifyCertificate(device_cert, *operator_key));
  return CheckChainCurrent(operator_cert, device_cert, now_unix_s, is_revoked);
}

Status CheckChainCurrent(const Certificate& operator_cert, const Certificate& device_cert,
                         std::int64_t now_unix_s, const IsRevoked& is_revoked) {
  for (const Certificate* cert : {&operator_cert, &device_cert}) {
    if (cert->body.not_after_unix_s < now_unix_s) {
      return OutOfRange("chain: " + Describe(*cert) + " expired at " +
                        std::to_string(cert->body.not_after_unix_s) + " (now " +
                        std::to_string(now_unix_s) + ")");
    }
    if (is_revoked && is_revoked(*cert)) {
      return FailedPrecondition("chain: " + Describe(*cert) + " is revoked");
    }
  }
  return Status::Ok();
}

}  // namespace tapstack::dcep_wire
