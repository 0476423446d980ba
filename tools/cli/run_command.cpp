// `weir run FILE`: load, validate, run to the end, report.

#include "command.hpp"

#include <weir/config.hpp>
#include <weir/pipeline.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace weir::cli {
namespace {

struct RunOptions {
  std::string file;
  std::vector<std::string> sets;
  std::string report;
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

int run(const RunOptions& options) {
  PluginRegistry registry;
  std::vector<Override> overrides;
  for (const auto& text : options.sets) overrides.push_back(parse_override(text));
  PipelineSpec spec = load_pipeline_file(options.file, registry, overrides);
  // Block the signals before any pipeline thread exists, so they all inherit the mask.
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);

  Pipeline pipeline(std::move(spec), registry);
  RunReport report;
  {
    SignalWatch watch(pipeline);
    pipeline.start();
    report = pipeline.wait();
  }
  std::cerr << report.to_table();
  if (!options.report.empty()) {
    if (options.report == "-") {
      std::cout << report.to_json() << '\n';
    } else {
      std::ofstream out(options.report);
      out << report.to_json() << '\n';
      if (!out) throw std::runtime_error(fmt::format("cannot write the report to '{}'", options.report));
    }
  }
  return report.status == RunStatus::drained ? exit_ok : exit_failed_run;
}

std::pair<CLI::App*, Runner> setup(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  auto* command = app.add_subcommand("run", "Run a pipeline until its sources are exhausted or it is stopped");
  command->add_option("file", options->file, "The pipeline YAML")->required()->check(CLI::ExistingFile);
  command->add_option("--set", options->sets, "Override a value: stage.config.key=value (repeatable)");
  command->add_option("--report", options->report, "Write the JSON run report to FILE, or - for standard output");
  return {command, [options] { return run(*options); }};
}

const Registrar registrar{10, &setup};

}  // namespace
}  // namespace weir::cli
