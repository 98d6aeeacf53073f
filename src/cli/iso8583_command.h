// `tapstack iso8583 pack|unpack`: the ISO 8583 codec on the command line.
//   pack   --profile P [--frame none|2byte|4ascii]       JSON on stdin → hex on stdout
//   unpack --profile P [--frame none|2byte|4ascii] HEX   hex → JSON on stdout
// JSON: {"mti":"0100","fields":{"2":"…","55":"<hex>"}} (binary fields as uppercase hex).
// Bad input exits 2 with one line naming the field, offset and reason.
#pragma once

#include <CLI/CLI.hpp>

namespace tapstack::cli {

void RegisterIso8583Command(CLI::App& app);

}  // namespace tapstack::cli
