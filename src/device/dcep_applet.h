// DcepApplet: the digital-currency hardware wallet on the secure element (digital-currency.md
// section 5.1; formats in dcep_wire/, APDUs in docs/dcep-offline.md). It holds an offline balance
// in fen (CNY, numeric 156), a device key pair (SM2 by default, ECDSA P-256 or Ed25519), the
// certificate chain root -> operator -> device, a counter that never repeats, a log of signed
// transfers, the operator's revocation list and the last operator time it saw.
//
// AID D1 56 00 00 01 45 43 4E 59 ("ECNY" under a 156 RID). CLA 80; long data uses command
// chaining (CLA 90 on all links but the last) and answers above 256 bytes come back with 61xx +
// GET RESPONSE (00 C0 00 00 Le) (emv/apdu_chaining.h).
//
//   80 50 00 <scheme> GENERATE KEY PAIR   data: 80 root scheme (1) | 86 root public key raw
//                                         -> device public key raw; once (personalisation)
//   80 52 00 00 PUT CERTIFICATES  E4 { device, operator }, checked against the root and the own
//                                 key; may be repeated (renewal) with the same subject id
//   80 54 00 00 LOAD              E5 -> new balance (8); sequence = last + 1; the last order again
//                                 answers the current balance without a second credit
//   80 60 00 00 CREATE PAYMENT REQUEST  9F02 (8) | 5F2A (2) [| 9A host time (8)] -> E1; the
//                                 nonce stays pending (persisted) until RECEIVE or the next request
//   80 62 00 00 PAY               E1 -> E2 | E4 (debit, counter + 1, log, signature: committed
//                                 before the answer)
//   80 64 00 00 RECEIVE           E2 | E4 -> 9000 (credit, log, pending request cleared)
//   80 66 P1 P2 READ LOG          from sequence P1P2 (or data C8 (4)) -> up to
//                                 kDcepReadLogRecordsMax E9 records; 6A88 when none
//   80 68 00 00 SYNC              E7 -> 9000: prunes acknowledged records, recomputes the
//                                 since-sync counters from the records left, stores the
//                                 revocation list and operator time; blocks the wallet when its
//                                 own id is revoked
//   80 CA 00 01..04 GET DATA      01 device certificate, 02 purse status (kDcepPurseStatusBytes),
//                                 03 public key raw, 04 last log sequence (4)
//
// Time: a wearable has no trusted clock, so certificate expiry is checked against the last
// operator time (SYNC), which only moves forward. Offline caps come from the device certificate
// (0 allows nothing). The payee refuses a payer or payer chain that is revoked (6283), not from
// the root or badly signed (6982), a transfer for another request, payee, amount or currency
// (6A80), a transfer already received or no pending request (6985). The payer refuses when
// blocked (6283), a payee chain not from the root (6982) or revoked (6283), insufficient balance
// (9401), a cap or a full log (6A84).
//
// Expiry of unsynced transfers: a device whose oldest unsynced log record is older than its
// certificate's offline_unsynced_max_age_s refuses CREATE PAYMENT REQUEST and PAY (6A84) until a
// SYNC acknowledges it. The age is measured against the request's time (the payee's host clock;
// never earlier than the last operator time): a watch has no clock of its own, so this bounds
// how long value circulates unsynced among devices whose hosts keep time (or that learn the time
// from counterparties' requests: a request without a host time carries the payee's last operator
// time), and the certificate's expiry (checked against operator time) bounds it for all. A record
// of time 0 (made before either side ever synced) does not expire. Other words: 6A80 bad data, 6985 not personalised or out of
// order, 6A88 not found, 6A86 wrong P1 P2, 6D00 unknown INS, 6E00 wrong CLA, 6883 broken chain,
// 6700 too long, 6581 the persistent write failed (state unchanged).
//
// Express: no cardholder verification (offline payments between watches). Not thread-safe: the
// secure element serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/bytes.h"
#include "core/random_source.h"
#include "core/status.h"
#include "crypto/signature.h"
#include "dcep_wire/certificate.h"
#include "device/applet.h"
#include "device/device_store.h"
#include "emv/apdu_chaining.h"

namespace tapstack::device {

inline constexpr std::uint8_t kDcepAid[] = {0xD1, 0x56, 0x00, 0x00, 0x01, 0x45, 0x43, 0x4E, 0x59};
inline constexpr std::uint8_t kDcepCla = 0x80;

inline constexpr std::uint8_t kDcepInsGenerateKeyPair = 0x50;
inline constexpr std::uint8_t kDcepInsPutCertificates = 0x52;
inline constexpr std::uint8_t kDcepInsLoad = 0x54;
inline constexpr std::uint8_t kDcepInsCreatePaymentRequest = 0x60;
inline constexpr std::uint8_t kDcepInsPay = 0x62;
inline constexpr std::uint8_t kDcepInsReceive = 0x64;
inline constexpr std::uint8_t kDcepInsReadLog = 0x66;
inline constexpr std::uint8_t kDcepInsSync = 0x68;
inline constexpr std::uint8_t kDcepInsGetData = 0xCA;

inline constexpr std::uint8_t kDcepDataDeviceCertificate = 0x01;
inline constexpr std::uint8_t kDcepDataPurseStatus = 0x02;
inline constexpr std::uint8_t kDcepDataPublicKey = 0x03;
inline constexpr std::uint8_t kDcepDataLastLogSequence = 0x04;

inline constexpr emv::StatusWord kSwDcepBlocked{0x6283};
inline constexpr emv::StatusWord kSwDcepInsufficientBalance{0x9401};
inline constexpr emv::StatusWord kSwDcepOfflineCapReached{0x6A84};

// Longest chained command data the applet assembles (a sync acknowledgement with a full
// revocation list is the largest input, about 17 KiB).
inline constexpr std::size_t kDcepCommandBytesMax = 20 * 1024;
// Records one READ LOG answer carries (about 0.9 KB each).
inline constexpr std::size_t kDcepReadLogRecordsMax = 8;

// GET DATA 02: balance (8) | counter (4) | payments since sync (2) | value since sync (8).
inline constexpr std::size_t kDcepPurseStatusBytes = 22;
struct DcepPurseStatus {
  std::int64_t balance_fen = 0;
  std::uint32_t counter = 0;
  std::uint16_t payments_since_sync = 0;
  std::int64_t value_since_sync_fen = 0;
  friend bool operator==(const DcepPurseStatus&, const DcepPurseStatus&) = default;
};
// Errors (kInvalidArgument): not kDcepPurseStatusBytes bytes.
Result<DcepPurseStatus> ParseDcepPurseStatus(ByteView data);

struct DcepAppletOptions {
  // Payee nonces. nullptr: crypto::Csprng. Must outlive the applet.
  RandomSource* random = nullptr;
};

class DcepApplet final : public Applet {
 public:
  // `store` must outlive the applet and hold the wallet (DeviceStore::InsertDcepWallet).
  // Errors: kCorruption for stored keys or certificates that do not load.
  static Result<std::unique_ptr<DcepApplet>> Create(StoredDcepWallet wallet, DeviceStore& store,
                                                    DcepAppletOptions options = {});

  // GENERATE KEY PAIR without APDUs (SecureElement::InstallDcepWallet): generates and stores the
  // key pair and the root key, returns the raw public key. Errors: kFailedPrecondition (already
  // personalised); kInvalidArgument (a root key that does not parse); store errors.
  Result<Bytes> GenerateKeyPair(crypto::SignatureScheme scheme, crypto::SignatureScheme root_scheme,
                                ByteView root_public_key_raw);

  // The committed state (what the store holds).
  const DcepWalletState& state() const { return state_; }
  bool personalised() const { return key_.has_value(); }

  ByteView aid() const override { return kDcepAid; }
  // Empty: wallets and payee devices select it directly; it is not listed in the PPSE.
  Bytes DirectoryEntry() const override { return {}; }
  emv::ResponseApdu Select() override;
  void Deselect() override;
  emv::ResponseApdu Process(const emv::CommandApdu& command) override;

 private:
  struct Chain {
    dcep_wire::Certificate device;
    dcep_wire::Certificate operator_cert;
    crypto::PublicKey operator_key;
    Bytes encoded;  // E4
  };

  DcepApplet(DeviceStore& store, RandomSource& random)
      : store_(store), random_(random), assembler_(kDcepCommandBytesMax) {}

  Status Adopt(StoredDcepWallet wallet);
  emv::ResponseApdu Dispatch(const emv::CommandApdu& command);
  emv::ResponseApdu GetData(const emv::CommandApdu& command) const;
  emv::ResponseApdu GenerateKeyPairCommand(const emv::CommandApdu& command);
  emv::ResponseApdu PutCertificates(const emv::CommandApdu& command);
  emv::ResponseApdu Load(const emv::CommandApdu& command);
  emv::ResponseApdu CreatePaymentRequest(const emv::CommandApdu& command);
  emv::ResponseApdu Pay(const emv::CommandApdu& command);
  emv::ResponseApdu Receive(const emv::CommandApdu& command);
  emv::ResponseApdu ReadLog(const emv::CommandApdu& command);
  emv::ResponseApdu Sync(const emv::CommandApdu& command);

  // Writes `next` (and `append`) durably, then adopts it; false (state unchanged) on failure.
  bool Commit(DcepWalletState next, const DcepLogEntry* append = nullptr,
              std::uint32_t prune_through = 0);
  bool IsRevoked(const dcep_wire::Certificate& cert) const;
  std::int64_t NowUnixSeconds() const { return state_.last_operator_time_unix_s; }
  // Expiry of unsynced transfers: whether the oldest log record (nothing older survives a sync)
  // is older than the certificate's max age at `request_time_unix_s` (or the last operator time
  // when that is later). Errors: the store's.
  Result<bool> UnsyncedExpired(std::int64_t request_time_unix_s);

  DeviceStore& store_;
  RandomSource& random_;
  std::optional<crypto::PrivateKey> key_;
  Bytes public_key_raw_;
  std::optional<crypto::PublicKey> root_key_;
  std::optional<Chain> chain_;  // after PUT CERTIFICATES
  DcepWalletState state_;

  emv::ChainAssembler assembler_;
  emv::ResponseSpooler spooler_;
};

}  // namespace tapstack::device
