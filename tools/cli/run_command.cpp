// `weir run FILE`: load, validate, run to the end, report.

#include "command.hpp"
#include "crash_reporter.hpp"
#include "live_view.hpp"
#include "log_format.hpp"
#include "metrics_server.hpp"
#include "pipeline_arguments.hpp"

#include <weir/config.hpp>
#include <weir/pipeline.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <pthread.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace weir::cli {
namespace {

struct RunOptions {
  PipelineArguments pipeline;
  std::string report;
  std::string metrics;
  std::vector<std::string> fail_on;
  bool strict = false;
  bool progress = false;
  bool no_progress = false;
  bool quiet = false;  // no live view, no summary, log records at error level only
};

// --report FILE is replaced whole or not at all: written to a temporary file
// beside it, then renamed over it, so a run that ends early (a bad
// configuration, a crash while writing) leaves the previous report in place,
// never an empty or half one.
class ReportFile {
 public:
  explicit ReportFile(std::string path) : path_(std::move(path)) {}

  // Checked before the run: the folder must take a new file.
  void check_writable() const {
    const std::string temporary = temporary_path();
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      throw std::invalid_argument(
          fmt::format("--report {}: cannot open it for writing ({})", path_, std::strerror(errno)));
    ::close(fd);
    ::unlink(temporary.c_str());
  }

  void write(const std::string& text) const {
    const std::string temporary = temporary_path();
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(fmt::format("cannot write the report to '{}': {}", path_, std::strerror(errno)));
    std::size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    const int error = written == text.size() && ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    if (error != 0 || ::rename(temporary.c_str(), path_.c_str()) != 0) {
      const int cause = error ? error : errno;
      ::unlink(temporary.c_str());
      throw std::runtime_error(fmt::format("cannot write the report to '{}': {}", path_, std::strerror(cause)));
    }
  }

 private:
  std::string temporary_path() const { return fmt::format("{}.{}.tmp", path_, ::getpid()); }
  std::string path_;
};

// The report where --report asked for it: standard output (the JSON alone)
// or a file.
void publish(const RunOptions& options, const RunReport& report) {
  if (options.report.empty()) return;
  if (options.report == "-") {
    std::cout << report.to_json() << std::endl;
  } else {
    ReportFile(options.report).write(report.to_json() + '\n');
  }
}

// The outcomes --fail-on takes, by their report key.
const std::map<std::string, std::uint64_t StageReport::*> fail_on_outcomes = {
    {"failed", &StageReport::failed}, {"dead_lettered", &StageReport::dead_lettered}, {"dropped", &StageReport::dropped}};

// --fail-on OUTCOME: a run that ended with messages in that outcome fails;
// --strict: so does one whose plugins logged warnings.
bool fails_on(const RunOptions& options, const RunReport& report) {
  for (const std::string& outcome : options.fail_on)
    for (const auto& s : report.stages) {
      const std::uint64_t count = s.*fail_on_outcomes.at(outcome);
      if (count > 0) {
        spdlog::error("--fail-on {}: stage '{}' has {} {} message(s)", outcome, s.name, count, outcome);
        return true;
      }
    }
  if (options.strict)
    for (const auto& s : report.stages)
      if (s.warnings > 0) {
        spdlog::error("--strict: stage '{}' logged {} warning(s)", s.name, s.warnings);
        return true;
      }
  return false;
}

// SIGINT / SIGTERM: the first drains, the second forces. The signals are
// blocked in every thread and taken by one thread with sigwait, so the
// pipeline is stopped from ordinary code, not from a signal handler.
class SignalWatch {
 public:
  explicit SignalWatch(Pipeline& pipeline, std::atomic<bool>& stopping) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);  // ours: the run is over
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this, &pipeline, &stopping] {
      for (int received = 0;;) {
        int signal = 0;
        if (sigwait(&set_, &signal) != 0 || signal == SIGUSR1) return;
        stopping = true;
        if (++received == 1) {
          spdlog::warn("{}: stopping; draining every channel (again to force)", strsignal(signal));
          pipeline.stop();
        } else {
          spdlog::warn("{} again: forcing the stop; what is queued is abandoned", strsignal(signal));
          pipeline.force_stop();
        }
      }
    });
  }
  ~SignalWatch() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }

 private:
  sigset_t set_;
  std::thread thread_;
};

// Stops the metrics server before the pipeline it reads goes away.
struct MetricsStop {
  MetricsServer* server;
  ~MetricsStop() {
    if (server) server->stop();
  }
};

int run(const RunOptions& options) {
  std::optional<Endpoint> endpoint;
  if (!options.metrics.empty()) {
    try {
      endpoint = parse_endpoint(options.metrics);
    } catch (const std::invalid_argument& e) {
      std::cerr << "error: " << e.what() << '\n';
      return exit_bad_input;
    }
  }
  // Block the signals before any thread exists (the crash reporter's, the
  // pipeline's, the metrics server's, the live view's), so they all inherit
  // the mask.
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);

  // From here on plugin code runs: loading constructs every stage once to
  // validate it, then the pipeline constructs its replicas. A crash in it is
  // reported, with the report file written from what the pipeline knows.
  std::atomic<const Pipeline*> running{nullptr};
  std::string pipeline_name = options.pipeline.file;  // until the file is read
  CrashReporter crash_reporter([&options, &running, &pipeline_name](const std::string& crash) {
    RunReport report;
    if (const Pipeline* pipeline = running.load()) {
      report = pipeline->crash_report(crash);
    } else {
      report.pipeline = pipeline_name;
      report.status = RunStatus::crashed;
      report.errors.push_back(crash);
    }
    std::cerr << report.to_table();
    publish(options, report);
  });
  PluginRegistry registry;
  PipelineSpec spec = options.pipeline.load(registry);
  pipeline_name = spec.name;
  // The configuration's warnings, as `weir validate` gives them: the run goes
  // ahead, unless --strict makes them errors.
  if (options.strict && !spec.warnings.empty()) throw ConfigError(as_errors(spec.warnings));
  for (const Diagnostic& warning : spec.warnings) std::cerr << warning.to_string() << '\n';
  // Checked now, so a report that could not be written stops us before the run.
  if (!options.report.empty() && options.report != "-") {
    try {
      ReportFile(options.report).check_writable();
    } catch (const std::invalid_argument& e) {
      std::cerr << "error: " << e.what() << '\n';
      return exit_bad_input;
    }
  }
  // Bound before the pipeline is built: a port in use stops us before anything starts.
  std::unique_ptr<MetricsServer> metrics;
  if (endpoint) {
    try {
      metrics = std::make_unique<MetricsServer>(*endpoint);
    } catch (const std::runtime_error& e) {
      std::cerr << "error: " << e.what() << '\n';
      return exit_bad_input;
    }
  }
  // With the live view on, log records go through it (see LiveViewLogSink);
  // set before the pipeline clones its stage loggers from the default one.
  if (options.quiet && spdlog::get_level() < spdlog::level::err) spdlog::set_level(spdlog::level::err);
  const bool show_view = !options.quiet && live_view_wanted(options.progress, options.no_progress);
  std::shared_ptr<LiveViewLogSink> log_sink;
  if (show_view) {
    log_sink = std::make_shared<LiveViewLogSink>(stderr);
    log_sink->set_formatter(make_log_formatter());
    spdlog::default_logger()->sinks().assign(1, log_sink);
  }
  Pipeline pipeline(std::move(spec), registry);
  running = &pipeline;
  MetricsStop metrics_stop{metrics.get()};
  std::atomic<bool> started{false}, stopping{false};
  if (metrics) {
    // Every series is labelled with the pipeline's name, or the file's stem.
    const std::string label = std::filesystem::path(options.pipeline.file).stem().string();
    metrics->serve([&pipeline, label] {
                     RunReport report = pipeline.stats();
                     if (report.pipeline.empty()) report.pipeline = label;
                     return report;
                   },
                   [&pipeline, &started, &stopping]() -> std::string {
                     if (!started) return "starting";
                     if (stopping || pipeline.finished()) return "stopping";
                     return {};
                   },
                   [&pipeline](std::string_view stage, Condition when) { return pipeline.tap(stage, std::move(when)); });
    const bool v6 = endpoint->host.find(':') != std::string::npos;  // an IPv6 address goes in brackets in a URL
    spdlog::info("metrics: serving http://{}{}{}:{}/metrics", v6 ? "[" : "", endpoint->host, v6 ? "]" : "",
                 metrics->port());
  }
  RunReport report;
  {
    SignalWatch watch(pipeline, stopping);
    pipeline.start();
    started = true;
    spdlog::info("pipeline '{}': running {} stages (Ctrl-C drains, twice forces)", pipeline.spec().name,
                 pipeline.spec().stages.size());
    std::optional<LiveView> view;
    if (show_view) {
      view.emplace(pipeline, stderr);
      log_sink->attach(&*view);
    }
    struct Detach {
      LiveViewLogSink* sink;
      ~Detach() {
        if (sink) sink->attach(nullptr);
      }
    } detach{log_sink.get()};
    // Let the run end and stop every reader of stats() before collecting the
    // final report: the last frame is then drawn from that report, and no
    // scrape is answered while the pipeline is torn down.
    while (!pipeline.wait_for(std::chrono::hours(1))) {
    }
    if (view) view->stop();
    if (metrics) metrics->stop();
    report = pipeline.wait();
    if (view) view->finish(report);
  }
  if (!options.quiet && !json_logs()) {
    std::cerr << report.to_table();
  } else if (json_logs() && !options.quiet) {
    // Standard error carries JSON lines alone: the summary is one record.
    spdlog::info("pipeline '{}': {} in {:.3f} s", report.pipeline, to_string(report.status), report.duration_s);
  } else if (report.status != RunStatus::drained) {
    // The summary is left out; a run that did not drain still says so.
    spdlog::error("pipeline '{}': {} after {:.3f} s", report.pipeline, to_string(report.status), report.duration_s);
  }
  publish(options, report);
  const int code = report.status == RunStatus::drained && !fails_on(options, report) ? exit_ok : exit_failed_run;
  bool left_behind = false;
  for (const auto& s : report.stages) left_behind = left_behind || s.stuck > 0;
  if (left_behind) {
    // Threads stuck in plugin code still run and use what an orderly exit
    // would destroy (loggers, the plugin libraries): end without it.
    spdlog::error("pipeline '{}': ending the process with replicas still stuck in plugin code", report.pipeline);
    std::cout.flush();
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

std::pair<CLI::App*, Runner> setup(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  auto* command = app.add_subcommand("run", "Run a pipeline until its sources are exhausted or it is stopped");
  options->pipeline.add_to(*command);
  command->add_option("--report", options->report, "Write the JSON run report to FILE, or - for standard output");
  auto* progress = command->add_flag("--progress", options->progress,
                                     "Show the live view on stderr even when it is not a terminal");
  auto* no_progress = command->add_flag("--no-progress", options->no_progress, "Never show the live view");
  progress->excludes(no_progress);
  command->add_flag("--quiet", options->quiet,
                    "Errors only: no live view, no summary, log records at error level and above")
      ->excludes(progress);
  command->add_option("--fail-on", options->fail_on,
                      "Exit 1 when the run ends with messages in this outcome: failed, dead_lettered or dropped "
                      "(repeatable)")
      ->check(CLI::IsMember(fail_on_outcomes));
  command->add_flag("--strict", options->strict,
                    "Exit 2 when the configuration has warnings (as weir validate --strict), and 1 when a plugin "
                    "logged a warning (a file it could not read, a line cut short, ...)");
  command->add_option("--metrics", options->metrics,
                      "Serve Prometheus metrics at http://HOST:PORT/metrics while running (port 0: any free port)");
  return {command, [options] { return run(*options); }};
}

const Registrar registrar{10, &setup};

}  // namespace
}  // namespace weir::cli
