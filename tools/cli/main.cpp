// The weir command: parses the command line and hands each subcommand to its
// own file in this folder.

#include <weir/version.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/cfg/helpers.h>
#include <spdlog/spdlog.h>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"weir: data pipelines over lock-free bounded channels", "weir"};
  app.set_version_flag("--version", "weir " WEIR_VERSION_STRING);
  app.require_subcommand(0, 1);

  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 exits 0 for --help / --version and 106+ for errors; the contract says 2.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return 0;
  }
  return 0;
}
