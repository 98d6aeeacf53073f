// DeviceStore: the secure element's persistent memory, one SQLite file per device
// (<data_dir>/<device id>/secure_element.db through store::OpenSqlite).
//
// It holds the device's key-agreement private key, the installed tokens with their ATC and keys,
// the remaining HCE single-use keys, the transit purse cards (personalisation, balance,
// counters, log, CAPP record, last purchase proof, blocked flag, express choice) and the
// digital-currency wallet (device/dcep_applet.h: key pair, root key, certificates, balance,
// counter, since-sync counters, pending request, log, revocation list, load sequence, blocked). The emulator keeps key material in this file in clear:
// it stands for a real element's tamper-resistant non-volatile memory, and the file must be
// protected like one. Nothing here ever leaves the device.
//
// ATC rule (design notes pitfall 11): the ATC only grows. NextAtc() commits the new value before
// the applet uses it, with a compare-and-set on the old value, and reads it back; so a cryptogram
// is only ever produced for an ATC already on disk, and a restarted device never repeats one.
// Transit rule (durable before answered): everything a DEBIT, CREDIT or APPLICATION BLOCK changes
// is written by one UpdateTransitCardState() transaction, compare-and-set on the old state and read
// back, before the applet answers; a failed write leaves both the disk and the applet unchanged.
// Digital-currency rule (durable before answered; the counter never repeats): every change of the
// wallet is one UpdateDcepWallet() transaction, compare-and-set on the counter, log sequence,
// load sequence and balance, with the log record it adds (a debit, its counter increment and its
// log record together) and read back before the applet answers.
// Not thread-safe (one store::Store connection); the secure element serialises calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "crypto/purse_crypto.h"
#include "crypto/secret_bytes.h"
#include "crypto/signature.h"
#include "device/token_credentials.h"
#include "device/transit_card_profile.h"
#include "store/store.h"

namespace tapstack::device {

inline constexpr std::size_t kDeviceIdBytesMax = 64;
inline constexpr std::uint16_t kAtcMax = 0xFFFF;  // 9F36 is 2 bytes (Book 3 Annex A)

// A token as stored: credentials without the HCE keys (those stay in their own table).
struct StoredToken {
  TokenCredentials credentials;  // limited_use_keys empty
  std::uint16_t atc = 0;         // the last ATC used (0 before the first transaction)
  std::int64_t install_order = 0;
};

// Transit purse files (transit-purse.md section 2): SFI 18 cyclic log of 10 records of 23 bytes,
// SFI 1A CAPP record 01 of 48 bytes.
inline constexpr std::size_t kTransitLogRecordBytes = 23;
inline constexpr std::size_t kTransitLogRecordsMax = 10;
inline constexpr std::size_t kTransitCappRecordBytes = 48;

// What GET TRANSACTION PROVE returns for the card's last completed purchase.
struct TransitPurchaseProof {
  std::uint16_t offline_counter = 0;  // the ETC of that purchase (before its increment)
  std::uint8_t transaction_type = 0;  // 06 purchase, 09 CAPP purchase (05 ED purchase)
  crypto::PurseMac mac2{};
  crypto::PurseMac tac{};
  friend bool operator==(const TransitPurchaseProof&, const TransitPurchaseProof&) = default;
};

// The mutable part of a transit card.
struct TransitCardState {
  std::uint32_t balance_fen = 0;
  std::uint16_t offline_counter = 0;  // ETC: purchases done so far
  std::uint16_t online_counter = 0;   // loads done so far
  std::vector<Bytes> log;             // newest first, kTransitLogRecordBytes each, at most 10
  Bytes capp_record = Bytes(kTransitCappRecordBytes, 0x00);
  std::optional<TransitPurchaseProof> last_purchase;
  bool blocked = false;
  friend bool operator==(const TransitCardState&, const TransitCardState&) = default;
};

// A transit card as stored.
struct StoredTransitCard {
  TransitCardProfile profile;  // as personalised (balance_fen there is the opening balance)
  TransitCardState state;
  std::int64_t install_order = 0;
  bool express = false;  // the card a terminal's SELECT of the T-Union AID reaches
};

// ---- digital-currency wallet ---------------------------------------------------------------------

// Log records a wallet keeps until the operator acknowledges them (SYNC prunes acknowledged ones);
// when full, the applet refuses new payments and receipts until it syncs.
inline constexpr std::size_t kDcepLogRecordsMax = 256;
inline constexpr std::size_t kDcepNonceBytes = 16;

// Set once by GENERATE KEY PAIR.
struct DcepKeys {
  crypto::SignatureScheme scheme = crypto::SignatureScheme::kSm2Sm3;
  crypto::SecretBytes private_key_pkcs8;
  crypto::SignatureScheme root_scheme = crypto::SignatureScheme::kSm2Sm3;
  Bytes root_public_key;  // raw
};

// The payee's open payment request (CREATE PAYMENT REQUEST), until RECEIVE completes it.
struct DcepPendingRequest {
  Bytes nonce;  // kDcepNonceBytes
  std::int64_t amount_fen = 0;
  std::uint16_t currency_numeric = 0;
  friend bool operator==(const DcepPendingRequest&, const DcepPendingRequest&) = default;
};

// The mutable part of the wallet.
struct DcepWalletState {
  Bytes device_certificate;    // 7F21, empty before PUT CERTIFICATES
  Bytes operator_certificate;  // 7F21
  std::int64_t balance_fen = 0;
  std::uint32_t counter = 0;  // the last counter signed (0 before the first payment)
  std::uint16_t payments_since_sync = 0;
  std::int64_t value_since_sync_fen = 0;
  std::optional<DcepPendingRequest> pending;
  std::uint32_t log_sequence = 0;   // the last log record written
  std::uint32_t load_sequence = 0;  // the last load order accepted
  Bytes last_load_order;            // its signed body (E6), to answer a retry
  std::int64_t last_operator_time_unix_s = 0;
  std::uint32_t revocation_list_version = 0;
  // The network's revoked devices as "<issuer id>:<device id>" (RevokedDeviceKey); both ids use
  // the device-id alphabet, so neither ':' nor ',' occurs inside one.
  std::vector<std::string> revoked_devices;
  bool blocked = false;
  friend bool operator==(const DcepWalletState&, const DcepWalletState&) = default;
};

// "<issuer id>:<device id>": how DcepWalletState names a revoked device.
std::string RevokedDeviceKey(std::string_view issuer_id, std::string_view device_id);

// One log record (dcep_wire/log_record.h) with the columns the store searches on.
struct DcepLogEntry {
  std::uint32_t sequence = 0;
  std::uint8_t direction = 0;  // 01 sent, 02 received
  std::string payer_device_id;
  std::uint32_t payer_counter = 0;
  std::int64_t amount_fen = 0;
  Bytes transfer;  // E2
  Bytes chain;     // E4
  friend bool operator==(const DcepLogEntry&, const DcepLogEntry&) = default;
};

struct StoredDcepWallet {
  std::optional<DcepKeys> keys;  // nullopt until personalised
  DcepWalletState state;
};

class DeviceStore {
 public:
  // Device ids are 1-64 characters of a-z, 0-9, '-' and '_' (safe as a directory name).
  static Status CheckDeviceId(std::string_view device_id);

  // Opens or creates <data_dir>/<device_id>/secure_element.db and applies the schema.
  // Errors: a bad device id (kInvalidArgument); store errors (kIoError, kCorruption ...).
  static Result<std::unique_ptr<DeviceStore>> Open(const std::filesystem::path& data_dir,
                                                   std::string_view device_id);

  // The device's key-agreement private key (PKCS#8), or nullopt before the first start.
  Result<std::optional<crypto::SecretBytes>> LoadDeviceKey();
  // Stores it once. Errors: kAlreadyExists when one is stored.
  Status SaveDeviceKey(const crypto::SecretBytes& pkcs8, std::int64_t created_unix_ms);

  // Stores a new token (ATC 0) and, in HCE mode, its first key batch, in one transaction.
  // Errors: kAlreadyExists for a known token id.
  Status InsertToken(const TokenCredentials& credentials);
  Result<std::vector<StoredToken>> LoadTokens();

  // The last ATC used by `token_id`. Errors: kNotFound.
  Result<std::uint16_t> Atc(std::string_view token_id);

  // Master-key mode: commits ATC + 1 (compare-and-set on `current`) and returns it.
  // Errors: kOutOfRange when the ATC is exhausted; kFailedPrecondition when the stored ATC is
  // not `current` (another writer; never expected); store errors.
  Result<std::uint16_t> NextAtc(std::string_view token_id, std::uint16_t current);

  // HCE mode: in one transaction, takes the unused key with the smallest ATC above the token's
  // ATC, deletes it, and sets the token's ATC to the key's. nullopt when none remains.
  Result<std::optional<LimitedUseKey>> TakeLimitedUseKey(std::string_view token_id);

  // Adds a replenishment batch. Keys whose ATC is not above the token's ATC, or already held,
  // are refused (kInvalidArgument) and nothing is added.
  Status AddLimitedUseKeys(std::string_view token_id, const std::vector<LimitedUseKey>& keys);

  Result<std::size_t> CountLimitedUseKeys(std::string_view token_id);

  // Stores a new transit card with its opening state (the profile's balance, counters 0, empty
  // log, zero CAPP record, not blocked). The first card stored becomes the express card.
  // Errors: kInvalidArgument (CheckTransitCardProfile); kAlreadyExists for a known card id.
  Status InsertTransitCard(const TransitCardProfile& profile);
  // Every transit card, in install order. Errors: kCorruption for a row that does not decode.
  Result<std::vector<StoredTransitCard>> LoadTransitCards();
  // Replaces the state of `card_id` with `next` in one transaction, only if the stored state is
  // `expected` (compare-and-set), and reads it back. Errors: kInvalidArgument for a malformed
  // `next` (log size, CAPP size); kNotFound; kFailedPrecondition when the stored state is not
  // `expected`; kInternal when the read-back differs; store errors. On error nothing changed.
  Status UpdateTransitCardState(std::string_view card_id, const TransitCardState& expected,
                                const TransitCardState& next);
  // Deletes a card; when it was the express card the next remaining one (install order) becomes
  // express, in the same transaction. Errors: kNotFound.
  Status DeleteTransitCard(std::string_view card_id);
  // Makes `card_id` the only express card. Errors: kNotFound.
  Status SetExpressTransitCard(std::string_view card_id);

  // Creates the (unpersonalised, empty) digital-currency wallet. Errors: kAlreadyExists.
  Status InsertDcepWallet();
  // The wallet, or nullopt when none is installed. Errors: kCorruption for a row that does not
  // decode.
  Result<std::optional<StoredDcepWallet>> LoadDcepWallet();
  // Stores the key pair and root key, once. Errors: kNotFound (no wallet); kAlreadyExists
  // (already personalised); kInvalidArgument (an empty key).
  Status PersonaliseDcepWallet(const DcepKeys& keys);
  // In one transaction: replaces the state with `next` only if the stored counter, log sequence,
  // load sequence and balance are `expected`'s (compare-and-set), appends `append` (when given;
  // its sequence must be next.log_sequence), deletes log records up to `prune_through`, and reads
  // the state back. Errors: kInvalidArgument (a counter or sequence that goes backwards, a
  // negative balance, a log record numbered wrongly); kNotFound; kFailedPrecondition (the
  // stored state is not `expected`); kInternal (read-back differs); store errors. On error
  // nothing changed.
  Status UpdateDcepWallet(const DcepWalletState& expected, const DcepWalletState& next,
                          const DcepLogEntry* append = nullptr, std::uint32_t prune_through = 0);
  // Log records with sequence >= `from_sequence`, oldest first, at most `records_max`.
  Result<std::vector<DcepLogEntry>> LoadDcepLog(std::uint32_t from_sequence,
                                                std::size_t records_max);
  Result<std::size_t> CountDcepLog();
  // True when a received record from (payer, counter) is in the log.
  Result<bool> DcepTransferReceived(std::string_view payer_device_id, std::uint32_t payer_counter);

 private:
  explicit DeviceStore(std::unique_ptr<store::Store> store) : store_(std::move(store)) {}
  Status InsertKeys(std::string_view token_id, const std::vector<LimitedUseKey>& keys);

  std::unique_ptr<store::Store> store_;
};

}  // namespace tapstack::device
