// `weir run FILE`: load, validate, run to the end, report.

#include "command.hpp"
#include "crash_reporter.hpp"
#include "file_watch.hpp"
#include "live_view.hpp"
#include "log_format.hpp"
#include "metrics_server.hpp"
#include "pipeline_arguments.hpp"
#include "signals.hpp"

#include <weir/config.hpp>
#include <weir/pipeline.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
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
#include <mutex>
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
  bool watch = false;  // reload when the file changes, as on SIGHUP
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
void publish(const RunOptions& options, const std::string& json) {
  if (options.report.empty()) return;
  if (options.report == "-") {
    std::cout << json << std::endl;
  } else {
    ReportFile(options.report).write(json + '\n');
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

// One run of the pipeline: `weir run` starts the first, and a reload
// (SIGHUP, --watch) each next one. The registry is declared first so the
// plugin libraries outlive the stages made from them.
struct Generation {
  std::unique_ptr<PluginRegistry> registry = std::make_unique<PluginRegistry>();
  std::unique_ptr<Pipeline> pipeline;
};

// What the signal thread and the main thread share across generations.
struct RunState {
  std::mutex mutex;
  Pipeline* pipeline = nullptr;      // the running generation; null once the run has ended
  std::unique_ptr<Generation> next;  // validated by a reload, started once `pipeline` has drained
  bool stopping = false;             // SIGINT/SIGTERM: no generation starts after this one
  unsigned interrupts = 0;
};

// Loads and builds the pipeline a reload asks for: the same checks as at
// start (with --strict, warnings are errors). Null, with the diagnostics
// logged, when the file is not valid: the running pipeline stays.
std::unique_ptr<Generation> load_generation(const RunOptions& options) {
  auto generation = std::make_unique<Generation>();
  try {
    PipelineSpec spec = options.pipeline.load(*generation->registry);
    if (options.strict && !spec.warnings.empty()) throw ConfigError(as_errors(spec.warnings));
    for (const Diagnostic& warning : spec.warnings) spdlog::warn("reload: {}", warning.to_string());
    generation->pipeline = std::make_unique<Pipeline>(std::move(spec), *generation->registry);
    return generation;
  } catch (const ConfigError& e) {
    for (const Diagnostic& d : e.diagnostics()) {
      if (d.severity == Severity::error) spdlog::error("reload: {}", d.to_string());
      else spdlog::warn("reload: {}", d.to_string());
    }
  } catch (const std::exception& e) {
    spdlog::error("reload: {}", printable(e.what()));
  }
  spdlog::error("reload: {} is not valid; the running pipeline goes on unchanged", options.pipeline.file);
  return nullptr;
}

// SIGINT / SIGTERM: the first drains, the second forces. SIGHUP: reload.
// The signals are blocked in every thread and taken by one thread with
// sigwait, so the pipeline is stopped from ordinary code, not from a signal
// handler.
class SignalWatch {
 public:
  SignalWatch(const RunOptions& options, RunState& state) : set_(run_signals()) {
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this, &options, &state] {
      for (;;) {
        int signal = 0;
        if (sigwait(&set_, &signal) != 0 || signal == run_over_signal) return;
        if (signal == SIGHUP) reload(options, state);
        else interrupt(signal, state);
      }
    });
  }
  ~SignalWatch() {
    pthread_kill(thread_.native_handle(), run_over_signal);
    thread_.join();
  }

 private:
  static void interrupt(int signal, RunState& state) {
    std::lock_guard lock(state.mutex);
    state.stopping = true;
    state.next.reset();  // a reload not yet started is dropped: the run ends with this generation
    if (!state.pipeline) return;
    if (++state.interrupts == 1) {
      spdlog::warn("{}: stopping; draining every channel (again to force)", strsignal(signal));
      state.pipeline->stop();
    } else {
      spdlog::warn("{} again: forcing the stop; what is queued is abandoned", strsignal(signal));
      state.pipeline->force_stop();
    }
  }

  // Validated while the running generation goes on; only a valid file
  // drains it (the normal stop: sources close, what is in flight finishes,
  // acknowledging sources commit) so the main thread can start the next.
  static void reload(const RunOptions& options, RunState& state) {
    {
      std::lock_guard lock(state.mutex);
      if (state.stopping || !state.pipeline) {
        spdlog::warn("Hangup: the run is ending; not reloading");
        return;
      }
    }
    spdlog::info("Hangup: reloading {}", options.pipeline.file);
    std::unique_ptr<Generation> next = load_generation(options);
    if (!next) return;
    std::lock_guard lock(state.mutex);
    if (state.stopping || !state.pipeline) return;
    spdlog::info("reload: {} is valid; draining the running pipeline to start it", options.pipeline.file);
    state.next = std::move(next);  // a newer reload replaces one that has not started yet
    state.pipeline->stop();
  }

  const sigset_t set_;
  std::thread thread_;
};

// The JSON report of a run with reloads: the last generation's report with
// `reloads` and `generations` (every generation's own report, in order)
// added; `balanced` holds only when every generation's books balance, and
// `status` is the first generation's that did not drain, if any.
std::string combined_json(const std::vector<RunReport>& generations) {
  const RunReport& last = generations.back();
  if (generations.size() == 1) {
    auto json = nlohmann::ordered_json::parse(last.to_json());
    json["reloads"] = 0;
    return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }
  auto json = nlohmann::ordered_json::parse(last.to_json());
  bool balanced = true;
  std::string status = std::string(to_string(last.status));
  auto list = nlohmann::ordered_json::array();
  for (const RunReport& generation : generations) {
    balanced = balanced && generation.balanced();
    if (generation.status != RunStatus::drained && status == "drained") status = to_string(generation.status);
    list.push_back(nlohmann::ordered_json::parse(generation.to_json()));
  }
  json["status"] = status;
  json["balanced"] = balanced;
  json["reloads"] = generations.size() - 1;
  json["generations"] = std::move(list);
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

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
  const sigset_t blocked = run_signals();
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
    publish(options, report.to_json());
  });
  auto generation = std::make_unique<Generation>();
  PipelineSpec spec = options.pipeline.load(*generation->registry);
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
  std::unique_ptr<FileWatch> file_watch;
  if (options.watch) {
    try {
      file_watch = std::make_unique<FileWatch>(options.pipeline.file);
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
  generation->pipeline = std::make_unique<Pipeline>(std::move(spec), *generation->registry);
  RunState state;
  state.pipeline = generation->pipeline.get();
  running = state.pipeline;
  MetricsStop metrics_stop{metrics.get()};
  std::atomic<bool> started{false};
  if (metrics) {
    // The running generation, under the lock a reload takes to replace it.
    // Every series is labelled with the pipeline's name, or the file's stem.
    const std::string label = std::filesystem::path(options.pipeline.file).stem().string();
    metrics->serve(
        [&state, label] {
          std::lock_guard lock(state.mutex);
          RunReport report = state.pipeline ? state.pipeline->stats() : RunReport{};
          if (report.pipeline.empty()) report.pipeline = label;
          return report;
        },
        [&state, &started]() -> std::string {
          if (!started) return "starting";
          std::lock_guard lock(state.mutex);
          if (state.stopping || !state.pipeline || (state.pipeline->finished() && !state.next)) return "stopping";
          return {};
        },
        // A tap stays on the generation it was opened on (it holds its own
        // buffer): after a reload it gets nothing more; tap again.
        [&state](std::string_view stage, Condition when) -> std::unique_ptr<Tap> {
          std::lock_guard lock(state.mutex);
          if (!state.pipeline) throw std::invalid_argument("the run has ended");
          return state.pipeline->tap(stage, std::move(when));
        });
    const bool v6 = endpoint->host.find(':') != std::string::npos;  // an IPv6 address goes in brackets in a URL
    spdlog::info("metrics: serving http://{}{}{}:{}/metrics", v6 ? "[" : "", endpoint->host, v6 ? "]" : "",
                 metrics->port());
  }
  std::vector<RunReport> reports;  // one per generation
  bool reload_failed = false;      // a reloaded pipeline's start() threw
  {
    SignalWatch watch(options, state);
    std::optional<LiveView> view;
    struct Detach {
      LiveViewLogSink* sink;
      ~Detach() {
        if (sink) sink->attach(nullptr);
      }
    } detach{log_sink.get()};
    for (;;) {
      Pipeline& pipeline = *generation->pipeline;
      if (reports.empty()) {
        pipeline.start();
      } else {
        try {
          pipeline.start();
        } catch (const std::exception& e) {
          // The previous generation has drained: nothing runs any more.
          spdlog::error("reload {}: the new pipeline could not start: {}", reports.size(), printable(e.what()));
          reload_failed = true;
          if (metrics) metrics->stop();
          std::lock_guard lock(state.mutex);
          state.stopping = true;
          state.pipeline = nullptr;
          break;
        }
      }
      started = true;
      if (reports.empty())
        spdlog::info("pipeline '{}': running {} stages (Ctrl-C drains, twice forces{})", pipeline.spec().name,
                     pipeline.spec().stages.size(), options.watch ? "; the file is watched" : "; SIGHUP reloads");
      else
        spdlog::info("reload {}: pipeline '{}' running {} stages", reports.size(), pipeline.spec().name,
                     pipeline.spec().stages.size());
      if (show_view) {
        view.emplace(pipeline, stderr);
        log_sink->attach(&*view);
      }
      // Let the run end and stop every reader of stats() before collecting
      // the report: the last frame is then drawn from that report, and no
      // scrape is answered while the pipeline is torn down.
      while (!pipeline.wait_for(std::chrono::hours(1))) {
      }
      if (view) {
        log_sink->attach(nullptr);
        view->stop();
      }
      std::unique_ptr<Generation> next;
      {
        std::lock_guard lock(state.mutex);
        next = std::move(state.next);
        // A generation with replicas stuck in plugin code cannot be torn
        // down (see Pipeline::wait); the run ends with it.
        if (!next || state.stopping) {
          next.reset();
          state.stopping = true;
        }
      }
      if (!next && metrics) metrics->stop();
      reports.push_back(pipeline.wait());
      const RunReport& report = reports.back();
      bool stuck = false;
      for (const auto& s : report.stages) stuck = stuck || s.stuck > 0;
      if (!next || stuck) {
        if (view) view->finish(report);
        if (next && metrics) metrics->stop();
        std::lock_guard lock(state.mutex);
        state.stopping = true;
        state.pipeline = nullptr;
        break;
      }
      spdlog::info("reload {}: the previous pipeline {} in {:.3f} s{}", reports.size(), to_string(report.status),
                   report.duration_s, report.balanced() ? ", its books balanced" : ", BOOKS DO NOT BALANCE");
      {
        std::lock_guard lock(state.mutex);
        state.pipeline = next->pipeline.get();
        state.interrupts = 0;
      }
      running = next->pipeline.get();
      std::swap(generation, next);
      next.reset();  // the drained generation, after no reader can reach it
    }
  }
  const RunReport& report = reports.back();
  if (!options.quiet && !json_logs()) {
    std::cerr << report.to_table();
    if (reports.size() > 1) {
      std::string books;
      for (std::size_t i = 0; i < reports.size(); ++i)
        books += fmt::format("{}#{} {}{}", i ? ", " : "", i, to_string(reports[i].status),
                             reports[i].balanced() ? " balanced" : " NOT BALANCED");
      std::cerr << fmt::format("reloads: {} (generations: {})\n", reports.size() - 1, books);
    }
  } else if (json_logs() && !options.quiet) {
    // Standard error carries JSON lines alone: the summary is one record.
    spdlog::info("pipeline '{}': {} in {:.3f} s, {} reload(s)", report.pipeline, to_string(report.status),
                 report.duration_s, reports.size() - 1);
  } else if (report.status != RunStatus::drained) {
    // The summary is left out; a run that did not drain still says so.
    spdlog::error("pipeline '{}': {} after {:.3f} s", report.pipeline, to_string(report.status), report.duration_s);
  }
  publish(options, combined_json(reports));
  bool failed = reload_failed;
  for (const RunReport& r : reports) failed = failed || r.status != RunStatus::drained || fails_on(options, r);
  const int code = failed ? exit_failed_run : exit_ok;
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
  command->add_flag("--watch", options->watch,
                    "Reload when FILE changes (inotify), as on SIGHUP: a valid file drains the running pipeline "
                    "and starts the new one; an invalid one is logged and the pipeline goes on");
  command->add_option("--metrics", options->metrics,
                      "Serve Prometheus metrics at http://HOST:PORT/metrics while running (port 0: any free port)");
  return {command, [options] { return run(*options); }};
}

const Registrar registrar{10, &setup};

}  // namespace
}  // namespace weir::cli
