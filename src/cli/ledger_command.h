// `tapstack ledger audit --data-dir DIR [--name NAME]`: opens a ledger read-only, replays its log,
// runs every invariant check (ledger/audit.h) and re-reads the log into a second state to compare,
// then prints a summary per currency and "audit: ok" or the violation.
// Exit codes: 0 ok; 1 a violation, or the ledger could not be opened (damaged log, open in a
// read-write process, missing); 2 bad command line.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <ostream>
#include <string>

namespace tapstack::cli {

void RegisterLedgerCommand(CLI::App& app);

// The audit itself: the summary goes to `out`, a one-line error (no newline) to `err`; returns the
// exit code (kExitOk or kExitFailure).
int RunLedgerAudit(const std::filesystem::path& data_dir, const std::string& name,
                   std::ostream& out, std::ostream& err);

}  // namespace tapstack::cli
