// `weir tap STAGE [--limit N] [--when COND] [--metrics ADDR]`: a sample of the
// messages leaving a stage of a running pipeline, as JSON lines on standard
// output (the stdout sink's `format: json`), through the pipeline's
// `weir run --metrics` address. Copies the tap's buffer had to drop are
// counted on standard error.

#include "command.hpp"
#include "metrics_client.hpp"

#include <weir/condition.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <iostream>
#include <memory>

namespace weir::cli {
namespace {

struct TapOptions {
  std::string stage;
  std::uint64_t limit = 0;
  std::string when;
  std::string metrics{default_metrics_address};
};

constexpr std::string_view dropped_prefix = "# dropped ";

int tap(const TapOptions& options) {
  Endpoint endpoint;
  try {
    endpoint = parse_endpoint(options.metrics);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << '\n';
    return exit_bad_input;
  }
  // Checked here first, so a mistake is shown with its place before anything
  // is asked of the pipeline.
  if (!options.when.empty()) {
    try {
      Condition::parse(options.when);
    } catch (const ConditionError& e) {
      std::cerr << fmt::format("error: --when: column {}: {}\n  {}\n  {:>{}}\n", e.column(), e.what(), options.when,
                               "^", e.column());
      return exit_bad_input;
    }
  }
  std::string target = "/tap?stage=" + url_encoded(options.stage);
  if (options.limit) target += fmt::format("&limit={}", options.limit);
  if (!options.when.empty()) target += "&when=" + url_encoded(options.when);
  std::uint64_t printed = 0;
  std::string dropped;
  HttpAnswer answer;
  try {
    answer = http_get_lines(endpoint, target, [&](std::string_view line) {
      if (line.substr(0, dropped_prefix.size()) == dropped_prefix) {
        dropped = line.substr(dropped_prefix.size());
        return true;
      }
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
      return options.limit == 0 || ++printed < options.limit;
    });
  } catch (const Unreachable& e) {
    std::cerr << "error: " << e.what() << '\n';
    return exit_failed_run;
  }
  if (answer.status == 404 || answer.status == 400) {
    std::cerr << "error: " << answer.body;
    return exit_bad_input;
  }
  if (answer.status != 200) {
    std::cerr << fmt::format("error: {} answered {}: {}", options.metrics, answer.status, answer.body);
    return exit_failed_run;
  }
  if (!dropped.empty())
    std::cerr << fmt::format("weir tap: {} copies dropped (the tap's buffer was full; the stage did not wait)\n",
                             dropped);
  if (options.limit && printed < options.limit) {
    std::cerr << fmt::format("weir tap: the stream ended after {} of {} messages (the pipeline stopped)\n", printed,
                             options.limit);
    return exit_failed_run;
  }
  return exit_ok;
}

std::pair<CLI::App*, Runner> setup(CLI::App& app) {
  auto options = std::make_shared<TapOptions>();
  auto* command = app.add_subcommand(
      "tap", "Print the messages leaving a stage of a running pipeline as JSON lines (through its --metrics address)");
  command->add_option("stage", options->stage, "The stage whose outputs (a sink: whose inputs) to show")->required();
  command->add_option("--limit", options->limit, "Stop after N messages (0: until the pipeline ends or Ctrl-C)");
  command->add_option("--when", options->when, "Only messages this condition matches (the `when:` language)");
  command->add_option("--metrics", options->metrics, "The pipeline's `weir run --metrics` address")
      ->capture_default_str();
  return {command, [options] { return tap(*options); }};
}

const Registrar registrar{12, &setup};

}  // namespace
}  // namespace weir::cli
