#include "device/payment_applet.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/hex.h"
#include "emv/contactless_commands.h"
#include "emv/dol.h"
#include "emv/tlv.h"

namespace tapstack::device {

namespace {

using emv::CommandApdu;
using emv::DolEntry;
using emv::ResponseApdu;

constexpr std::uint8_t kClaIso = 0x00;
constexpr std::uint8_t kClaProprietary = 0x80;
constexpr std::uint8_t kInsGpo = 0xA8;
constexpr std::uint8_t kInsReadRecord = 0xB2;
constexpr std::uint8_t kInsGenerateAc = 0xAE;
constexpr std::uint8_t kInsExternalAuthenticate = 0x82;
constexpr std::uint8_t kInsGetData = 0xCA;

constexpr std::string_view kLabel = "TAPSTACK";
// Application Version Number (9F08) and Application Usage Control (9F07, Book 3 Annex C2:
// valid for domestic and international goods, services, cash; at ATMs and other terminals).
constexpr std::array<std::uint8_t, 2> kAppVersion = {0x00, 0x02};
constexpr std::array<std::uint8_t, 2> kUsageControl = {0xFF, 0x00};
// AIP (Book 3 Annex C1 byte 1; Book C-2 for the contactless bits): 10 cardholder verification
// supported, 04 issuer authentication supported, 02 on-device cardholder verification supported;
// byte 2: 80 EMV mode supported.
constexpr std::array<std::uint8_t, 2> kAip = {0x16, 0x80};
// AFL (Book 3 10.2): SFI 1 record 1, SFI 2 record 1, none used for offline data authentication.
constexpr std::array<std::uint8_t, 8> kAfl = {0x08, 0x01, 0x01, 0x00, 0x10, 0x01, 0x01, 0x00};
// Track 2 equivalent (Book 3 Annex A, tag 57): service code 201 = international, IC, normal
// authorisation, no restrictions; then fixed discretionary data.
constexpr std::string_view kServiceCode = "201";
constexpr std::string_view kTrack2Discretionary = "0000000000";

// PDOL (9F38): what the card wants at GPO (TTQ and the transaction data).
constexpr std::array kPdol = {
    DolEntry{0x9F66, 4}, DolEntry{0x9F02, 6}, DolEntry{0x9F03, 6},
    DolEntry{0x9F1A, 2}, DolEntry{0x95, 5},   DolEntry{0x5F2A, 2},
    DolEntry{0x9A, 3},   DolEntry{0x9C, 1},   DolEntry{0x9F37, 4},
};
// CDOL1 (8C): exactly the terminal part of the Book 2 minimum cryptogram data (29 bytes), so the
// cryptogram input is CDOL1 data || AIP || ATC || CVR (cryptogram_profile.h Book2AcDataDol).
constexpr std::array kCdol1 = {
    DolEntry{0x9F02, 6}, DolEntry{0x9F03, 6}, DolEntry{0x9F1A, 2}, DolEntry{0x95, 5},
    DolEntry{0x5F2A, 2}, DolEntry{0x9A, 3},   DolEntry{0x9C, 1},   DolEntry{0x9F37, 4},
};

// CVM Results (9F34, Book 4 Annex A4): CVM code, condition, result.
constexpr std::array<std::uint8_t, 3> kCvmResultsCdcvm = {0x01, 0x00, 0x02};
constexpr std::array<std::uint8_t, 3> kCvmResultsNone = {0x3F, 0x00, 0x00};

// M/Chip-style IAD for CVN 20 (pyemv cvn.py; cryptogram_profile.h): KDI || CVN 14 || CVR(6) ||
// DAC/IDN(2) || counters(8). CVR byte 1 (M/Chip): bits 8-7 AC in second GENERATE AC (10 = not
// requested), bits 6-5 AC in first GENERATE AC (00 AAC, 10 ARQC). CVR byte 4 bit 1 is tapstack's
// own "CDCVM performed" flag [uncertain: M/Chip codes CDCVM elsewhere].
constexpr std::uint8_t kKeyDerivationIndex = 0x01;
constexpr std::uint8_t kCvn20 = 0x14;
constexpr std::size_t kIadBytes = 18;

ResponseApdu Sw(emv::StatusWord sw) { return ResponseApdu{{}, sw}; }
ResponseApdu Ok(Bytes data) { return ResponseApdu{std::move(data), emv::kSwSuccess}; }

Bytes Tlv(emv::TlvTag tag, ByteView value) {
  Bytes out;
  (void)emv::AppendTlv(out, tag, value);  // values here are far below the TLV limits
  return out;
}

void Append(Bytes& out, emv::TlvTag tag, ByteView value) { (void)emv::AppendTlv(out, tag, value); }

Bytes Iad(bool arqc, bool cdcvm) {
  Bytes iad(kIadBytes, 0x00);
  iad[0] = kKeyDerivationIndex;
  iad[1] = kCvn20;
  iad[2] = static_cast<std::uint8_t>(0x80 | (arqc ? 0x20 : 0x00));
  iad[5] = cdcvm ? 0x01 : 0x00;
  return iad;
}

int DaysInMonth(int yy, int mm) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mm == 2 && yy % 4 == 0) return 29;  // 2000-2099
  return kDays[static_cast<std::size_t>(mm - 1)];
}

}  // namespace

Result<std::unique_ptr<PaymentApplet>> PaymentApplet::Create(StoredToken token, DeviceStore& store,
                                                             CdcvmGate& gate) {
  const TokenCredentials& c = token.credentials;
  if (c.profile_name != kSupportedProfile) {
    return InvalidArgument("payment applet: profile " + c.profile_name +
                           " is not supported (only " + std::string(kSupportedProfile) + ")");
  }
  const emv::CryptogramProfile* profile = emv::FindCryptogramProfile(c.profile_name);
  if (profile == nullptr) return InvalidArgument("payment applet: unknown profile");
  if (c.mode == KeyMode::kMasterKey && c.icc_master_key.size() != kCardKeyBytes) {
    return InvalidArgument("payment applet: master-key mode needs a 16-byte MK-AC");
  }
  if (c.mode != KeyMode::kMasterKey && c.mode != KeyMode::kLimitedUse) {
    return InvalidArgument("payment applet: unknown key mode");
  }
  if (!IsAllDigits(c.token_number) || c.token_number.size() < 13 || c.token_number.size() > 19 ||
      c.expiry_yymm.size() != 4 || !IsAllDigits(c.expiry_yymm) || c.psn.size() != 2 ||
      !IsAllDigits(c.psn)) {
    return InvalidArgument("payment applet: malformed token number, expiry or PSN");
  }
  return std::unique_ptr<PaymentApplet>(new PaymentApplet(std::move(token), store, gate, *profile));
}

PaymentApplet::PaymentApplet(StoredToken token, DeviceStore& store, CdcvmGate& gate,
                             const emv::CryptogramProfile& profile)
    : token_(std::move(token)), store_(store), gate_(gate), card_profile_(profile) {
  // The card holds its MK-AC (or, in HCE mode, the session key itself): no derivation from an
  // IMK on the device.
  card_profile_.master_key_derivation = emv::MasterKeyDerivation::kNone;
  if (token_.credentials.mode == KeyMode::kLimitedUse) {
    card_profile_.session_key_derivation = emv::SessionKeyDerivation::kNone;
  }
  aid_.assign(std::begin(kMastercardAidPrefix), std::end(kMastercardAidPrefix));
  const Bytes suffix = UintToBytes(static_cast<std::uint64_t>(token_.install_order) & 0xFFFF, 2);
  aid_.insert(aid_.end(), suffix.begin(), suffix.end());
  // 87: bits 4-1 priority 1 (highest) to 15 (Book 1 12.2.3); first installed token first.
  priority_ = static_cast<std::uint8_t>(std::min<std::int64_t>(token_.install_order, 15));
  if (priority_ == 0) priority_ = 1;
}

Bytes PaymentApplet::DirectoryEntry() const {
  Bytes entry;
  Append(entry, 0x4F, aid_);
  Append(entry, 0x50, AsBytes(kLabel));
  Append(entry, 0x87, ByteView(&priority_, 1));
  const std::uint8_t kernel_id = 0x02;  // Mastercard (Book B 3.3.2)
  Append(entry, 0x9F2A, ByteView(&kernel_id, 1));
  return entry;
}

ResponseApdu PaymentApplet::Select() {
  Deselect();
  phase_ = Phase::kSelected;
  Result<Bytes> pdol = emv::EncodeDol(kPdol);
  Bytes proprietary;
  Append(proprietary, 0x50, AsBytes(kLabel));
  Append(proprietary, 0x87, ByteView(&priority_, 1));
  Append(proprietary, 0x9F38, pdol.ok() ? ByteView(*pdol) : ByteView());
  Bytes body;
  Append(body, 0x84, aid_);
  Append(body, 0xA5, proprietary);
  return Ok(Tlv(0x6F, body));
}

void PaymentApplet::Deselect() {
  phase_ = Phase::kIdle;
  terminal_ = emv::TagValues();
  issued_.reset();
  issuer_authenticated_ = false;
}

ResponseApdu PaymentApplet::Process(const CommandApdu& command) {
  switch (command.ins) {
    case kInsGpo:
      if (command.cla != kClaProprietary) return Sw(emv::kSwClaNotSupported);
      return GetProcessingOptions(command);
    case kInsReadRecord:
      if (command.cla != kClaIso) return Sw(emv::kSwClaNotSupported);
      return ReadRecord(command);
    case kInsGenerateAc:
      if (command.cla != kClaProprietary) return Sw(emv::kSwClaNotSupported);
      return GenerateAc(command);
    case kInsExternalAuthenticate:
      if (command.cla != kClaIso) return Sw(emv::kSwClaNotSupported);
      return ExternalAuthenticate(command);
    case kInsGetData:
      if (command.cla != kClaProprietary) return Sw(emv::kSwClaNotSupported);
      return GetData(command);
    default:
      return Sw(emv::kSwInsNotSupported);
  }
}

// Book 3 6.5.8: data = 83 L <PDOL data>.
ResponseApdu PaymentApplet::GetProcessingOptions(const CommandApdu& command) {
  if (command.p1 != 0x00 || command.p2 != 0x00) return Sw(emv::kSwIncorrectP1P2);
  if (phase_ != Phase::kSelected) return Sw(emv::kSwConditionsNotSatisfied);
  emv::TlvDecodeOptions options;
  options.allow_padding = false;
  Result<emv::TlvTree> tree = emv::DecodeTlv(command.data, options);
  if (!tree.ok() || tree->empty() || tree->nodes()[0].tag != 0x83 ||
      tree->nodes()[0].next_sibling != emv::kTlvNoNode) {
    return Sw(emv::kSwWrongData);
  }
  Result<emv::TagValues> pdol_data = emv::ParseDolData(kPdol, tree->nodes()[0].value);
  if (!pdol_data.ok()) return Sw(emv::kSwWrongLength);
  terminal_ = std::move(pdol_data).value();
  phase_ = Phase::kOptionsGiven;
  Bytes body;
  Append(body, 0x82, kAip);
  Append(body, 0x94, kAfl);
  return Ok(Tlv(0x77, body));
}

Bytes PaymentApplet::Record(std::uint8_t sfi, std::uint8_t record) const {
  if (record != 1) return {};
  const TokenCredentials& c = token_.credentials;
  Bytes body;
  if (sfi == 1) {
    std::string track2 = c.token_number + "D" + c.expiry_yymm + std::string(kServiceCode) +
                         std::string(kTrack2Discretionary);
    if (track2.size() % 2 != 0) track2 += "F";
    Result<Bytes> t2 = HexDecode(track2);
    std::string pan_digits = c.token_number;
    if (pan_digits.size() % 2 != 0) pan_digits += "F";  // cn: right-padded with F
    Result<Bytes> pan = HexDecode(pan_digits);
    const int yy = std::stoi(c.expiry_yymm.substr(0, 2));
    const int mm = std::stoi(c.expiry_yymm.substr(2, 2));
    Result<Bytes> expiry = BcdEncode(c.expiry_yymm + std::to_string(DaysInMonth(yy, mm)));
    Result<Bytes> psn = BcdEncode(c.psn);
    if (!t2.ok() || !pan.ok() || !expiry.ok() || !psn.ok()) return {};
    Append(body, 0x57, *t2);
    Append(body, 0x5A, *pan);
    Append(body, 0x5F24, *expiry);
    Append(body, 0x5F34, *psn);
    return Tlv(0x70, body);
  }
  if (sfi == 2) {
    Result<Bytes> cdol1 = emv::EncodeDol(kCdol1);
    if (!cdol1.ok()) return {};
    Append(body, 0x8C, *cdol1);
    Append(body, 0x9F08, kAppVersion);
    Append(body, 0x9F07, kUsageControl);
    return Tlv(0x70, body);
  }
  return {};
}

// Book 3 6.5.11: P1 record number, P2 = SFI << 3 | 100.
ResponseApdu PaymentApplet::ReadRecord(const CommandApdu& command) {
  if ((command.p2 & 0x07) != 0x04 || command.p1 == 0) return Sw(emv::kSwIncorrectP1P2);
  if (!command.data.empty()) return Sw(emv::kSwWrongLength);
  if (phase_ == Phase::kIdle) return Sw(emv::kSwConditionsNotSatisfied);
  Bytes record = Record(static_cast<std::uint8_t>(command.p2 >> 3), command.p1);
  if (record.empty()) return Sw(emv::kSwRecordNotFound);
  return Ok(std::move(record));
}

// Book 3 6.5.5.
ResponseApdu PaymentApplet::GenerateAc(const CommandApdu& command) {
  const std::uint8_t requested = command.p1 & 0xC0;
  if (requested == 0xC0 || (command.p1 & 0x2F) != 0 || command.p2 != 0x00) {
    return Sw(emv::kSwIncorrectP1P2);
  }
  if (phase_ != Phase::kOptionsGiven) return Sw(emv::kSwConditionsNotSatisfied);
  if (command.data.size() != emv::DolDataLength(kCdol1)) return Sw(emv::kSwWrongLength);
  Result<emv::TagValues> cdol_data = emv::ParseDolData(kCdol1, command.data);
  if (!cdol_data.ok()) return Sw(emv::kSwWrongLength);
  for (const emv::TagValues::Entry& e : cdol_data->entries()) {
    if (!terminal_.Set(e.tag, e.value).ok()) return Sw(emv::kSwWrongData);
  }
  phase_ = Phase::kCryptogramGiven;

  // CDCVM is consumed by any GENERATE AC: one verification, one attempt.
  const bool cdcvm = gate_.Consume();
  const bool arqc = requested != 0x00 && cdcvm;
  const std::uint8_t cid = arqc ? kCidArqc : kCidAac;

  crypto::SecretBytes key;
  std::uint16_t atc = 0;
  if (token_.credentials.mode == KeyMode::kMasterKey) {
    Result<std::uint16_t> next = store_.NextAtc(token_.credentials.token_id, token_.atc);
    if (!next.ok()) {
      return Sw(next.status().code() == ErrorCode::kOutOfRange ? emv::kSwConditionsNotSatisfied
                                                               : kSwMemoryFailure);
    }
    atc = *next;
    key = token_.credentials.icc_master_key.Clone();
  } else {
    Result<std::optional<LimitedUseKey>> taken =
        store_.TakeLimitedUseKey(token_.credentials.token_id);
    if (!taken.ok()) return Sw(kSwMemoryFailure);
    if (!taken->has_value()) {
      // No key, no cryptogram: decline offline with the reason code and a zero AC.
      Bytes body;
      Append(body, 0x9F27, ByteView(&kCidAacServiceNotAllowed, 1));
      Append(body, 0x9F36, UintToBytes(token_.atc, 2));
      Append(body, 0x9F26, Bytes(crypto::kApplicationCryptogramBytes, 0x00));
      Append(body, 0x9F10, Iad(false, cdcvm));
      Append(body, 0x9F34, cdcvm ? ByteView(kCvmResultsCdcvm) : ByteView(kCvmResultsNone));
      return Ok(Tlv(0x77, body));
    }
    atc = (*taken)->atc;
    key = std::move((*taken)->session_key);
  }
  token_.atc = atc;  // on disk already

  const Bytes iad = Iad(arqc, cdcvm);
  emv::TagValues card;
  (void)card.Set(0x82, kAip);
  Result<emv::ArqcEngine> engine = emv::ArqcEngine::Create(card_profile_, std::move(key));
  if (!engine.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  emv::ArqcInput in;
  in.pan = token_.credentials.token_number;
  in.psn = token_.credentials.psn;
  in.atc = atc;
  in.iad = iad;
  in.tags = emv::TagSources{&terminal_, &card};
  Result<crypto::ApplicationCryptogram> ac = engine->GenerateArqc(in);
  if (!ac.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  if (arqc && token_.credentials.mode == KeyMode::kMasterKey) {
    issued_ = IssuedArqc{atc, *ac, iad};
  }

  Bytes body;
  Append(body, 0x9F27, ByteView(&cid, 1));
  Append(body, 0x9F36, UintToBytes(atc, 2));
  Append(body, 0x9F26, *ac);
  Append(body, 0x9F10, iad);
  Append(body, 0x9F34, cdcvm ? ByteView(kCvmResultsCdcvm) : ByteView(kCvmResultsNone));
  return Ok(Tlv(0x77, body));
}

// Book 3 6.5.4: 00 82 00 00 Lc <issuer authentication data (tag 91 value)>; 6300 on failure.
ResponseApdu PaymentApplet::ExternalAuthenticate(const CommandApdu& command) {
  if (command.p1 != 0x00 || command.p2 != 0x00) return Sw(emv::kSwIncorrectP1P2);
  if (command.data.size() < 8 || command.data.size() > 16) return Sw(emv::kSwWrongLength);
  if (!issued_.has_value() || issuer_authenticated_) return Sw(emv::kSwConditionsNotSatisfied);
  issuer_authenticated_ = true;  // one attempt per transaction
  emv::TagValues card;
  (void)card.Set(0x82, kAip);
  Result<emv::ArqcEngine> engine =
      emv::ArqcEngine::Create(card_profile_, token_.credentials.icc_master_key.Clone());
  if (!engine.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  emv::ArqcInput in;
  in.pan = token_.credentials.token_number;
  in.psn = token_.credentials.psn;
  in.atc = issued_->atc;
  in.iad = issued_->iad;
  in.tags = emv::TagSources{&terminal_, &card};
  const Status verified = engine->VerifyArpc(in, issued_->arqc, command.data);
  if (verified.ok()) return Sw(emv::kSwSuccess);
  if (verified.code() == ErrorCode::kCryptoFailure) return Sw(emv::kSwVerificationFailed);
  return Sw(emv::kSwWrongLength);
}

// Book 3 6.5.7: 80 CA P1 P2 with the tag in P1 P2. Only the ATC is readable.
ResponseApdu PaymentApplet::GetData(const CommandApdu& command) {
  if (command.p1 != 0x9F || command.p2 != 0x36) return Sw(emv::kSwReferencedDataNotFound);
  if (!command.data.empty()) return Sw(emv::kSwWrongLength);
  return Ok(Tlv(0x9F36, UintToBytes(token_.atc, 2)));
}

}  // namespace tapstack::device
