// TransitPurseApplet: one PBOC / JR/T 0025 electronic purse (T-Union profile) per transit card,
// reached only through APDUs (transit-purse.md sections 2-9; the shared APDU contract of issue #6).
//
//   SELECT A000000632010105   -> 6F { 84 AID, A5 { 9F0C SFI 15 public data } }; 6283 when blocked
//   READ BINARY 00 B0 80|SFI off          SFI 15 public data (30), SFI 17 management data (60)
//   READ RECORD 00 B2 rec (SFI<<3)|4      SFI 18 log (record 1 = newest), SFI 1A record 01 (48)
//   GET BALANCE 80 5C 00 02 04            -> balance (4), also on a blocked card
//   INITIALIZE FOR PURCHASE 80 50 01 02 / CAPP 80 50 03 02, key index | amount | terminal id
//                                         -> balance | ETC | overdraft (3) | key ver | alg | random
//   UPDATE CAPP DATA CACHE 80 DC 01 D0 30 + 48 bytes (after INITIALIZE FOR CAPP PURCHASE; staged)
//   DEBIT FOR PURCHASE 80 54 01 00 0F     seq (4) | date (4) | time (3) | MAC1 -> TAC | MAC2
//   GET TRANSACTION PROVE 80 5A 00 06|09 02, ETC -> MAC2 | TAC of the last completed purchase
//   INITIALIZE FOR LOAD 80 50 00 02       key index | amount | terminal id
//                                         -> balance | online counter | key ver | alg | random | MAC1
//   CREDIT FOR LOAD 80 52 00 00 0B        date | time | MAC2 -> TAC
//   GET CHALLENGE 00 84 00 00 08          -> 8 random bytes (for the next APPLICATION BLOCK)
//   APPLICATION BLOCK 84 1E 00 00 04      MAC over the header with the challenge -> blocks for good
//
// P2 01 (electronic deposit, ED) is also accepted by GET BALANCE and INITIALIZE FOR LOAD/PURCHASE:
// the card has one balance and the transaction type byte becomes 01 (load) / 05 (purchase)
// [uncertain: JR/T 0025 keeps ED and EP apart; the published load example uses type 01]. CAPP
// purchase is EP only.
//
// Atomicity: DEBIT (balance, ETC, log record, staged CAPP record, last-purchase proof), CREDIT
// (balance, online counter, log record) and APPLICATION BLOCK are committed to the DeviceStore in
// one transaction before the response; when that write fails the answer is 6581 and the applet's
// state is unchanged. The session (an INITIALIZE, a staged CAPP record, a GET CHALLENGE value) ends
// on SELECT, on Deselect, on any answer other than 9000, and after the debit or credit.
// The purse never asks for cardholder verification (express mode).
//
// Status words: 9401 insufficient balance; 9302 MAC error (MAC1, MAC2, secure messaging); 9303
// blocked (every purse command that could change or prove something: INITIALIZE, UPDATE CAPP,
// DEBIT, CREDIT, GET TRANSACTION PROVE, APPLICATION BLOCK; GET BALANCE still answers, since the
// operator reads the final balance of a card it blocked before refunding or migrating it); 6985 out of sequence, counter at 0xFFFF, load above the
// balance cap; 6700 wrong data length; 6A86 wrong P1/P2; 6A80 a date or time that is not BCD;
// 6A82 unknown file; 6A83 unknown record; 6A88 no such transaction; 9403 key index other than 01;
// 6D00 unknown INS; 6E00 wrong class; 6581 the persistent write failed; 6F00 no random available.
// Le is ignored. Not thread-safe: the secure element serialises calls.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/purse_crypto.h"
#include "crypto/secret_bytes.h"
#include "device/applet.h"
#include "device/device_store.h"
#include "device/transit_card_profile.h"

namespace tapstack::device {

// T-Union electronic purse AID (JT/T 978; transit-purse.md section 1).
inline constexpr std::uint8_t kTUnionAid[] = {0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05};
// The only purchase/load key index the card holds (DPK 01, DLK 01).
inline constexpr std::uint8_t kTransitKeyIndex = 0x01;
inline constexpr std::uint16_t kTransitCounterMax = 0xFFFF;
inline constexpr std::size_t kTransitPublicDataBytes = 30;      // SFI 15
inline constexpr std::size_t kTransitManagementDataBytes = 60;  // SFI 17
inline constexpr std::uint8_t kTransitSfiPublic = 0x15;
inline constexpr std::uint8_t kTransitSfiManagement = 0x17;
inline constexpr std::uint8_t kTransitSfiLog = 0x18;
inline constexpr std::uint8_t kTransitSfiCapp = 0x1A;

// Transaction type bytes (transit-purse.md section 2).
inline constexpr std::uint8_t kTransitTypeEdLoad = 0x01;
inline constexpr std::uint8_t kTransitTypeLoad = 0x02;
inline constexpr std::uint8_t kTransitTypeEdPurchase = 0x05;
inline constexpr std::uint8_t kTransitTypePurchase = 0x06;
inline constexpr std::uint8_t kTransitTypeCappPurchase = 0x09;

struct TransitAppletOptions {
  // Card randoms (INITIALIZE) and GET CHALLENGE. nullptr: crypto::Csprng. Tests inject a fixed
  // source to reproduce published vectors. Must outlive the applet.
  RandomSource* random = nullptr;
};

class TransitPurseApplet final : public Applet {
 public:
  // Errors (kInvalidArgument): a profile failing CheckTransitCardProfile, a malformed state (log
  // records, CAPP size), a balance above the cap. `store` must outlive the applet and hold the
  // card (DeviceStore::InsertTransitCard).
  static Result<std::unique_ptr<TransitPurseApplet>> Create(StoredTransitCard card,
                                                           DeviceStore& store,
                                                           TransitAppletOptions options = {});

  const std::string& card_id() const { return profile_.card_id; }
  // The committed state (what the store holds).
  const TransitCardState& state() const { return state_; }

  ByteView aid() const override { return kTUnionAid; }
  // Empty: gates select the purse directly; it is not listed in the PPSE.
  Bytes DirectoryEntry() const override { return {}; }
  emv::ResponseApdu Select() override;
  void Deselect() override;
  emv::ResponseApdu Process(const emv::CommandApdu& command) override;

 private:
  enum class Pending : std::uint8_t { kNone, kPurchase, kCappPurchase, kLoad };
  struct Session {
    Pending pending = Pending::kNone;
    std::uint8_t type = 0;
    std::uint32_t amount_fen = 0;
    std::array<std::uint8_t, 6> terminal_id{};
    std::array<std::uint8_t, 4> card_random{};
    std::uint16_t counter = 0;           // ETC or online counter at INITIALIZE
    crypto::SecretBytes load_session_key;  // kLoad only
    std::optional<Bytes> staged_capp;      // kCappPurchase only
  };

  TransitPurseApplet(StoredTransitCard card, DeviceStore& store, TransitAppletOptions options);

  emv::ResponseApdu Dispatch(const emv::CommandApdu& command);
  emv::ResponseApdu ReadBinary(const emv::CommandApdu& command) const;
  emv::ResponseApdu ReadRecord(const emv::CommandApdu& command) const;
  emv::ResponseApdu GetBalance(const emv::CommandApdu& command) const;
  emv::ResponseApdu Initialize(const emv::CommandApdu& command);
  emv::ResponseApdu UpdateCappDataCache(const emv::CommandApdu& command);
  emv::ResponseApdu Debit(const emv::CommandApdu& command);
  emv::ResponseApdu Credit(const emv::CommandApdu& command);
  emv::ResponseApdu GetTransactionProve(const emv::CommandApdu& command) const;
  emv::ResponseApdu GetChallenge(const emv::CommandApdu& command);
  emv::ResponseApdu ApplicationBlock(const emv::CommandApdu& command);
  // Writes `next` durably and then adopts it; false (state unchanged) when the store refused.
  bool Commit(TransitCardState next);
  Bytes PublicData() const;
  Bytes ManagementData() const;

  TransitCardProfile profile_;
  TransitCardState state_;
  DeviceStore& store_;
  RandomSource& random_;

  Session session_;
  std::optional<std::array<std::uint8_t, crypto::kPurseChallengeBytes>> challenge_;
};

}  // namespace tapstack::device
