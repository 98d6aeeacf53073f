// The seeded demo network (seed/demo_network.json): fictional banks with BIN ranges, merchants in
// several countries and demo FX rates, plus deterministic card numbers inside each bank's ranges,
// so issuers, load generators and tests agree on the cards without any role exposing a PAN.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/currency.h"
#include "core/status.h"

namespace tapstack::demo {

enum class CardKind { kCredit, kDebit };

struct DemoBinRange {
  std::string low;
  std::string high;
};

struct StandInSeed {
  bool approve_within_limits = true;
  std::int64_t per_transaction_limit_minor = 50'000;
};

struct DemoBank {
  std::string institution_id;  // 8 digits, DE32/DE100
  std::string name;
  std::string short_name;
  std::string country;         // ISO 3166 alpha-2
  const Currency* currency = nullptr;
  std::vector<DemoBinRange> credit_bins;
  std::vector<DemoBinRange> debit_bins;
  int cardholders = 0;         // per card kind the bank issues
  StandInSeed stand_in;
  // The bank's answer to token-provisioning ID&V for a card that passes its checks:
  // "step_up" (an OTP, the default), "approve" or "decline" (issuer/identity_verification.h).
  std::string idv_decision = "step_up";
};

struct DemoMerchant {
  std::string merchant_id;     // DE42, 15 characters
  std::string terminal_id;     // DE41, 8 characters
  std::string name;
  std::string city;
  std::string country;         // ISO 3166 alpha-2
  const Currency* currency = nullptr;
  std::string mcc;             // DE18
  std::string acquirer_id;     // DE32
};

struct DemoFxRate {
  std::string from, to, rate;
};

// A token BIN range of the network's TSP (tokens are Luhn-valid numbers in it, never a PAN).
struct DemoTokenRange {
  std::string low;      // 8 digits
  std::string high;     // 8 digits
  std::string profile;  // emv/cryptogram_profile.h name of the tokens' cryptograms
};

struct DemoTokenRequestor {
  std::string id;    // Token Requestor ID, 11 digits
  std::string name;
};

// The network's token service provider (seed "tsp").
struct DemoTsp {
  std::string institution_id;  // DE32 of the TSP's own requests (ID&V)
  std::string par_bin_prefix;  // 4 characters, the PAR's BIN controller prefix
  std::vector<DemoTokenRange> token_ranges;
  std::vector<DemoTokenRequestor> requestors;
};

struct DemoNetwork {
  std::string network_institution_id;
  std::string fx_source;
  std::string fx_business_date;
  std::vector<DemoBank> banks;
  std::vector<DemoMerchant> merchants;
  std::vector<DemoFxRate> fx_rates;
  DemoTsp tsp;

  const DemoBank* BankById(std::string_view institution_id) const;
  // The bank whose BIN ranges hold the card number's first 8 digits, or nullptr.
  const DemoBank* BankForPan(std::string_view pan) const;
};

// Parses the seed JSON. Errors name the entry and field that is wrong.
Result<DemoNetwork> ParseDemoNetwork(std::string_view json_text);
Result<DemoNetwork> LoadDemoNetwork(const std::filesystem::path& path);

// The seed file shipped with tapstack (seed/demo_network.json in the source tree, or next to the
// installed binary). Errors: kNotFound.
Result<std::filesystem::path> DefaultSeedPath();

// Card number `index` (0-based, < cardholders) of `kind` at `bank`: the first range's low bound,
// the index as 7 digits, and the Luhn check digit (16 digits). Errors: the bank does not issue
// that kind, or index out of range.
Result<std::string> DemoCardNumber(const DemoBank& bank, CardKind kind, int index);

// Demo cards expire in December 2029 ("2912", YYMM as in DE14).
inline constexpr char kDemoCardExpiry[] = "2912";

}  // namespace tapstack::demo
