// `tapstack emv ...`: the EMV codec and cryptogram tools over src/emv.
//
//   tapstack emv tlv HEX                       decoded BER-TLV tree as JSON
//   tapstack emv dol --dol HEX --tags JSON     DOL data (hex) from tag values
//   tapstack emv apdu HEX [--response]         a C-APDU (or R-APDU) as JSON
//   tapstack emv arqc --profile NAME --imk K --pan P --psn NN --atc ATC --un UN --tags JSON
//                     [--iad HEX] [--arc HEX | --csu HEX [--pad HEX]]
//                                              ARQC (and ARPC) as JSON
//   tapstack emv profiles                      the cryptogram profiles as JSON
//
// Bad input throws cli::UsageError (exit 2, one line naming the option); an OpenSSL failure
// throws std::runtime_error (exit 1).
#pragma once

#include <CLI/CLI.hpp>

namespace tapstack::cli {

void RegisterEmvCommand(CLI::App& app);

}  // namespace tapstack::cli
