// The weir command: global options, then the subcommand that registered
// itself from its own file in this folder (see command.hpp).

#include "command.hpp"
#include "log_format.hpp"
#include "signals.hpp"

#include <weir/diagnostics.hpp>
#include <weir/logging.hpp>
#include <weir/pipeline.hpp>
#include <weir/registry.hpp>
#include <weir/version.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <vector>

namespace weir::cli {

namespace {
std::vector<std::pair<int, Setup>>& registered() {
  static std::vector<std::pair<int, Setup>> commands;
  return commands;
}
}  // namespace

void register_command(int order, Setup setup) { registered().emplace_back(order, setup); }

namespace {
// SIGINT, SIGTERM and SIGHUP are blocked before any of weir's own code runs, even
// before the constructors of the libraries it links: a Ctrl-C while `weir run`
// loads its pipeline stays pending until the run's signal thread takes it
// (and drains), instead of killing the process with no report. Only the
// dynamic loader's mapping of the libraries comes earlier. Other commands
// unblock them once the command line is parsed (see main), so a pending
// signal ends them the ordinary way.
void block_stop_signals(int, char**, char**) {
  const sigset_t set = stop_and_reload_signals();
  sigprocmask(SIG_BLOCK, &set, nullptr);
}
__attribute__((section(".preinit_array"), used)) void (*const block_stop_signals_first)(int, char**, char**) =
    &block_stop_signals;
}  // namespace

}  // namespace weir::cli

int main(int argc, char** argv) {
  using namespace weir::cli;
  CLI::App app{"weir: data pipelines over lock-free bounded channels", "weir"};
  app.set_version_flag("--version", "weir " WEIR_VERSION_STRING);
  app.require_subcommand(0, 1);
  app.fallthrough();

  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  std::string log_format = "text";
  app.add_option("--log-format", log_format, "text, or json: one JSON object per log record")
      ->check(CLI::IsMember(log_formats))
      ->capture_default_str();

  auto commands = registered();
  std::sort(commands.begin(), commands.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<std::pair<CLI::App*, Runner>> runners;
  for (const auto& [order, setup] : commands) runners.push_back(setup(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 returns 0 for --help / --version and 100+ for errors; the contract says 2.
    return app.exit(e) == 0 ? exit_ok : exit_bad_input;
  }
  if (!app.got_subcommand("run")) {
    const sigset_t set = stop_and_reload_signals();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
  // Logs go to stderr: stdout carries only what a command prints (`--report -`
  // writes the JSON alone there).
  spdlog::set_default_logger(spdlog::stderr_color_mt("weir"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  set_log_format(log_format);
  spdlog::default_logger()->set_formatter(make_log_formatter());
  weir::set_logger(spdlog::default_logger());  // the runtime's and the stages' lines too

  for (const auto& [command, run] : runners) {
    if (!command->parsed()) continue;
    try {
      return run();
    } catch (const weir::ConfigError& e) {
      std::cerr << e.what() << '\n';
      return exit_bad_input;
    } catch (const weir::PluginError& e) {
      // May quote user text (a stage's option): one safe line, as diagnostics are.
      std::cerr << "error: " << weir::printable(e.what()) << '\n';
      return exit_bad_input;
    } catch (const weir::StartError& e) {
      std::cerr << "error: " << e.what() << '\n';
      return exit_bad_input;
    } catch (const std::exception& e) {
      std::cerr << "error: " << weir::printable(e.what()) << '\n';
      return exit_failed_run;
    }
  }
  std::cout << app.help();
  return exit_ok;
}
