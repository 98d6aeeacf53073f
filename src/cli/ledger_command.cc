#include "cli/ledger_command.h"

#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "cli/usage_error.h"
#include "core/currency.h"
#include "ledger/audit.h"
#include "ledger/ledger.h"

namespace tapstack::cli {

namespace {

struct LedgerAuditOptions {
  std::string data_dir;
  std::string name = "ledger";
};

// "CNY (156)" for a known ISO 4217 code, else "ledger 70001".
std::string LedgerLabel(std::uint32_t ledger, const Currency** currency) {
  *currency = nullptr;
  if (ledger <= 0xFFFF) {
    auto found = CurrencyByNumeric(static_cast<std::uint16_t>(ledger));
    if (found.ok()) {
      *currency = *found;
      return std::string((*found)->alpha) + " (" + std::to_string(ledger) + ")";
    }
  }
  return "ledger " + std::to_string(ledger);
}

// Minor units as a decimal amount of `currency`: "12345" → "123.45".
std::string Decimal(const std::string& minor_units, const Currency* currency) {
  if (currency == nullptr || currency->exponent <= 0) return minor_units;
  const auto exponent = static_cast<std::size_t>(currency->exponent);
  std::string digits = minor_units;
  if (digits.size() <= exponent) digits.insert(0, exponent + 1 - digits.size(), '0');
  digits.insert(digits.size() - exponent, ".");
  return digits;
}

std::string Total(const ledger::Total128& total, const Currency* currency) {
  const std::string minor = total.ToDecimal();
  if (currency == nullptr) return minor;
  return minor + " (" + Decimal(minor, currency) + " " + std::string(currency->alpha) + ")";
}

}  // namespace

int RunLedgerAudit(const std::filesystem::path& data_dir, const std::string& name,
                   std::ostream& out, std::ostream& err) {
  ledger::LedgerOptions options;
  options.data_dir = data_dir;
  options.name = name;
  options.read_only = true;
  auto opened = ledger::Ledger::Open(options);
  if (!opened.ok()) {
    err << "ledger audit: " << opened.status().ToString();
    return kExitFailure;
  }
  ledger::Ledger& ledger = **opened;
  const ledger::RecoveryReport& recovery = ledger.recovery();
  ledger::AuditReport report;
  const Status status = ledger.Audit(&report, /*verify_log=*/true);

  out << "ledger " << ledger.path().string() << ": " << report.accounts << " accounts, "
      << report.transfers << " transfers, " << report.failures << " remembered failures\n";
  out << "log: " << recovery.groups << " groups, " << recovery.batches << " batches, "
      << recovery.end_offset << " bytes";
  if (recovery.torn_tail) {
    out << "; a torn last group (" << recovery.torn_tail_bytes << " bytes at offset "
        << recovery.torn_tail_offset << ", never acknowledged) is ignored";
  }
  out << "\n";
  for (const ledger::LedgerTotals& totals : report.ledgers) {
    const Currency* currency = nullptr;
    out << LedgerLabel(totals.ledger, &currency) << ": " << totals.accounts << " accounts, "
        << totals.transfers << " transfers, " << totals.holds_pending << " holds pending\n";
    out << "  debits_posted  " << Total(totals.debits_posted, currency) << "\n";
    out << "  credits_posted " << Total(totals.credits_posted, currency) << "\n";
    out << "  debits_pending  " << Total(totals.debits_pending, currency) << "\n";
    out << "  credits_pending " << Total(totals.credits_pending, currency) << "\n";
  }
  if (!status.ok()) {
    out << "audit: FAILED: " << status.message() << "\n";
    err << "ledger audit: invariant violated: " << status.message();
    return kExitFailure;
  }
  out << "audit: ok\n";
  return kExitOk;
}

void RegisterLedgerCommand(CLI::App& app) {
  auto opts = std::make_shared<LedgerAuditOptions>();
  CLI::App* ledger = app.add_subcommand("ledger", "Double-entry ledger tools");
  ledger->require_subcommand(1);
  CLI::App* audit = ledger->add_subcommand(
      "audit", "Replay a ledger read-only, check every invariant, print totals per currency");
  audit->add_option("--data-dir", opts->data_dir, "Directory holding <name>.wal")->required();
  audit->add_option("--name", opts->name, "Ledger name (default: ledger)");
  audit->callback([opts] {
    std::ostringstream err;
    const int code = RunLedgerAudit(opts->data_dir, opts->name, std::cout, err);
    std::cout.flush();
    // main() prints the message as one line on stderr and exits 1.
    if (code != kExitOk) throw std::runtime_error(err.str());
  });
}

}  // namespace tapstack::cli
