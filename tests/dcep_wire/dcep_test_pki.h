// Test PKI for the digital-currency tests: a root (central bank), an operator and devices, with
// keys of one scheme, and helpers that flip every byte of a signed object. Test keys only.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "crypto/signature.h"
#include "dcep_wire/certificate.h"
#include "dcep_wire/offline_transfer.h"

namespace tapstack::dcep_wire::testing {

inline constexpr std::int64_t kNotAfter = 1'900'000'000;  // 2030-03-17
inline constexpr std::int64_t kNow = 1'767'225'600;      // 2026-01-01

inline const std::vector<crypto::SignatureScheme>& AllSchemes() {
  static const std::vector<crypto::SignatureScheme> schemes = {
      crypto::SignatureScheme::kSm2Sm3, crypto::SignatureScheme::kEcdsaP256Sha256,
      crypto::SignatureScheme::kEd25519};
  return schemes;
}

inline crypto::PrivateKey NewKey(crypto::SignatureScheme scheme) {
  Result<crypto::PrivateKey> key = crypto::PrivateKey::Generate(scheme);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return std::move(key).value();
}

inline Bytes RawKey(const crypto::PrivateKey& key) {
  Result<Bytes> raw = key.public_key().ToRaw();
  EXPECT_TRUE(raw.ok());
  return raw.ok() ? *raw : Bytes{};
}

// Device caps used throughout: balance 100,000 fen, payment 20,000, 5 payments / 50,000 fen
// before a sync, unsynced transfers expire after 3 days.
inline constexpr std::uint32_t kUnsyncedMaxAgeSeconds = 3 * 86'400;
inline CertificateBody DeviceBody(std::string subject, std::string issuer, Bytes public_key,
                                  crypto::SignatureScheme scheme, std::uint64_t serial) {
  CertificateBody b;
  b.serial = serial;
  b.issuer_id = std::move(issuer);
  b.subject_id = std::move(subject);
  b.role = CertificateRole::kDevice;
  b.scheme = scheme;
  b.public_key = std::move(public_key);
  b.not_after_unix_s = kNotAfter;
  b.tier = 4;
  b.offline_balance_max_fen = 100'000;
  b.offline_payment_max_fen = 20'000;
  b.offline_payments_before_sync_max = 5;
  b.offline_value_before_sync_max_fen = 50'000;
  b.offline_unsynced_max_age_s = kUnsyncedMaxAgeSeconds;
  return b;
}

inline Certificate Parse(const Result<Bytes>& encoded) {
  EXPECT_TRUE(encoded.ok()) << encoded.status().ToString();
  if (!encoded.ok()) return {};
  Result<Certificate> cert = ParseCertificate(*encoded);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return cert.ok() ? std::move(cert).value() : Certificate{};
}

struct TestPki {
  explicit TestPki(crypto::SignatureScheme key_scheme, std::string operator_subject = "icbc")
      : scheme(key_scheme),
        root_key(NewKey(key_scheme)),
        operator_key(NewKey(key_scheme)),
        operator_id(std::move(operator_subject)) {
    CertificateBody root_body;
    root_body.serial = 1;
    root_body.issuer_id = "pboc";
    root_body.subject_id = "pboc";
    root_body.role = CertificateRole::kRoot;
    root_body.scheme = scheme;
    root_body.public_key = RawKey(root_key);
    root_body.not_after_unix_s = kNotAfter;
    root = Parse(IssueCertificate(root_body, root_key));
    CertificateBody op;
    op.serial = 100;
    op.issuer_id = "pboc";
    op.subject_id = this->operator_id;
    op.role = CertificateRole::kOperator;
    op.scheme = scheme;
    op.public_key = RawKey(operator_key);
    op.not_after_unix_s = kNotAfter;
    operator_cert = Parse(IssueCertificate(op, root_key));
  }

  Certificate IssueDevice(const std::string& device_id, const Bytes& public_key,
                          std::uint64_t serial = 1000) const {
    return Parse(IssueCertificate(DeviceBody(device_id, operator_id, public_key, scheme, serial),
                                  operator_key));
  }
  Certificate IssueDevice(const CertificateBody& body) const {
    return Parse(IssueCertificate(body, operator_key));
  }

  CertificateChain Chain(const Certificate& device) const { return {device, operator_cert}; }

  crypto::SignatureScheme scheme;
  crypto::PrivateKey root_key;
  crypto::PrivateKey operator_key;
  std::string operator_id;
  Certificate root;
  Certificate operator_cert;
};

// Flips one bit of every byte of `encoded` in turn and expects `accepted` (parse + verify) to
// refuse every variant; `accepted` must accept the original.
template <typename Accepted>
void ExpectEveryByteChangeRefused(const Bytes& encoded, Accepted accepted) {
  ASSERT_TRUE(accepted(encoded)) << "the unchanged object must be accepted";
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    Bytes changed = encoded;
    changed[i] ^= 0x01;
    EXPECT_FALSE(accepted(changed)) << "byte " << i << " changed and still accepted";
  }
}

}  // namespace tapstack::dcep_wire::testing
