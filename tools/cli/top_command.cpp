// `weir top [ADDRESS] [--once] [--interval SECONDS]`: the live view of a
// pipeline that runs elsewhere (another shell, a service), read from its
// `weir run --metrics` address: the frame `weir run` draws on its own
// terminal, redrawn in place every interval. Not on a terminal, one frame per
// interval is printed (--once: one, with rates over one interval).

#include "command.hpp"
#include "live_view.hpp"
#include "metrics_client.hpp"
#include "signals.hpp"
#include "terminal.hpp"

#include <weir/report.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <pthread.h>
#include <unistd.h>

namespace weir::cli {
namespace {

struct TopOptions {
  std::string address;
  std::string metrics;
  double interval_s = 1.0;
  bool once = false;
};

RunReport fetch(const Endpoint& endpoint, const std::string& address) {
  const HttpAnswer answer = http_get(endpoint, "/report");
  if (answer.status != 200)
    throw Unreachable(fmt::format("{} answered {} for /report: is it `weir run --metrics`?", address, answer.status));
  try {
    return RunReport::from_json(answer.body);
  } catch (const std::invalid_argument& e) {
    throw Unreachable(fmt::format("{} /report: {}", address, e.what()));
  }
}

int top(const TopOptions& options) {
  if (!options.address.empty() && !options.metrics.empty() && options.address != options.metrics) {
    std::cerr << "error: give the address once: ADDRESS or --metrics ADDRESS\n";
    return exit_bad_input;
  }
  const std::string address = !options.address.empty() ? options.address
                              : !options.metrics.empty() ? options.metrics
                                                         : std::string(default_metrics_address);
  Endpoint endpoint;
  try {
    endpoint = parse_endpoint(address);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << '\n';
    return exit_bad_input;
  }
  if (!(options.interval_s >= 0.05 && options.interval_s <= 3600)) {
    std::cerr << "error: --interval: from 0.05 to 3600 seconds\n";
    return exit_bad_input;
  }
  // Ctrl-C ends the wait between frames: taken with sigtimedwait, which is
  // also the timed wait itself.
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const auto interval = std::chrono::duration<double>(options.interval_s);
  const auto wait_interval = [&] {  // false: a signal asked us to end
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(interval).count();
    const timespec timeout{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    return sigtimedwait(&signals, nullptr, &timeout) < 0;
  };

  const bool terminal = isatty(STDOUT_FILENO);
  RunReport previous;
  auto previous_time = std::chrono::steady_clock::now();
  try {
    previous = fetch(endpoint, address);
  } catch (const Unreachable& e) {
    std::cerr << "error: " << e.what() << '\n';
    return exit_failed_run;
  }
  int lines_drawn = 0;
  const auto draw = [&](const RunReport& now, const RunReport& before, double seconds) {
    std::string body = render_live_frame(now, before, seconds, terminal_width(stdout));
    std::string out = terminal ? erase_frame(lines_drawn) + body : body + '\n';
    lines_drawn = static_cast<int>(std::count(body.begin(), body.end(), '\n'));
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  };
  if (!options.once) draw(previous, RunReport{}, 0);
  for (;;) {
    if (previous.status != RunStatus::running) return exit_ok;  // the run has ended: its last frame is shown
    if (!wait_interval()) return exit_ok;
    RunReport now;
    try {
      now = fetch(endpoint, address);
    } catch (const Unreachable&) {
      // The server stops when the run ends.
      std::cerr << fmt::format("weir top: the pipeline at {} has gone (its run ended)\n", address);
      return exit_ok;
    }
    const auto time = std::chrono::steady_clock::now();
    draw(now, previous, std::chrono::duration<double>(time - previous_time).count());
    if (options.once) return exit_ok;
    previous = std::move(now);
    previous_time = time;
  }
}

std::pair<CLI::App*, Runner> setup(CLI::App& app) {
  auto options = std::make_shared<TopOptions>();
  auto* command = app.add_subcommand(
      "top", "Show the live view of a pipeline running elsewhere, through its `weir run --metrics` address");
  command->add_option("address", options->address,
                      fmt::format("The pipeline's --metrics HOST:PORT (default {})", default_metrics_address));
  command->add_option("--metrics", options->metrics, "The same address, as an option");
  command->add_option("--interval", options->interval_s, "Seconds between frames")->capture_default_str();
  command->add_flag("--once", options->once, "Print one frame (rates over one interval) and exit");
  return {command, [options] { return top(*options); }};
}

const Registrar registrar{14, &setup};

}  // namespace
}  // namespace weir::cli
