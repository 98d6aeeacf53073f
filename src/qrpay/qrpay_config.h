// The wallet payment platforms' reference data (seed/qrpay.json): each platform's home currency
// and verification levels, the merchants each acquires, tax refund operators, the FX markup and
// the limits on foreign cards bound by visitors. Every platform process loads the same file.
//
// File shape (every member required unless marked optional; unknown members are refused):
//   {"note": str (optional), "sources": [str] (optional),
//    "markup_bps": int 0-10000            the platform's FX markup on cross-border payments
//    "quote_validity_seconds": int 1-3600 how long a quote shown to the payer can be paid
//    "platforms": [{"id": "tapstack-cn", "name": str, "currency": "CNY", "country": "CN",
//                   "utc_offset_minutes": int (-720..840; the day daily limits count in),
//                   "levels": [{"level": 1-3, "verified_with": str, "daily_max_minor": int ≥ 0,
//                               "yearly_max_minor": int ≥ 0, "balance_max_minor": int ≥ 0}]}]
//                  (levels: exactly 1, 2 and 3; minor units of the platform's currency;
//                   0 = unlimited)
//    "merchants": [{"platform", "id", "name", "city", "country", "currency", "mcc"}]
//                  (qrpay::MerchantProfile's rules: merchant_qr.h)
//    "refund_operators": [{"platform", "id": [a-z0-9-] 1-32, "name", "prefund_minor": int ≥ 0}]
//    "agents" (optional, none when absent): [{"platform", "id": [a-z0-9-] 1-32, "name",
//                  "prefund_minor": int ≥ 0}]   cash-in agents (Easypaisa-style shops where a
//                  user pays cash onto the balance) and their prefunded float, home currency
//    "visitor_cards": {"home_country": "CN", "per_transaction_max_usd_minor": int ≥ 0,
//                      "yearly_max_usd_minor": int ≥ 0, "fee_free_up_to_minor": int ≥ 0 (home
//                      currency), "fee_bps": int 0-10000}}
//
// Pure functions of their input; the config is immutable after parsing, so thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/currency.h"
#include "core/status.h"
#include "qrpay/merchant_qr.h"

namespace tapstack::qrpay {

inline constexpr int kLevelLowest = 1;   // phone only
inline constexpr int kLevelHighest = 3;  // ID + bank card
inline constexpr std::size_t kPlatformsMax = 64;
inline constexpr std::size_t kQrMerchantsMax = 100'000;
inline constexpr std::size_t kRefundOperatorsMax = 64;
inline constexpr std::size_t kRefundOperatorIdBytesMax = 32;
inline constexpr std::size_t kAgentsMax = 10'000;
inline constexpr std::size_t kAgentIdBytesMax = 32;
inline constexpr std::size_t kDisplayNameBytesMax = 128;
inline constexpr std::int64_t kBasisPointsMax = 10'000;
inline constexpr std::int64_t kQuoteValiditySeconds = 120;  // default: how long a quote holds
inline constexpr std::int64_t kQuoteValiditySecondsMax = 3'600;

struct LevelLimits {
  int level = kLevelLowest;
  std::string verified_with;
  // Minor units of the platform's currency; 0 = unlimited.
  std::int64_t daily_max_minor = 0;    // outgoing payments per local day
  std::int64_t yearly_max_minor = 0;   // outgoing payments per local calendar year
  std::int64_t balance_max_minor = 0;  // the balance after a credit (top-up, tax refund)
};

struct PlatformInfo {
  std::string id;  // MerchantProfile::platform_id's rule
  std::string name;
  const Currency* currency = nullptr;  // home currency: balances and limits
  std::string country;
  std::int64_t utc_offset_minutes = 0;
  std::vector<LevelLimits> levels;  // levels 1, 2, 3 in order
};

struct RefundOperatorInfo {
  std::string platform_id;
  std::string id;
  std::string name;
  std::int64_t prefund_minor = 0;  // the platform's currency, credited at open (once)
};

// A cash-in agent: takes cash over the counter and credits the user's balance from its float.
struct AgentInfo {
  std::string platform_id;
  std::string id;
  std::string name;
  std::int64_t prefund_minor = 0;  // the platform's currency, credited at open (once)
};

struct VisitorCardRules {
  std::string home_country = "CN";  // a card issued elsewhere is a visitor's card
  std::int64_t per_transaction_max_usd_minor = 500'000;  // USD 5,000
  std::int64_t yearly_max_usd_minor = 5'000'000;         // USD 50,000
  std::int64_t fee_free_up_to_minor = 20'000;            // CNY 200, in the home currency
  std::int64_t fee_bps = 300;                            // 3% of a payment above that
};

struct QrpayConfig {
  std::int64_t markup_bps = 100;
  std::int64_t quote_validity_seconds = kQuoteValiditySeconds;
  std::vector<PlatformInfo> platforms;
  std::vector<MerchantProfile> merchants;
  std::vector<RefundOperatorInfo> refund_operators;
  std::vector<AgentInfo> agents;
  VisitorCardRules visitor_cards;

  // Look-ups; kNotFound naming the id.
  Result<const PlatformInfo*> Platform(std::string_view id) const;
  Result<const MerchantProfile*> Merchant(std::string_view merchant_id) const;
  Result<const RefundOperatorInfo*> RefundOperator(std::string_view id) const;
  Result<const AgentInfo*> Agent(std::string_view id) const;
  Result<const LevelLimits*> Level(std::string_view platform_id, int level) const;
};

// Parses the whole file. Errors (kInvalidArgument) name the member, e.g.
// "platforms[0].levels[1].daily_max_minor: expected an integer >= 0"; also a duplicate id, a
// merchant, operator or agent of an unknown platform, a level missing or listed twice, a merchant
// the QR rules refuse (checked by making its static code).
Result<QrpayConfig> ParseQrpayConfig(std::string_view json_text);

// Reads and parses `path`. Errors: kNotFound if it cannot be opened; as ParseQrpayConfig.
Result<QrpayConfig> LoadQrpayConfig(const std::filesystem::path& path);

}  // namespace tapstack::qrpay
