// The digital-currency reference data (seed/dcep.json): authorised operators, the wallet tier
// matrix and merchants. The central bank, every operator and the HTTP front load the same file.
//
// File shape (every member required unless marked optional; unknown members are refused):
//   {"note": str (optional), "sources": [str] (optional),
//    "reserve_seed_fen": int > 0          CNY reserve each operator is funded with at seed time
//    "operators": [{"id": "icbc", "name": "Industrial and Commercial Bank of China"}, ...],
//    "tiers": [{"tier": 1-4, "opened_with": str, "balance_max_fen": int ≥ 0,
//               "payment_max_fen": int ≥ 0, "daily_max_fen": int ≥ 0}, ...]   (0 = unlimited)
//    "merchants": [{"id": str, "name": str, "operator": id, "mcc": "4 digits"}, ...]}
//
// Tiers (PBOC white paper §3.3, Mu 2021): a wallet's tier follows the strength of the holder's
// identification; 4 is the lowest (phone number only, anonymous toward counterparties).
//
// Pure functions of their input; the config is immutable after parsing, so thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tapstack::dcep {

inline constexpr std::size_t kOperatorIdBytesMax = 16;
inline constexpr std::size_t kOperatorsMax = 64;
inline constexpr std::size_t kMerchantsMax = 10'000;
inline constexpr std::size_t kMerchantIdBytesMax = 64;
inline constexpr std::size_t kDisplayNameBytesMax = 128;
inline constexpr int kTierLowest = 4;   // phone number only
inline constexpr int kTierHighest = 1;  // opened in person

struct OperatorInfo {
  std::string id;    // 1-16 of a-z 0-9, starting with a letter ("icbc")
  std::string name;  // display name
};

struct TierLimits {
  int tier = kTierLowest;
  std::string opened_with;
  // Fen; 0 = unlimited (tier 1 is operator-set).
  std::int64_t balance_max_fen = 0;  // of the wallet receiving value
  std::int64_t payment_max_fen = 0;  // per payment, of the payer
  std::int64_t daily_max_fen = 0;    // per China-standard day, of the payer
};

struct MerchantInfo {
  std::string id;  // 1-64 of a-z 0-9 - _
  std::string name;
  std::string operator_id;  // the operator that keeps the merchant's wallet
  std::string mcc;          // ISO 18245 merchant category code, 4 digits
};

struct DcepConfig {
  std::int64_t reserve_seed_fen = 0;
  std::vector<OperatorInfo> operators;
  std::vector<TierLimits> tiers;  // exactly one per tier 1-4, ordered 1..4
  std::vector<MerchantInfo> merchants;

  // Look-ups; kNotFound naming the id (operator, merchant) or tier.
  Result<const OperatorInfo*> Operator(std::string_view id) const;
  Result<const MerchantInfo*> Merchant(std::string_view id) const;
  Result<const TierLimits*> Tier(int tier) const;
};

// kInvalidArgument unless 1-16 of a-z 0-9 starting with a letter; the message starts "<field>: ".
Status CheckOperatorId(std::string_view field, std::string_view id);

// Parses the whole file. Errors (kInvalidArgument) name the member, e.g.
// "tiers[2].daily_max_fen: expected an integer >= 0"; also a duplicate operator or merchant id, a
// merchant of an unknown operator, a tier missing or listed twice.
Result<DcepConfig> ParseDcepConfig(std::string_view json_text);

// Reads and parses `path`. Errors: kNotFound if it cannot be opened; as ParseDcepConfig.
Result<DcepConfig> LoadDcepConfig(const std::filesystem::path& path);

// seed/dcep.json in the source tree, or ./seed/dcep.json. Errors: kNotFound.
Result<std::filesystem::path> DefaultDcepConfigPath();

}  // namespace tapstack::dcep
