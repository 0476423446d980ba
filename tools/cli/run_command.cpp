// `weir run FILE`: load, validate, run to the end, report.

#include "command.hpp"
#include "live_view.hpp"
#include "metrics_server.hpp"
#include "pipeline_arguments.hpp"

#include <weir/config.hpp>
#include <weir/pipeline.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <pthread.h>
#include <thread>

namespace weir::cli {
namespace {

struct RunOptions {
  PipelineArguments pipeline;
  std::string report;
  std::string metrics;
  bool progress = false;
  bool no_progress = false;
};

// SIGINT / SIGTERM: the first drains, the second forces. The signals are
// blocked in every thread and taken by one thread with sigwait, so the
// pipeline is stopped from ordinary code, not from a signal handler.
class SignalWatch {
 public:
  explicit SignalWatch(Pipeline& pipeline) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);  // ours: the run is over
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this, &pipeline] {
      for (int received = 0;;) {
        int signal = 0;
        if (sigwait(&set_, &signal) != 0 || signal == SIGUSR1) return;
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
  PluginRegistry registry;
  PipelineSpec spec = options.pipeline.load(registry);
  // Opened now, so a report that could not be written stops us before the run.
  std::ofstream report_file;
  if (!options.report.empty() && options.report != "-") {
    report_file.open(options.report);
    if (!report_file) {
      std::cerr << fmt::format("error: --report {}: cannot open it for writing ({})\n", options.report,
                               std::strerror(errno));
      return exit_bad_input;
    }
  }
  // Block the signals before any thread exists (the pipeline's, the metrics
  // server's, the live view's), so they all inherit the mask.
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);

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
  const bool show_view = live_view_wanted(options.progress, options.no_progress);
  std::shared_ptr<LiveViewLogSink> log_sink;
  if (show_view) {
    log_sink = std::make_shared<LiveViewLogSink>(stderr);
    spdlog::default_logger()->sinks().assign(1, log_sink);
  }
  Pipeline pipeline(std::move(spec), registry);
  MetricsStop metrics_stop{metrics.get()};
  if (metrics) {
    metrics->serve([&pipeline] { return pipeline.stats(); });
    const bool v6 = endpoint->host.find(':') != std::string::npos;  // an IPv6 address goes in brackets in a URL
    spdlog::info("metrics: serving http://{}{}{}:{}/metrics", v6 ? "[" : "", endpoint->host, v6 ? "]" : "",
                 metrics->port());
  }
  RunReport report;
  {
    SignalWatch watch(pipeline);
    pipeline.start();
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
  std::cerr << report.to_table();
  if (!options.report.empty()) {
    if (options.report == "-") {
      std::cout << report.to_json() << '\n';
    } else {
      report_file << report.to_json() << '\n';
      report_file.close();
      if (!report_file) throw std::runtime_error(fmt::format("cannot write the report to '{}'", options.report));
    }
  }
  return report.status == RunStatus::drained ? exit_ok : exit_failed_run;
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
  command->add_option("--metrics", options->metrics,
                      "Serve Prometheus metrics at http://HOST:PORT/metrics while running (port 0: any free port)");
  return {command, [options] { return run(*options); }};
}

const Registrar registrar{10, &setup};

}  // namespace
}  // namespace weir::cli
