// `tapstack demo`: the wallet story end to end against a started `tapstack serve`, printed step by
// step. It plays the user's phone and watch (each a secure element emulator with its own key pair,
// under --device-dir), the wallet app (JSON over HTTP to the wallet API), and a POS terminal at a
// Beijing merchant (the contactless kernel over APDUs to the device, ISO 8583 over TCP to the
// switch). The OTP is read from the TSP's SMS outbox, as a user would read the SMS.
//
// Exit code 0 when every step ended as the story expects, 1 when one did not (the step says what
// it expected and what happened), 2 for bad options or a server that cannot be reached.
#pragma once

#include <CLI/CLI.hpp>

namespace tapstack::cli {

void RegisterDemoCommand(CLI::App& app);

}  // namespace tapstack::cli
