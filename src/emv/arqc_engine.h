// ArqcEngine: computes and verifies application cryptograms (ARQC/TC/AAC) and builds ARPCs for
// one cryptogram profile (cryptogram_profile.h) under one issuer master key.
//
// Per call it derives the card's MK-AC from the IMK and the PAN/PSN, the session key from the
// ATC (and UN), assembles the cryptogram input (the profile's data DOL filled from the given tag
// sources, then the profile's part of the IAD) and runs crypto/emv_cryptogram.h. Cryptogram data
// is built strictly: a data object that is missing or has the wrong length is an error, never
// quietly zeros.
//
//   ArqcEngine engine = ArqcEngine::Create(*FindCryptogramProfile("mc-cvn20"), imk).value();
//   TagValues terminal = ...;  // 9F02 9F03 9F1A 95 5F2A 9A 9C
//   TagValues card = ...;      // 82, 9F10
//   ArqcInput in{.pan = pan, .psn = "00", .atc = 0x001C, .unpredictable_number = un,
//                .tags = TagSources{&terminal, &card}};
//   Result<crypto::ApplicationCryptogram> arqc = engine.GenerateArqc(in);
//
// Keys never leave the engine in clear (only key check values). Thread-safe: const methods only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/emv_cryptogram.h"
#include "crypto/secret_bytes.h"
#include "emv/cryptogram_profile.h"
#include "emv/dol.h"
#include "emv/tag_values.h"

namespace tapstack::emv {

struct ArqcInput {
  std::string_view pan;   // 12-19 digits (Luhn not checked: test PANs often fail it)
  std::string_view psn;   // two digits (5F34), or empty meaning 00
  std::uint16_t atc = 0;  // 9F36; overrides any 9F36 in `tags`
  // 9F37, 4 bytes; overrides any 9F37 in `tags`. Empty: 9F37 is taken from `tags`.
  ByteView unpredictable_number;
  // 9F10 as received. Empty: 9F10 is taken from `tags` (when the profile needs it).
  ByteView iad;
  // Terminal and card data objects, first source wins (9F02 9F03 9F1A 95 5F2A 9A 9C 82 ...).
  TagSources tags;
  // The data objects before the IAD part; empty means the profile's (Book 2 minimum). A card
  // whose cryptogram covers its whole CDOL1 data passes the CDOL1 entries followed by 82 02 and
  // 9F36 02 (see AcDataDolFromCdol1).
  std::span<const DolEntry> ac_data_dol;
};

// What the issuer sends back (Book 2 8.2).
struct ArpcInput {
  ByteView arc;                    // method 1: authorisation response code, 2 bytes (tag 8A)
  ByteView csu;                    // method 2: card status update, 4 bytes
  ByteView proprietary_auth_data;  // method 2: 0-8 bytes
};

struct ArpcResult {
  Bytes arpc;                        // 8 bytes (method 1) or 4 (method 2)
  Bytes issuer_authentication_data;  // the value of tag 91
};

// `cdol1` entries followed by 82 02 and 9F36 02, for cards whose cryptogram input is the whole
// CDOL1 data. Errors: as ParseDol on the result's size limits.
Result<std::vector<DolEntry>> AcDataDolFromCdol1(std::span<const DolEntry> cdol1);

class ArqcEngine {
 public:
  // Errors: the profile fails ValidateCryptogramProfile; `imk` has a wrong length for the
  // profile's cipher (kInvalidArgument).
  static Result<ArqcEngine> Create(const CryptogramProfile& profile, crypto::SecretBytes imk);

  const CryptogramProfile& profile() const { return profile_; }

  // The cryptogram input: the data DOL's values, then the profile's IAD part. Errors: a data
  // object missing (kNotFound) or of the wrong length, UN not 4 bytes, IAD too short for the
  // profile or longer than 32 bytes (kInvalidArgument).
  Result<Bytes> BuildAcData(const ArqcInput& input) const;

  // The 8-byte cryptogram (the same computation gives ARQC, TC and AAC). Errors: as BuildAcData
  // and the key derivations (bad PAN/PSN).
  Result<crypto::ApplicationCryptogram> GenerateArqc(const ArqcInput& input) const;

  // OK when `arqc` matches (constant-time); kCryptoFailure when not; other errors as Generate.
  Status VerifyArqc(const ArqcInput& input, ByteView arqc) const;

  // The ARPC for `arqc` per the profile's method and key, and the tag 91 value.
  // Errors: the profile has no ARPC method (kFailedPrecondition); ARC not 2 bytes (method 1),
  // CSU not 4 bytes or proprietary data above 8 bytes (method 2) (kInvalidArgument); key
  // derivation errors.
  Result<ArpcResult> GenerateArpc(const ArqcInput& input, ByteView arqc,
                                  const ArpcInput& response) const;

  // The card's check of tag 91 (`issuer_authentication_data`) for `arqc`: OK when it matches,
  // kCryptoFailure when not, kInvalidArgument when its length does not fit the method.
  Status VerifyArpc(const ArqcInput& input, ByteView arqc,
                    ByteView issuer_authentication_data) const;

  // Key check values (leftmost `length_bytes` of the encrypted zero block) of the card's MK-AC
  // and of the transaction's AC session key, for comparing with an HSM or a published vector.
  Result<Bytes> MasterKeyCheckValue(std::string_view pan, std::string_view psn,
                                    std::size_t length_bytes) const;
  Result<Bytes> SessionKeyCheckValue(const ArqcInput& input, std::size_t length_bytes) const;

 private:
  ArqcEngine(const CryptogramProfile& profile, crypto::SecretBytes imk)
      : profile_(profile), imk_(std::move(imk)) {}

  struct Keys {
    crypto::SecretBytes master;
    crypto::SecretBytes session;
  };
  Result<Keys> DeriveKeys(const ArqcInput& input) const;
  Result<ByteView> UnpredictableNumber(const ArqcInput& input) const;

  CryptogramProfile profile_;
  crypto::SecretBytes imk_;
};

}  // namespace tapstack::emv
