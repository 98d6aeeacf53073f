#include "device/transit_applet.h"

#include <algorithm>
#include <utility>

#include "core/hex.h"
#include "crypto/csprng.h"
#include "device/apdu_host.h"
#include "emv/tlv.h"

namespace tapstack::device {

namespace {

using emv::CommandApdu;
using emv::ResponseApdu;

constexpr std::uint8_t kClaIso = 0x00;
constexpr std::uint8_t kClaProprietary = 0x80;
constexpr std::uint8_t kClaSecureMessaging = 0x84;

constexpr std::uint8_t kInsReadBinary = 0xB0;
constexpr std::uint8_t kInsReadRecord = 0xB2;
constexpr std::uint8_t kInsGetChallenge = 0x84;
constexpr std::uint8_t kInsGetBalance = 0x5C;
constexpr std::uint8_t kInsInitialize = 0x50;
constexpr std::uint8_t kInsUpdateCapp = 0xDC;
constexpr std::uint8_t kInsDebit = 0x54;
constexpr std::uint8_t kInsCredit = 0x52;
constexpr std::uint8_t kInsGetTransactionProve = 0x5A;
constexpr std::uint8_t kInsApplicationBlock = 0x1E;

// INITIALIZE P1 (JR/T 0025 EP commands; transit-purse.md section 4) and P2 (02 EP, 01 ED).
constexpr std::uint8_t kP1Load = 0x00;
constexpr std::uint8_t kP1Purchase = 0x01;
constexpr std::uint8_t kP1CappPurchase = 0x03;
constexpr std::uint8_t kP2Ed = 0x01;
constexpr std::uint8_t kP2Ep = 0x02;
// UPDATE CAPP DATA CACHE: P1 record 01, P2 = SFI 1A << 3 (shared contract).
constexpr std::uint8_t kCappRecordId = 0x01;
constexpr std::uint8_t kP2UpdateCapp = kTransitSfiCapp << 3;

constexpr std::size_t kInitializeDataBytes = 11;  // key index (1) | amount (4) | terminal id (6)
constexpr std::size_t kDebitDataBytes = 15;       // seq (4) | date (4) | time (3) | MAC1 (4)
constexpr std::size_t kCreditDataBytes = 11;      // date (4) | time (3) | MAC2 (4)
constexpr std::size_t kProveDataBytes = 2;        // ETC
constexpr std::size_t kAmountBytes = 4;
constexpr std::size_t kCounterBytes = 2;
constexpr std::size_t kTerminalIdBytes = 6;
constexpr std::size_t kTerminalSeqBytes = 4;
constexpr std::size_t kDateBytes = 4;
constexpr std::size_t kTimeBytes = 3;
// The card holds no overdraft: the 3-byte overdraft limit is always 0.
constexpr std::uint32_t kOverdraftLimitFen = 0;
constexpr std::size_t kOverdraftBytes = 3;

// SFI 15 application type and version (transit-purse.md section 2, metrodroid/nfcard layouts [S]).
constexpr std::uint8_t kApplicationType = 0x02;
constexpr std::uint8_t kApplicationVersion = 0x01;
// SFI 17: country 0156 (China, ISO 3166 numeric in BCD), interoperability flag 0001 (T-Union).
constexpr std::uint8_t kCountryCode[] = {0x01, 0x56};
constexpr std::uint8_t kInteropFlag[] = {0x00, 0x01};

ResponseApdu Sw(emv::StatusWord sw) { return ResponseApdu{{}, sw}; }
ResponseApdu Ok(Bytes data) { return ResponseApdu{std::move(data), emv::kSwSuccess}; }

bool AllBcd(ByteView bytes) {
  return std::all_of(bytes.begin(), bytes.end(),
                     [](std::uint8_t b) { return (b >> 4) <= 9 && (b & 0x0F) <= 9; });
}

bool SameMac(ByteView a, ByteView b) {
  // Constant time (CRYPTO_memcmp): a MAC check must not leak how many bytes matched.
  return crypto::SecretBytes(a).EqualsConstantTime(crypto::SecretBytes(b));
}

void Append(Bytes& out, ByteView part) { out.insert(out.end(), part.begin(), part.end()); }

RandomSource& DefaultRandom() {
  static crypto::Csprng csprng;
  return csprng;
}

}  // namespace

Result<std::unique_ptr<TransitPurseApplet>> TransitPurseApplet::Create(
    StoredTransitCard card, DeviceStore& store, TransitAppletOptions options) {
  TS_RETURN_IF_ERROR(CheckTransitCardProfile(card.profile));
  const TransitCardState& s = card.state;
  if (s.log.size() > kTransitLogRecordsMax ||
      std::any_of(s.log.begin(), s.log.end(),
                  [](const Bytes& r) { return r.size() != kTransitLogRecordBytes; })) {
    return InvalidArgument("transit applet: log must hold at most 10 records of 23 bytes");
  }
  if (s.capp_record.size() != kTransitCappRecordBytes) {
    return InvalidArgument("transit applet: CAPP record must be 48 bytes");
  }
  if (s.balance_fen > card.profile.balance_cap_fen) {
    return InvalidArgument("transit applet: balance above the card's cap");
  }
  return std::unique_ptr<TransitPurseApplet>(
      new TransitPurseApplet(std::move(card), store, options));
}

TransitPurseApplet::TransitPurseApplet(StoredTransitCard card, DeviceStore& store,
                                       TransitAppletOptions options)
    : profile_(std::move(card.profile)),
      state_(std::move(card.state)),
      store_(store),
      random_(options.random != nullptr ? *options.random : DefaultRandom()) {}

Bytes TransitPurseApplet::PublicData() const {
  Bytes out;
  Append(out, profile_.issuer_id);
  out.push_back(kApplicationType);
  out.push_back(kApplicationVersion);
  Append(out, profile_.serial);
  Append(out, TransitDateBcd(profile_.start_date));
  Append(out, TransitDateBcd(profile_.expiry_date));
  out.resize(kTransitPublicDataBytes, 0x00);  // 2 bytes RFU
  return out;
}

Bytes TransitPurseApplet::ManagementData() const {
  Bytes out;
  Append(out, kCountryCode);
  out.insert(out.end(), 2, 0x00);  // RFU
  Append(out, UintToBytes(profile_.province_code, 2));
  Append(out, UintToBytes(profile_.city_code, 2));
  Append(out, kInteropFlag);
  out.push_back(profile_.card_type);
  out.resize(kTransitManagementDataBytes, 0x00);
  return out;
}

ResponseApdu TransitPurseApplet::Select() {
  Deselect();
  // PBOC FCI: 6F { 84 DF name, A5 { 9F0C issuer discretionary data = the SFI 15 contents } }.
  Bytes proprietary;
  (void)emv::AppendTlv(proprietary, 0x9F0C, PublicData());
  Bytes body;
  (void)emv::AppendTlv(body, 0x84, kTUnionAid);
  (void)emv::AppendTlv(body, 0xA5, proprietary);
  Bytes fci;
  (void)emv::AppendTlv(fci, 0x6F, body);
  // ISO/IEC 7816-4: 6283 "selected file invalidated" is how a blocked application answers SELECT.
  return ResponseApdu{std::move(fci),
                      state_.blocked ? emv::kSwSelectedFileInvalidated : emv::kSwSuccess};
}

void TransitPurseApplet::Deselect() {
  session_ = Session();
  challenge_.reset();
}

ResponseApdu TransitPurseApplet::Process(const CommandApdu& command) {
  ResponseApdu response = Dispatch(command);
  if (!response.sw.IsSuccess()) Deselect();  // any error ends the transaction in progress
  return response;
}

ResponseApdu TransitPurseApplet::Dispatch(const CommandApdu& command) {
  auto purse = [&](std::uint8_t cla) -> std::optional<ResponseApdu> {
    if (command.cla != cla) return Sw(emv::kSwClaNotSupported);
    if (state_.blocked) return Sw(emv::kSwPurseBlocked);
    return std::nullopt;
  };
  switch (command.ins) {
    case kInsReadBinary:
      if (command.cla != kClaIso) return Sw(emv::kSwClaNotSupported);
      return ReadBinary(command);
    case kInsReadRecord:
      if (command.cla != kClaIso) return Sw(emv::kSwClaNotSupported);
      return ReadRecord(command);
    case kInsGetChallenge:
      if (command.cla != kClaIso) return Sw(emv::kSwClaNotSupported);
      return GetChallenge(command);
    case kInsGetBalance:
      // Answered on a blocked card too: reading changes nothing, and the operator needs the final
      // balance of a card it has just blocked to refund it or carry it to a new phone.
      if (command.cla != kClaProprietary) return Sw(emv::kSwClaNotSupported);
      return GetBalance(command);
    case kInsInitialize:
      if (auto early = purse(kClaProprietary)) return *early;
      return Initialize(command);
    case kInsUpdateCapp:
      if (auto early = purse(kClaProprietary)) return *early;
      return UpdateCappDataCache(command);
    case kInsDebit:
      if (auto early = purse(kClaProprietary)) return *early;
      return Debit(command);
    case kInsCredit:
      if (auto early = purse(kClaProprietary)) return *early;
      return Credit(command);
    case kInsGetTransactionProve:
      if (auto early = purse(kClaProprietary)) return *early;
      return GetTransactionProve(command);
    case kInsApplicationBlock:
      if (auto early = purse(kClaSecureMessaging)) return *early;
      return ApplicationBlock(command);
    default:
      return Sw(emv::kSwInsNotSupported);
  }
}

// ISO/IEC 7816-4 READ BINARY with a short EF identifier: P1 = 100 SFI, P2 = offset.
ResponseApdu TransitPurseApplet::ReadBinary(const CommandApdu& command) const {
  if ((command.p1 & 0xE0) != 0x80) return Sw(emv::kSwIncorrectP1P2);
  if (!command.data.empty()) return Sw(emv::kSwWrongLength);
  const std::uint8_t sfi = command.p1 & 0x1F;
  Bytes file;
  if (sfi == kTransitSfiPublic) {
    file = PublicData();
  } else if (sfi == kTransitSfiManagement) {
    file = ManagementData();
  } else {
    return Sw(emv::kSwFileNotFound);
  }
  if (command.p2 >= file.size()) return Sw(emv::kSwIncorrectP1P2);
  return Ok(Bytes(file.begin() + command.p2, file.end()));
}

// ISO/IEC 7816-4 READ RECORD: P1 record number, P2 = SFI << 3 | 100 (record number in P1).
ResponseApdu TransitPurseApplet::ReadRecord(const CommandApdu& command) const {
  if ((command.p2 & 0x07) != 0x04 || command.p1 == 0) return Sw(emv::kSwIncorrectP1P2);
  if (!command.data.empty()) return Sw(emv::kSwWrongLength);
  const std::uint8_t sfi = command.p2 >> 3;
  if (sfi == kTransitSfiLog) {
    if (command.p1 > state_.log.size()) return Sw(emv::kSwRecordNotFound);
    return Ok(state_.log[command.p1 - 1]);  // record 1 = newest
  }
  if (sfi == kTransitSfiCapp) {
    if (command.p1 != kCappRecordId) return Sw(emv::kSwRecordNotFound);
    return Ok(state_.capp_record);
  }
  return Sw(emv::kSwFileNotFound);
}

ResponseApdu TransitPurseApplet::GetBalance(const CommandApdu& command) const {
  if (command.p1 != 0x00 || (command.p2 != kP2Ep && command.p2 != kP2Ed)) {
    return Sw(emv::kSwIncorrectP1P2);
  }
  if (!command.data.empty()) return Sw(emv::kSwWrongLength);
  return Ok(UintToBytes(state_.balance_fen, kAmountBytes));
}

ResponseApdu TransitPurseApplet::Initialize(const CommandApdu& command) {
  const std::uint8_t p1 = command.p1;
  const bool ed = command.p2 == kP2Ed;
  if ((p1 != kP1Load && p1 != kP1Purchase && p1 != kP1CappPurchase) ||
      (command.p2 != kP2Ep && command.p2 != kP2Ed) || (p1 == kP1CappPurchase && ed)) {
    return Sw(emv::kSwIncorrectP1P2);
  }
  if (command.data.size() != kInitializeDataBytes) return Sw(emv::kSwWrongLength);
  session_ = Session();  // a new INITIALIZE replaces any transaction in progress
  if (command.data[0] != kTransitKeyIndex) return Sw(emv::kSwPurseKeyIndexNotSupported);
  const ByteView data = command.data;
  Session s;
  s.amount_fen = static_cast<std::uint32_t>(BytesToUint(data.subspan(1, kAmountBytes)));
  std::copy_n(data.begin() + 1 + kAmountBytes, kTerminalIdBytes, s.terminal_id.begin());

  if (p1 == kP1Load) {
    if (state_.online_counter >= kTransitCounterMax) return Sw(emv::kSwConditionsNotSatisfied);
    if (std::uint64_t{state_.balance_fen} + s.amount_fen > profile_.balance_cap_fen) {
      return Sw(emv::kSwConditionsNotSatisfied);
    }
  } else {
    if (state_.offline_counter >= kTransitCounterMax) return Sw(emv::kSwConditionsNotSatisfied);
    if (s.amount_fen > state_.balance_fen) return Sw(emv::kSwPurseInsufficientBalance);
  }
  if (!random_.Fill(s.card_random).ok()) return Sw(emv::kSwNoPreciseDiagnosis);

  const std::uint8_t algorithm_id = crypto::PurseAlgorithmId(profile_.algorithm);
  Bytes out = UintToBytes(state_.balance_fen, kAmountBytes);
  if (p1 == kP1Load) {
    s.pending = Pending::kLoad;
    s.type = ed ? kTransitTypeEdLoad : kTransitTypeLoad;
    s.counter = state_.online_counter;
    const auto input = crypto::LoadSessionInput(s.card_random, s.counter);
    Result<crypto::SecretBytes> sk =
        crypto::DerivePurseSessionKey(profile_.algorithm, profile_.load_key, input);
    if (!sk.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
    s.load_session_key = std::move(sk).value();
    // MAC1 = MAC(SK, old balance | amount | type | terminal id) (transit-purse.md section 5).
    Bytes mac_input = UintToBytes(state_.balance_fen, kAmountBytes);
    Append(mac_input, UintToBytes(s.amount_fen, kAmountBytes));
    mac_input.push_back(s.type);
    Append(mac_input, s.terminal_id);
    Result<crypto::PurseMac> mac1 =
        crypto::PurseSessionMac(profile_.algorithm, s.load_session_key, mac_input);
    if (!mac1.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
    Append(out, UintToBytes(s.counter, kCounterBytes));
    out.push_back(profile_.key_version);
    out.push_back(algorithm_id);
    Append(out, s.card_random);
    Append(out, *mac1);
  } else {
    s.pending = p1 == kP1CappPurchase ? Pending::kCappPurchase : Pending::kPurchase;
    s.type = p1 == kP1CappPurchase ? kTransitTypeCappPurchase
                                   : (ed ? kTransitTypeEdPurchase : kTransitTypePurchase);
    s.counter = state_.offline_counter;
    Append(out, UintToBytes(s.counter, kCounterBytes));
    Append(out, UintToBytes(kOverdraftLimitFen, kOverdraftBytes));
    out.push_back(profile_.key_version);
    out.push_back(algorithm_id);
    Append(out, s.card_random);
  }
  session_ = std::move(s);
  return Ok(std::move(out));
}

ResponseApdu TransitPurseApplet::UpdateCappDataCache(const CommandApdu& command) {
  if (command.p1 != kCappRecordId || command.p2 != kP2UpdateCapp) return Sw(emv::kSwIncorrectP1P2);
  if (command.data.size() != kTransitCappRecordBytes) return Sw(emv::kSwWrongLength);
  if (session_.pending != Pending::kCappPurchase) return Sw(emv::kSwConditionsNotSatisfied);
  session_.staged_capp = command.data;  // committed with the debit, or dropped
  return Sw(emv::kSwSuccess);
}

ResponseApdu TransitPurseApplet::Debit(const CommandApdu& command) {
  if (command.p1 != 0x01 || command.p2 != 0x00) return Sw(emv::kSwIncorrectP1P2);
  if (command.data.size() != kDebitDataBytes) return Sw(emv::kSwWrongLength);
  if (session_.pending != Pending::kPurchase && session_.pending != Pending::kCappPurchase) {
    return Sw(emv::kSwConditionsNotSatisfied);
  }
  const ByteView data = command.data;
  const ByteView seq = data.first(kTerminalSeqBytes);
  const ByteView date_time = data.subspan(kTerminalSeqBytes, kDateBytes + kTimeBytes);
  const ByteView mac1 = data.subspan(kTerminalSeqBytes + kDateBytes + kTimeBytes);
  if (!AllBcd(date_time)) return Sw(emv::kSwWrongData);
  const Session& s = session_;
  // The state cannot have moved since INITIALIZE (one channel per session); checked again
  // because the debit is where money moves.
  if (s.counter != state_.offline_counter || s.counter >= kTransitCounterMax) {
    return Sw(emv::kSwConditionsNotSatisfied);
  }

  const auto input = crypto::PurchaseSessionInput(
      s.card_random, s.counter, static_cast<std::uint32_t>(BytesToUint(seq)));
  Result<crypto::SecretBytes> sk =
      crypto::DerivePurseSessionKey(profile_.algorithm, profile_.purchase_key, input);
  if (!sk.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  const Bytes amount = UintToBytes(s.amount_fen, kAmountBytes);
  // MAC1 = MAC(SK, amount | type | terminal id | date | time).
  Bytes mac1_input = amount;
  mac1_input.push_back(s.type);
  Append(mac1_input, s.terminal_id);
  Append(mac1_input, date_time);
  Result<crypto::PurseMac> expected_mac1 =
      crypto::PurseSessionMac(profile_.algorithm, *sk, mac1_input);
  if (!expected_mac1.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  if (!SameMac(*expected_mac1, mac1)) return Sw(emv::kSwPurseMacError);
  if (s.amount_fen > state_.balance_fen) return Sw(emv::kSwPurseInsufficientBalance);

  // MAC2 = MAC(SK, amount); TAC = TAC(DTK, amount | type | terminal id | seq | date | time).
  Result<crypto::PurseMac> mac2 = crypto::PurseSessionMac(profile_.algorithm, *sk, amount);
  Bytes tac_input = amount;
  tac_input.push_back(s.type);
  Append(tac_input, s.terminal_id);
  Append(tac_input, seq);
  Append(tac_input, date_time);
  Result<crypto::PurseMac> tac = crypto::PurseTac(profile_.algorithm, profile_.tac_key, tac_input);
  if (!mac2.ok() || !tac.ok()) return Sw(emv::kSwNoPreciseDiagnosis);

  // Log record (SFI 18, 23 bytes): ETC | overdraft (3) | amount | type | terminal id | date time.
  Bytes record = UintToBytes(s.counter, kCounterBytes);
  Append(record, UintToBytes(kOverdraftLimitFen, kOverdraftBytes));
  Append(record, amount);
  record.push_back(s.type);
  Append(record, s.terminal_id);
  Append(record, date_time);

  TransitCardState next = state_;
  next.balance_fen = state_.balance_fen - s.amount_fen;
  next.offline_counter = static_cast<std::uint16_t>(s.counter + 1);
  next.log.insert(next.log.begin(), std::move(record));
  if (next.log.size() > kTransitLogRecordsMax) next.log.resize(kTransitLogRecordsMax);
  if (s.staged_capp.has_value()) next.capp_record = *s.staged_capp;
  next.last_purchase = TransitPurchaseProof{s.counter, s.type, *mac2, *tac};
  if (!Commit(std::move(next))) return Sw(kSwMemoryFailure);
  session_ = Session();

  Bytes out(tac->begin(), tac->end());
  Append(out, *mac2);
  return Ok(std::move(out));
}

ResponseApdu TransitPurseApplet::Credit(const CommandApdu& command) {
  if (command.p1 != 0x00 || command.p2 != 0x00) return Sw(emv::kSwIncorrectP1P2);
  if (command.data.size() != kCreditDataBytes) return Sw(emv::kSwWrongLength);
  if (session_.pending != Pending::kLoad) return Sw(emv::kSwConditionsNotSatisfied);
  const ByteView data = command.data;
  const ByteView date_time = data.first(kDateBytes + kTimeBytes);
  const ByteView mac2 = data.subspan(kDateBytes + kTimeBytes);
  if (!AllBcd(date_time)) return Sw(emv::kSwWrongData);
  const Session& s = session_;
  if (s.counter != state_.online_counter || s.counter >= kTransitCounterMax) {
    return Sw(emv::kSwConditionsNotSatisfied);
  }

  const Bytes amount = UintToBytes(s.amount_fen, kAmountBytes);
  // MAC2 = MAC(SK_load, amount | type | terminal id | date | time).
  Bytes mac2_input = amount;
  mac2_input.push_back(s.type);
  Append(mac2_input, s.terminal_id);
  Append(mac2_input, date_time);
  Result<crypto::PurseMac> expected_mac2 =
      crypto::PurseSessionMac(profile_.algorithm, s.load_session_key, mac2_input);
  if (!expected_mac2.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  if (!SameMac(*expected_mac2, mac2)) return Sw(emv::kSwPurseMacError);
  if (std::uint64_t{state_.balance_fen} + s.amount_fen > profile_.balance_cap_fen) {
    return Sw(emv::kSwConditionsNotSatisfied);
  }
  const std::uint32_t new_balance = state_.balance_fen + s.amount_fen;

  // TAC = TAC(DTK, new balance | online counter before the increment | amount | type |
  // terminal id | date | time) (shared contract; the counter choice is [uncertain] in the notes).
  Bytes tac_input = UintToBytes(new_balance, kAmountBytes);
  Append(tac_input, UintToBytes(s.counter, kCounterBytes));
  Append(tac_input, amount);
  tac_input.push_back(s.type);
  Append(tac_input, s.terminal_id);
  Append(tac_input, date_time);
  Result<crypto::PurseMac> tac = crypto::PurseTac(profile_.algorithm, profile_.tac_key, tac_input);
  if (!tac.ok()) return Sw(emv::kSwNoPreciseDiagnosis);

  // Log record: the online counter of this load (before its increment), as for purchases.
  Bytes record = UintToBytes(s.counter, kCounterBytes);
  Append(record, UintToBytes(kOverdraftLimitFen, kOverdraftBytes));
  Append(record, amount);
  record.push_back(s.type);
  Append(record, s.terminal_id);
  Append(record, date_time);

  TransitCardState next = state_;
  next.balance_fen = new_balance;
  next.online_counter = static_cast<std::uint16_t>(s.counter + 1);
  next.log.insert(next.log.begin(), std::move(record));
  if (next.log.size() > kTransitLogRecordsMax) next.log.resize(kTransitLogRecordsMax);
  if (!Commit(std::move(next))) return Sw(kSwMemoryFailure);
  session_ = Session();
  return Ok(Bytes(tac->begin(), tac->end()));
}

ResponseApdu TransitPurseApplet::GetTransactionProve(const CommandApdu& command) const {
  if (command.p1 != 0x00 ||
      (command.p2 != kTransitTypePurchase && command.p2 != kTransitTypeCappPurchase &&
       command.p2 != kTransitTypeEdPurchase)) {
    return Sw(emv::kSwIncorrectP1P2);
  }
  if (command.data.size() != kProveDataBytes) return Sw(emv::kSwWrongLength);
  const auto etc = static_cast<std::uint16_t>(BytesToUint(command.data));
  const std::optional<TransitPurchaseProof>& last = state_.last_purchase;
  if (!last.has_value() || last->offline_counter != etc || last->transaction_type != command.p2) {
    return Sw(emv::kSwReferencedDataNotFound);
  }
  Bytes out(last->mac2.begin(), last->mac2.end());
  Append(out, last->tac);
  return Ok(std::move(out));
}

ResponseApdu TransitPurseApplet::GetChallenge(const CommandApdu& command) {
  if (command.p1 != 0x00 || command.p2 != 0x00) return Sw(emv::kSwIncorrectP1P2);
  if (!command.data.empty()) return Sw(emv::kSwWrongLength);
  std::array<std::uint8_t, crypto::kPurseChallengeBytes> challenge{};
  if (!random_.Fill(challenge).ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  challenge_ = challenge;
  return Ok(Bytes(challenge.begin(), challenge.end()));
}

// APPLICATION BLOCK with secure messaging: MAC over CLA INS P1 P2 Lc with the challenge as ICV.
ResponseApdu TransitPurseApplet::ApplicationBlock(const CommandApdu& command) {
  if (command.p1 != 0x00 || command.p2 != 0x00) return Sw(emv::kSwIncorrectP1P2);
  if (command.data.size() != crypto::kPurseMacBytes) return Sw(emv::kSwWrongLength);
  if (!challenge_.has_value()) return Sw(emv::kSwConditionsNotSatisfied);
  const auto challenge = *challenge_;
  challenge_.reset();  // one attempt per challenge
  const std::uint8_t header[] = {command.cla, command.ins, command.p1, command.p2,
                                 static_cast<std::uint8_t>(crypto::kPurseMacBytes)};
  Result<crypto::PurseMac> mac = crypto::PurseSecureMessagingMac(
      profile_.algorithm, profile_.maintenance_key, challenge, header);
  if (!mac.ok()) return Sw(emv::kSwNoPreciseDiagnosis);
  if (!SameMac(*mac, command.data)) return Sw(emv::kSwPurseMacError);
  TransitCardState next = state_;
  next.blocked = true;
  if (!Commit(std::move(next))) return Sw(kSwMemoryFailure);
  session_ = Session();
  return Sw(emv::kSwSuccess);
}

bool TransitPurseApplet::Commit(TransitCardState next) {
  if (!store_.UpdateTransitCardState(profile_.card_id, state_, next).ok()) return false;
  state_ = std::move(next);
  return true;
}

}  // namespace tapstack::device
