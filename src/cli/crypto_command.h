// `tapstack crypto ...`: the payment crypto calculator (KCV, Luhn, key derivation, MACs,
// cryptograms, ciphers, hashes). Results print as uppercase hex on stdout; bad input throws
// cli::UsageError (exit 2, one line on stderr).
#pragma once

#include <CLI/CLI.hpp>

namespace tapstack::cli {

void RegisterCryptoCommand(CLI::App& app);

}  // namespace tapstack::cli
