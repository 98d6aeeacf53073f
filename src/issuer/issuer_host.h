// IssuerHost: one process role hosting many issuer banks. It answers ISO 8583 from the network:
//   0100/0101 authorisation → rules, then a pending hold in the ledger (card account → bank
//             settlement account), released by reversal or expiry, posted by clearing
//   0200/0201 financial      → rules, then a posted transfer
//   0400/0420 (+ repeats)    → void of the original hold (0100) or a refund transfer (0200);
//                              acknowledged even when the original is unknown
//   0120/0220 stand-in advice → the hold/post the network approved on the bank's behalf; if the
//                              card cannot cover it, the bank's stand-in loss account pays
//   0800                     → 0810 "00"
// Cards are found by a keyed HMAC-SHA-256 fingerprint of the PAN (never stored in clear).
//
// Durability: requests are queued and applied in batches by one worker; a batch's ledger
// transfers are made durable by one group commit (ledger::Ledger) before any of its responses is
// sent. Ids of ledger transfers derive from (bank, DE32, DE41, DE11, DE7), so a repeat or a retry
// after a crash never holds twice.
// Daily amount and velocity counters are kept in memory (they restart at zero after a restart).
// Thread-safety: OnRequest from any thread; card administration from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/currency.h"
#include "core/pan.h"
#include "core/status.h"
#include "crypto/secret_bytes.h"
#include "issuer/authorization_rules.h"
#include "issuer/card.h"
#include "ledger/ledger.h"
#include "link/message_handler.h"
#include "store/store.h"

namespace tapstack::issuer {

struct IssuerBankConfig {
  std::string institution_id;
  std::string name;
  const Currency* currency = nullptr;
  std::vector<std::pair<std::string, std::string>> bin_ranges;  // 8-digit low/high, credit and debit
  crypto::SecretBytes pan_fingerprint_key;                       // HMAC key, 32 bytes
};

struct IssuerOptions {
  std::filesystem::path data_dir;
  std::string name = "issuer";                     // files: <name>.db (cards), ledger <name>-ledger
  const Clock* clock = nullptr;                    // default: the system clock
  std::uint32_t hold_timeout_s = 7 * 24 * 3600;    // an uncleared hold is released after this
  std::size_t queue_max = 65'536;                  // beyond this, requests get 91 at once
};

struct NewCard {
  std::string institution_id;
  std::string pan;             // validated; never stored
  std::string expiry;          // YYMM
  CardType type = CardType::kDebit;
  std::int64_t opening_balance_minor = 0;  // debit: deposit; credit: credit line
  std::int64_t per_transaction_limit_minor = 0;
  std::int64_t daily_limit_minor = 0;
  int daily_transactions_max = 0;
  std::set<std::string> blocked_mccs;
};

struct IssuerStats {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> approved{0};
  std::atomic<std::uint64_t> declined{0};
  std::atomic<std::uint64_t> batches{0};
};

class IssuerHost final : public link::MessageHandler {
 public:
  static Result<std::unique_ptr<IssuerHost>> Open(IssuerOptions options,
                                                  std::vector<IssuerBankConfig> banks);
  ~IssuerHost() override;

  // Issues cards with their ledger accounts and opening funds, in one batch (one ledger group
  // commit, one store transaction). Idempotent: issuing the same PAN again changes nothing and
  // succeeds. Errors (nothing is issued): unknown bank, PAN outside the bank's ranges, bad PAN or
  // expiry.
  Status IssueCards(std::span<const NewCard> cards);
  Status IssueCard(const NewCard& card) { return IssueCards(std::span(&card, 1)); }
  // Errors: kNotFound for an unknown card.
  Status SetCardStatus(std::string_view institution_id, std::string_view pan, CardStatus status);
  // The card's available funds or credit (credits - debits incl. pending, plus the credit line).
  Result<std::int64_t> AvailableMinor(std::string_view institution_id, std::string_view pan);
  std::size_t card_count() const;

  void OnRequest(iso8583::Message request, link::Reply reply) override;

  ledger::Ledger& ledger() { return *ledger_; }
  const IssuerStats& stats() const { return stats_; }

 private:
  struct Bank;
  struct Pending {
    iso8583::Message request;
    link::Reply reply;
  };
  IssuerHost() = default;
  void Worker();
  void ProcessBatch(std::vector<Pending>& batch);
  const Bank* BankForPan(std::string_view pan) const;
  std::string Fingerprint(const Bank& bank, std::string_view pan) const;

  IssuerOptions options_;
  const Clock* clock_ = nullptr;
  std::map<std::string, std::unique_ptr<Bank>> banks_;
  std::unique_ptr<store::Store> cards_store_;  // guarded by cards_mu_
  std::unique_ptr<ledger::Ledger> ledger_;
  mutable std::mutex cards_mu_;
  std::unordered_map<std::string, CardRecord> cards_;  // by fingerprint
  struct DayActivity {
    std::string day;  // YYMMDD the counters belong to
    DailyActivity today;
  };
  std::unordered_map<std::string, DayActivity> activity_;  // by fingerprint; worker thread only
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread worker_;
  IssuerStats stats_;
};

}  // namespace tapstack::issuer
