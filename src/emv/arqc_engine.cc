#include "emv/arqc_engine.h"

#include <string>
#include <utility>

#include "crypto/emv_key_derivation.h"
#include "crypto/kcv.h"
#include "crypto/mac.h"
#include "emv/card_keys.h"
#include "emv/contactless_commands.h"

namespace tapstack::emv {

namespace {

constexpr TlvTag kTagAip = 0x82;
constexpr TlvTag kTagAtc = 0x9F36;
constexpr TlvTag kTagUnpredictableNumber = 0x9F37;
constexpr TlvTag kTagIad = 0x9F10;
constexpr std::size_t kAtcBytes = 2;

crypto::CryptogramOptions OptionsOf(const CryptogramProfile& profile) {
  crypto::CryptogramOptions options;
  options.padding = profile.padding;
  options.sm4_mac = profile.sm4_mac;
  return options;
}

Status NoArpc(const CryptogramProfile& profile) {
  return FailedPrecondition("profile " + std::string(profile.name) + " has no ARPC method");
}

}  // namespace

Result<std::vector<DolEntry>> AcDataDolFromCdol1(std::span<const DolEntry> cdol1) {
  std::vector<DolEntry> dol(cdol1.begin(), cdol1.end());
  dol.push_back(DolEntry{kTagAip, 2});
  dol.push_back(DolEntry{kTagAtc, static_cast<std::uint16_t>(kAtcBytes)});
  if (dol.size() > kDolEntriesMax || DolDataLength(dol) > kDolDataBytesMax) {
    return OutOfRange("ac data dol: CDOL1 plus AIP and ATC exceeds " +
                      std::to_string(kDolEntriesMax) + " entries or " +
                      std::to_string(kDolDataBytesMax) + " bytes");
  }
  return dol;
}

Result<ArqcEngine> ArqcEngine::Create(const CryptogramProfile& profile, crypto::SecretBytes imk) {
  TS_RETURN_IF_ERROR(ValidateCryptogramProfile(profile));
  Status key_length = crypto::CheckKeyLength(profile.cipher, imk.size());
  if (!key_length.ok()) return key_length.WithContext("imk");
  return ArqcEngine(profile, std::move(imk));
}

Result<ByteView> ArqcEngine::UnpredictableNumber(const ArqcInput& input) const {
  ByteView un = input.unpredictable_number;
  if (un.empty()) {
    if (std::optional<ByteView> from_tags = input.tags.Find(kTagUnpredictableNumber))
      un = *from_tags;
  }
  if (!un.empty() && un.size() != crypto::kUnpredictableNumberBytes) {
    return InvalidArgument("unpredictable number (9F37): expected 4 bytes, got " +
                           std::to_string(un.size()));
  }
  if (un.empty() && profile_.session_key_derivation == SessionKeyDerivation::kMastercardSkd) {
    return InvalidArgument("unpredictable number (9F37): profile " + std::string(profile_.name) +
                           " derives its session key from it, and it is missing");
  }
  return un;
}

Result<Bytes> ArqcEngine::BuildAcData(const ArqcInput& input) const {
  if (input.tags.size() >= kTagSourcesMax) {
    return InvalidArgument("ac data: at most " + std::to_string(kTagSourcesMax - 1) +
                           " tag sources");
  }
  TS_ASSIGN_OR_RETURN(const ByteView un, UnpredictableNumber(input));
  // The explicit ATC and UN win over anything in the caller's sources.
  TagValues explicit_values;
  const std::uint8_t atc[kAtcBytes] = {static_cast<std::uint8_t>(input.atc >> 8),
                                       static_cast<std::uint8_t>(input.atc)};
  TS_RETURN_IF_ERROR(explicit_values.Set(kTagAtc, ByteView(atc, kAtcBytes)));
  if (!un.empty()) TS_RETURN_IF_ERROR(explicit_values.Set(kTagUnpredictableNumber, un));
  TagSources sources = input.tags;
  sources.AddFirst(explicit_values);

  const std::span<const DolEntry> dol =
      input.ac_data_dol.empty() ? profile_.ac_data_dol : input.ac_data_dol;
  Bytes data;
  data.reserve(DolDataLength(dol) + kIssuerApplicationDataBytesMax);
  DolBuildOptions strict;
  strict.strict = true;
  Status built = AppendDolData(dol, sources, data, strict);
  if (!built.ok()) return built.WithContext("ac data");

  ByteView iad = input.iad;
  if (iad.empty()) {
    if (std::optional<ByteView> from_tags = input.tags.Find(kTagIad)) iad = *from_tags;
  }
  TS_RETURN_IF_ERROR(AppendIadData(profile_, iad, data));
  return data;
}

Result<ArqcEngine::Keys> ArqcEngine::DeriveKeys(const ArqcInput& input) const {
  TS_ASSIGN_OR_RETURN(const ByteView un, UnpredictableNumber(input));
  TS_ASSIGN_OR_RETURN(crypto::SecretBytes master,
                      DeriveCardMasterKey(profile_, imk_, input.pan, input.psn));
  TS_ASSIGN_OR_RETURN(crypto::SecretBytes session,
                      DeriveCardSessionKey(profile_, master, input.atc, un));
  return Keys{std::move(master), std::move(session)};
}

Result<crypto::ApplicationCryptogram> ArqcEngine::GenerateArqc(const ArqcInput& input) const {
  TS_ASSIGN_OR_RETURN(const Bytes data, BuildAcData(input));
  TS_ASSIGN_OR_RETURN(const Keys keys, DeriveKeys(input));
  return crypto::GenerateApplicationCryptogram(profile_.cipher, keys.session, data,
                                               OptionsOf(profile_));
}

Status ArqcEngine::VerifyArqc(const ArqcInput& input, ByteView arqc) const {
  TS_ASSIGN_OR_RETURN(const Bytes data, BuildAcData(input));
  TS_ASSIGN_OR_RETURN(const Keys keys, DeriveKeys(input));
  return crypto::VerifyApplicationCryptogram(profile_.cipher, keys.session, data, arqc,
                                             OptionsOf(profile_));
}

Result<ArpcResult> ArqcEngine::GenerateArpc(const ArqcInput& input, ByteView arqc,
                                            const ArpcInput& response) const {
  if (profile_.arpc_method == ArpcMethod::kNone) return NoArpc(profile_);
  TS_ASSIGN_OR_RETURN(const Keys keys, DeriveKeys(input));
  const crypto::SecretBytes& key =
      profile_.arpc_key == ArpcKey::kMasterKey ? keys.master : keys.session;
  ArpcResult out;
  if (profile_.arpc_method == ArpcMethod::kMethod1) {
    if (!response.csu.empty() || !response.proprietary_auth_data.empty()) {
      return InvalidArgument("arpc: profile " + std::string(profile_.name) +
                             " uses method 1 (ARC), not a CSU");
    }
    Result<Bytes> arpc = crypto::GenerateArpcMethod1(key, arqc, response.arc);
    if (!arpc.ok()) return arpc.status().WithContext("arpc");
    out.arpc = std::move(arpc).value();
    out.issuer_authentication_data = Concat({out.arpc, response.arc});
  } else {
    if (!response.arc.empty()) {
      return InvalidArgument("arpc: profile " + std::string(profile_.name) +
                             " uses method 2 (CSU), not an ARC");
    }
    Result<Bytes> arpc =
        crypto::GenerateArpcMethod2(key, arqc, response.csu, response.proprietary_auth_data);
    if (!arpc.ok()) return arpc.status().WithContext("arpc");
    out.arpc = std::move(arpc).value();
    out.issuer_authentication_data =
        Concat({out.arpc, response.csu, response.proprietary_auth_data});
  }
  return out;
}

Status ArqcEngine::VerifyArpc(const ArqcInput& input, ByteView arqc,
                              ByteView issuer_authentication_data) const {
  if (profile_.arpc_method == ArpcMethod::kNone) return NoArpc(profile_);
  const ByteView data = issuer_authentication_data;
  if (profile_.arpc_method == ArpcMethod::kMethod1) {
    if (data.size() != crypto::kArpcMethod1Bytes + crypto::kArcBytes) {
      return InvalidArgument("issuer authentication data: method 1 needs 10 bytes, got " +
                             std::to_string(data.size()));
    }
  } else if (data.size() < crypto::kArpcMethod2Bytes + crypto::kCsuBytes ||
             data.size() > crypto::kArpcMethod2Bytes + crypto::kCsuBytes +
                               crypto::kProprietaryAuthDataBytesMax) {
    return InvalidArgument("issuer authentication data: method 2 needs 8-16 bytes, got " +
                           std::to_string(data.size()));
  }
  TS_ASSIGN_OR_RETURN(const Keys keys, DeriveKeys(input));
  const crypto::SecretBytes& key =
      profile_.arpc_key == ArpcKey::kMasterKey ? keys.master : keys.session;
  if (profile_.arpc_method == ArpcMethod::kMethod1) {
    return crypto::VerifyArpcMethod1(key, arqc, data.subspan(crypto::kArpcMethod1Bytes),
                                     data.first(crypto::kArpcMethod1Bytes));
  }
  return crypto::VerifyArpcMethod2(key, arqc,
                                   data.subspan(crypto::kArpcMethod2Bytes, crypto::kCsuBytes),
                                   data.subspan(crypto::kArpcMethod2Bytes + crypto::kCsuBytes),
                                   data.first(crypto::kArpcMethod2Bytes));
}

Result<Bytes> ArqcEngine::MasterKeyCheckValue(std::string_view pan, std::string_view psn,
                                              std::size_t length_bytes) const {
  TS_ASSIGN_OR_RETURN(const crypto::SecretBytes master,
                      DeriveCardMasterKey(profile_, imk_, pan, psn));
  return crypto::KeyCheckValue(profile_.cipher, master, length_bytes);
}

Result<Bytes> ArqcEngine::SessionKeyCheckValue(const ArqcInput& input,
                                               std::size_t length_bytes) const {
  TS_ASSIGN_OR_RETURN(const Keys keys, DeriveKeys(input));
  return crypto::KeyCheckValue(profile_.cipher, keys.session, length_bytes);
}

}  // namespace tapstack::emv
