// `tapstack serve`: starts the demo network in one process on the embedded store.
#pragma once

#include <CLI/CLI.hpp>

namespace tapstack::cli {

void RegisterServeCommand(CLI::App& app);

}  // namespace tapstack::cli
