// `tapstack demo`: the wallet story end to end against a started `tapstack serve`, printed step by
// step. It plays the user's phone and watch (each a secure element emulator with its own key pair,
// under --device-dir), the wallet app (JSON over HTTP to the wallet API), and a POS terminal at a
// Beijing merchant (the contactless kernel over APDUs to the device, ISO 8583 over TCP to the
// switch). The OTP is read from the TSP's SMS outbox, as a user would read the SMS.
//
// `tapstack demo transit` plays the transit story (issue #6) the same way: a phone with a bound
// bank card opens a city's transit card through the operator's API (/v1/transit/{city}), tops it
// up with an in-app token payment, rides through a metro entry and exit gate and a bus validator
// that run in this process (transit::Validator, offline, each with its PSAM and file under
// --device-dir) and are tapped through the phone's contactless field, recovers a torn exit tap,
// uploads the rides, loses the phone (blacklist, blocked at the gate) and moves the card to a new
// phone with the balance the operator cleared, then prints the cards' logs.
//
// `tapstack demo dcep` plays the digital-currency story (issue #7) in this process on a fresh data
// directory (server/dcep_story.h): issuance, wallets, online and interbank payments, two watches
// paying offline and syncing, a cloned watch caught, a prepaid class package, the audit.
//
// Exit code 0 when every step ended as the story expects, 1 when one did not (the step says what
// it expected and what happened), 2 for bad options or a server that cannot be reached.
#pragma once

#include <CLI/CLI.hpp>

namespace tapstack::cli {

void RegisterDemoCommand(CLI::App& app);

}  // namespace tapstack::cli
