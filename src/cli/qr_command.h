// `tapstack qr ...`: EMVCo QR payloads on the command line.
//
//   tapstack qr decode PAYLOAD   merchant-presented text or consumer-presented base64 (told apart
//                                automatically, see qr::DetectQrMode); prints the JSON view of
//                                qr/qr_json.h on stdout. Exit 0 when valid; when invalid the JSON
//                                (with "errors") is still printed and ExitWithCode(1) is thrown.
//   tapstack qr encode [--no-validate]
//                                reads JSON from stdin (an MPM object tree, or {"mode": "cpm",
//                                ...}) and prints the payload with its CRC computed. Bad JSON or
//                                an invalid tree is a UsageError (exit 2).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/usage_error.h"

namespace tapstack::cli {

void RegisterQrCommand(CLI::App& app);

}  // namespace tapstack::cli
