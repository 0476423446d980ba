#pragma once
// Each subcommand of `weir` lives in its own file in tools/cli/ and registers
// itself with one line:
//   static const weir::cli::Registrar registrar{30, &setup_validate};
// `setup` adds the subcommand to the app and returns the function that runs it
// once the command line is parsed. Exceptions it lets escape are reported by
// main: ConfigError and PluginError give exit code 2.

#include <CLI/CLI.hpp>

#include <functional>

namespace weir::cli {

using Runner = std::function<int()>;
using Setup = std::pair<CLI::App*, Runner> (*)(CLI::App& app);

// Exit codes of the contract.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed_run = 1;
inline constexpr int exit_bad_input = 2;

void register_command(int order, Setup setup);

struct Registrar {
  Registrar(int order, Setup setup) { register_command(order, setup); }
};

}  // namespace weir::cli
