// TokenHistory: the uses of each token as the network switch answered them, for the wallet's
// transaction list (GET /v1/tsp/tokens/{id}/transactions).
//
// RecordUse is called on the switch's answer path, so it is one indexed lookup (the token by its
// number, through the vault's unique index) and one prepared INSERT, in auto-commit; no
// transaction, no re-preparing. Rows are keyed by the token id: the token number and the PAN are
// never written to this table (the vault holds the mapping). Merchant text is cut to
// kHistoryMerchantBytesMax.
//
// Thread-safety: none (one thread at a time, like the store). `store` and `vault` are not owned
// and must outlive the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/store.h"
#include "tsp/token_vault.h"

namespace tapstack::tsp {

inline constexpr std::size_t kHistoryListMax = 500;
inline constexpr std::size_t kHistoryMerchantBytesMax = 40;  // DE43 name/location is ans40

struct TokenUseRecord {
  std::string token_number;  // DE2 as the acquirer sent it; used for the lookup only
  std::string mti;           // "0100", "0200", "0400" …
  std::int64_t amount_minor = 0;
  std::uint16_t currency_numeric = 0;
  std::string merchant;        // DE43
  std::string mcc;             // DE18
  std::string pos_entry_mode;  // DE22
  std::string response_code;   // DE39 of the answer
  std::string approval_code;   // DE38
  std::string stan;            // DE11
  std::string terminal_id;     // DE41
  std::int64_t time_unix_ms = 0;
};


struct TokenHistoryEntry {
  std::int64_t seq = 0;
  std::string token_id;
  std::string mti;
  std::int64_t amount_minor = 0;
  std::uint16_t currency_numeric = 0;
  std::string merchant;
  std::string mcc;
  std::string pos_entry_mode;
  std::string response_code;
  std::string approval_code;
  std::string stan;
  std::string terminal_id;
  std::int64_t time_unix_ms = 0;
};

class TokenHistory {
 public:
  // Applies the TSP schema and prepares the insert. Errors: the store's.
  static Result<std::unique_ptr<TokenHistory>> Open(store::Store& store, TokenVault& vault);

  // Appends `use` for the token with that number. Errors: kNotFound (no such token: nothing is
  // written); kInvalidArgument (a text field that is not UTF-8); the store's.
  Status RecordUse(const TokenUseRecord& use);

  // The newest `limit` (1..kHistoryListMax) uses of `token_id`, newest first. Errors:
  // kInvalidArgument (limit); the store's.
  Result<std::vector<TokenHistoryEntry>> List(std::string_view token_id, std::size_t limit);

 private:
  TokenHistory(store::Store& store, TokenVault& vault, store::Statement insert)
      : store_(store), vault_(vault), insert_(std::move(insert)) {}

  store::Store& store_;
  TokenVault& vault_;
  store::Statement insert_;
};

}  // namespace tapstack::tsp
