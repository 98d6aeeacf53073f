#include "server/console_journal.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

namespace tapstack::server {

namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "622202******0015": what network::MaskCardNumber makes of a 12-19 digit number.
bool IsMaskedCardNumber(std::string_view s) {
  if (s.size() < 12 || s.size() > 19) return false;
  const std::string_view stars = s.substr(6, s.size() - 10);
  return AllDigits(s.substr(0, 6)) && AllDigits(s.substr(s.size() - 4)) &&
         std::all_of(stars.begin(), stars.end(), [](char c) { return c == '*'; });
}

using Key = std::tuple<std::string, std::string, std::string>;  // DE11, DE7, DE41

struct Fields {
  std::string stan, time, terminal, amount, currency;
};

Fields FieldsOf(const network::JournalEntry& e) {
  Fields f;
  const nlohmann::json j = nlohmann::json::parse(e.message_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("fields") || !j["fields"].is_object()) return f;
  const nlohmann::json& fields = j["fields"];
  auto get = [&fields](const char* n) {
    return fields.contains(n) && fields[n].is_string() ? fields[n].get<std::string>() : std::string();
  };
  f.stan = get("11");
  f.time = get("7");
  f.terminal = get("41");
  f.amount = get("4");
  f.currency = get("49");
  return f;
}

}  // namespace

Status ValidateJournalSearch(const JournalSearch& search) {
  if (search.masked_pan.empty() == search.last4.empty()) {
    return InvalidArgument("masked_pan: give either masked_pan (e.g. 622202******0015) or last4");
  }
  if (!search.masked_pan.empty() && !IsMaskedCardNumber(search.masked_pan)) {
    return InvalidArgument(
        "masked_pan: expected the first 6 and last 4 digits with * between (e.g. "
        "622202******0015); a full card number is never accepted");
  }
  if (!search.last4.empty() && !(search.last4.size() == 4 && AllDigits(search.last4))) {
    return InvalidArgument("last4: expected 4 digits");
  }
  if (search.limit < 1 || search.limit > kConsoleTransactionsMax) {
    return InvalidArgument("limit: expected 1 to " + std::to_string(kConsoleTransactionsMax));
  }
  return Status::Ok();
}

std::vector<JournalTransaction> GroupJournal(std::vector<network::JournalEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.entry_id < b.entry_id; });
  std::map<Key, JournalTransaction> groups;
  for (network::JournalEntry& e : entries) {
    const Fields f = FieldsOf(e);
    if (f.stan.empty()) continue;
    JournalTransaction& t = groups[{f.stan, f.time, f.terminal}];
    if (t.messages.empty()) {
      t.stan = f.stan;
      t.transmission_time = f.time;
      t.terminal_id = f.terminal;
      t.first_unix_ms = e.unix_ms;
    }
    const bool from_acquirer = e.peer == "acquirer" && e.direction == "in";
    if (from_acquirer && t.mti.empty()) {
      t.mti = e.mti;
      t.masked_pan = e.masked_pan;
      t.amount_minor = f.amount;
      t.currency = f.currency;
    }
    if (e.peer == "acquirer" && e.direction == "out") t.response_code = e.response_code;
    t.last_unix_ms = std::max(t.last_unix_ms, e.unix_ms);
    t.messages.push_back(std::move(e));
  }
  std::vector<JournalTransaction> out;
  out.reserve(groups.size());
  for (auto& [key, t] : groups) out.push_back(std::move(t));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.messages.back().entry_id > b.messages.back().entry_id;
  });
  return out;
}

Result<std::vector<JournalTransaction>> SearchJournal(network::Switch& network,
                                                      const JournalSearch& search) {
  TS_RETURN_IF_ERROR(ValidateJournalSearch(search));
  network::JournalQuery by_card;
  by_card.masked_pan = search.masked_pan;
  by_card.pan_last4 = search.last4;
  by_card.rows_max = std::min(network::kJournalQueryRowsMax, search.limit * kJournalRowsPerTransaction);
  TS_ASSIGN_OR_RETURN(std::vector<network::JournalEntry> matched, network.JournalEntries(by_card));

  // The transactions the matching rows belong to, newest first, at most `limit`.
  std::vector<JournalTransaction> found = GroupJournal(matched);
  if (found.size() > search.limit) found.resize(search.limit);
  std::set<Key> keys;
  std::set<std::string> stans;
  std::set<std::int64_t> seen;
  for (const JournalTransaction& t : found) {
    keys.insert({t.stan, t.transmission_time, t.terminal_id});
    stans.insert(t.stan);
    for (const auto& m : t.messages) seen.insert(m.entry_id);
  }
  if (stans.empty()) return found;

  // Their other legs (the other side's DE2, answers without DE2), by STAN, kept when the key matches.
  network::JournalQuery by_stan;
  by_stan.stans.assign(stans.begin(), stans.end());
  by_stan.rows_max = network::kJournalQueryRowsMax;
  TS_ASSIGN_OR_RETURN(std::vector<network::JournalEntry> legs, network.JournalEntries(by_stan));
  std::vector<network::JournalEntry> all;
  for (const JournalTransaction& t : found) all.insert(all.end(), t.messages.begin(), t.messages.end());
  for (network::JournalEntry& e : legs) {
    if (seen.contains(e.entry_id)) continue;
    const Fields f = FieldsOf(e);
    if (keys.contains(Key{f.stan, f.time, f.terminal})) all.push_back(std::move(e));
  }
  std::vector<JournalTransaction> out = GroupJournal(std::move(all));
  if (out.size() > search.limit) out.resize(search.limit);
  return out;
}

}  // namespace tapstack::server
