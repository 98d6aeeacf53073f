// The `tapstack` command: one binary for every role and tool.
#include <cstdio>
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/bench_command.h"
#include "cli/crypto_command.h"
#include "cli/demo_command.h"
#include "cli/emv_command.h"
#include "cli/iso8583_command.h"
#include "cli/ledger_command.h"
#include "cli/qr_command.h"
#include "cli/serve_command.h"
#include "cli/sim_command.h"
#include "cli/usage_error.h"

int main(int argc, char** argv) {
  CLI::App app{"tapstack: mobile payments platform (wallet, TSP, network, issuers, transit, "
               "digital currency)",
               "tapstack"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tapstack 0.1.0");
  tapstack::cli::RegisterServeCommand(app);
  tapstack::cli::RegisterDemoCommand(app);
  tapstack::cli::RegisterCryptoCommand(app);
  tapstack::cli::RegisterEmvCommand(app);
  tapstack::cli::RegisterIso8583Command(app);
  tapstack::cli::RegisterLedgerCommand(app);
  tapstack::cli::RegisterQrCommand(app);
  tapstack::cli::RegisterBenchCommand(app);
  tapstack::cli::RegisterSimCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "tapstack: " << e.what() << "\n";
    return tapstack::cli::kExitUsage;
  } catch (const tapstack::cli::ExitWithCode& e) {
    std::fflush(stdout);
    return e.code();
  } catch (const tapstack::cli::UsageError& e) {
    std::cerr << "tapstack: " << e.what() << "\n";
    return tapstack::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "tapstack: " << e.what() << "\n";
    return tapstack::cli::kExitFailure;
  }
  std::fflush(stdout);
  return tapstack::cli::kExitOk;
}
