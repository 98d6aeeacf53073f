// PaymentApplet: one EMV contactless payment application per token, reached only through APDUs
// (EMV 4.x Book 3 section 6.5; EMV Contactless Book C-2 style flow; design notes section 13).
//
//   SELECT AID          -> 6F { 84 AID, A5 { 50 label, 87 priority, 9F38 PDOL } }
//   GPO  80 A8          -> 77 { 82 AIP, 94 AFL }         (PDOL data checked and kept)
//   READ RECORD 00 B2   -> SFI 1 rec 1: 70 { 57 track 2 equivalent, 5A token, 5F24, 5F34 }
//                          SFI 2 rec 1: 70 { 8C CDOL1, 9F08, 9F07 }
//   GENERATE AC 80 AE   -> 77 { 9F27 CID, 9F36 ATC, 9F26 AC, 9F10 IAD, 9F34 CVM results }
//   EXTERNAL AUTH 00 82 -> 9000 when the issuer's ARPC (tag 91) verifies, 6300 when not
//   GET DATA 80 CA 9F36 -> 9F36 ATC
//
// Tag 57 and 5A hold the payment token, never a PAN. The cryptogram follows the token's
// cryptogram profile ("mc-cvn20" is the one supported: Option A MK-AC, EMV common session key per
// ATC, Book 2 minimum data with the CDOL1 below, CVR from the M/Chip-style IAD, padding method 2,
// ARPC method 1 with the session key).
//
// Decisions at GENERATE AC (first and only GENERATE AC of a transaction; no CDOL2):
//   terminal asks for an AAC                           -> AAC, CID 00
//   no biometric verification armed (CdcvmGate)        -> AAC, CID 00 (decline offline)
//   HCE mode with no single-use key left               -> AAC, CID 01 (reason "service not
//                                                         allowed", Book 3 Table 15); ATC and AC
//                                                         are not advanced/computed: AC = 00 x 8
//   otherwise (TC or ARQC asked, CDCVM armed)          -> ARQC, CID 80 (the card never approves
//                                                         offline)
// Every GENERATE AC answered with a cryptogram uses a new ATC, committed to the device store
// before the response (device_store.h); in HCE mode the single-use key for that ATC is deleted in
// the same commit. CVM results 9F34: '01 00 02' when CDCVM was performed (Book C-2's "on device
// cardholder verification" value [uncertain]), '3F 00 00' (no CVM performed) otherwise.
//
// Status words: wrong class 6E00; unknown instruction 6D00; P1/P2 6A86; data length 6700;
// a GPO without template 83 6A80; out of sequence 6985; missing record 6A83; unknown GET DATA tag
// 6A88; ATC exhausted 6985; a failed persistent write 6581.
// Not thread-safe: the ApduHost's owner serialises calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/emv_cryptogram.h"
#include "device/apdu_host.h"
#include "device/applet.h"
#include "device/cdcvm_gate.h"
#include "device/device_store.h"
#include "emv/arqc_engine.h"
#include "emv/cryptogram_profile.h"
#include "emv/tag_values.h"

namespace tapstack::device {

// The Mastercard RID and the M/Chip PIX (EMV Contactless Book C-2; kernel id 02). A token's AID
// appends a two-byte token suffix (ISO/IEC 7816-5 allows a PIX of up to 11 bytes), so several
// tokens of one scheme can live on one device.
inline constexpr std::uint8_t kMastercardAidPrefix[] = {0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10};
inline constexpr std::string_view kSupportedProfile = "mc-cvn20";

// CID values (Book 3 section 6.5.5.4, Table 15).
inline constexpr std::uint8_t kCidAac = 0x00;
inline constexpr std::uint8_t kCidAacServiceNotAllowed = 0x01;
inline constexpr std::uint8_t kCidArqc = 0x80;

class PaymentApplet final : public Applet {
 public:
  // Errors (kInvalidArgument): a profile other than kSupportedProfile, credentials that fail
  // CheckTokenCredentials. `store` and `gate` must outlive the applet.
  static Result<std::unique_ptr<PaymentApplet>> Create(StoredToken token, DeviceStore& store,
                                                       CdcvmGate& gate);

  const std::string& token_id() const { return token_.credentials.token_id; }
  KeyMode mode() const { return token_.credentials.mode; }
  std::uint16_t atc() const { return token_.atc; }

  ByteView aid() const override { return aid_; }
  Bytes DirectoryEntry() const override;
  emv::ResponseApdu Select() override;
  void Deselect() override;
  emv::ResponseApdu Process(const emv::CommandApdu& command) override;

 private:
  enum class Phase : std::uint8_t { kIdle, kSelected, kOptionsGiven, kCryptogramGiven };

  PaymentApplet(StoredToken token, DeviceStore& store, CdcvmGate& gate,
                const emv::CryptogramProfile& profile);

  emv::ResponseApdu GetProcessingOptions(const emv::CommandApdu& command);
  emv::ResponseApdu ReadRecord(const emv::CommandApdu& command);
  emv::ResponseApdu GenerateAc(const emv::CommandApdu& command);
  emv::ResponseApdu ExternalAuthenticate(const emv::CommandApdu& command);
  emv::ResponseApdu GetData(const emv::CommandApdu& command);
  Bytes Record(std::uint8_t sfi, std::uint8_t record) const;

  StoredToken token_;
  DeviceStore& store_;
  CdcvmGate& gate_;
  emv::CryptogramProfile card_profile_;  // the token's profile with MK-AC held directly
  Bytes aid_;
  std::uint8_t priority_ = 1;

  // One transaction (from SELECT to the next SELECT).
  Phase phase_ = Phase::kIdle;
  emv::TagValues terminal_;  // PDOL and CDOL1 data received
  struct IssuedArqc {
    std::uint16_t atc = 0;
    crypto::ApplicationCryptogram arqc{};
    Bytes iad;
  };
  std::optional<IssuedArqc> issued_;  // master-key mode: for EXTERNAL AUTHENTICATE
  bool issuer_authenticated_ = false;
};

}  // namespace tapstack::device
