#pragma once
// `weir run --metrics HOST:PORT`: the live run report in Prometheus text
// format at /metrics, served while the pipeline runs; /health (the process
// answers: 200) and /ready (200 while the pipeline runs and takes work, 503
// while it starts or stops) for orchestrators' probes; /report (the run
// report as JSON: `weir top`) and /tap (a stage's messages as JSON lines,
// streamed: `weir tap`).

#include <weir/report.hpp>
#include <weir/tap.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <list>
#include <mutex>
#include <thread>

namespace weir::cli {

struct Endpoint {
  std::string host;
  int port = 0;  // 0: any free port
};

// "HOST:PORT", "[V6ADDR]:PORT" or ":PORT" (all interfaces). Throws
// std::invalid_argument with a message saying what is wrong.
Endpoint parse_endpoint(std::string_view text);

// The process as Prometheus client libraries describe theirs, read from
// /proc at scrape time.
struct ProcessStats {
  double cpu_seconds = 0;
  std::uint64_t resident_memory_bytes = 0;
  std::uint64_t virtual_memory_bytes = 0;
  std::uint64_t open_fds = 0;
  double max_fds = 0;
  std::uint64_t threads = 0;
  double start_time_s = 0;  // since the Unix epoch
};
ProcessStats read_process_stats();

// The exposition of one report: counters per stage and outcome, gauges per
// channel and lane, seconds blocked and starved, histograms of the time in
// the plugin and in the channels, and (given) the process's metrics; every
// sample labelled with the pipeline's name.
struct ScrapeExtras {
  std::optional<ProcessStats> process;
  std::optional<std::size_t> taps_open;  // the server's streams now
};
std::string prometheus_text(const RunReport& report, const ScrapeExtras& extras = {});

class MetricsServer {
 public:
  // Binds at once, so a bad address or a port in use fails before anything
  // runs (std::runtime_error naming the address). Serves nothing until serve().
  explicit MetricsServer(const Endpoint& endpoint);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const noexcept { return port_; }
  // Why the pipeline does not take work now ("starting", "stopping"), or
  // empty when it does: /ready answers 503 with it, or 200.
  using Readiness = std::function<std::string()>;
  // Attaches a tap to a stage (Pipeline::tap); throws std::invalid_argument
  // for an unknown stage.
  using TapOpener = std::function<std::unique_ptr<Tap>(std::string_view stage, Condition when)>;
  // Starts answering on the server's one thread; `snapshot` and `readiness`
  // are called there, per request. Without `readiness`, /ready says 200;
  // without `open_tap`, /tap answers 404.
  void serve(std::function<RunReport()> snapshot, Readiness readiness = {}, TapOpener open_tap = {});
  // Stops answering, ends every tap stream and joins the server's threads;
  // later requests are refused.
  void stop();

  // At most this many taps stream at once; more are answered 503.
  static constexpr std::size_t max_taps = 8;

 private:
  struct Connection;
  void loop();
  std::string answer(const std::string& request) const;
  // A GET /tap request: true when its connection now streams on a thread of
  // its own; false with an error response in `c.out`.
  bool start_tap(Connection& c);
  std::size_t taps_open() const;

  int listen_fd_ = -1;
  int wake_fd_ = -1;   // an eventfd: stop() wakes the loop
  int epoll_fd_ = -1;
  int port_ = 0;
  std::function<RunReport()> snapshot_;
  Readiness readiness_;
  TapOpener open_tap_;
  std::thread thread_;

  // One thread per tap stream: it waits on the tap's buffer, not on the
  // server's loop, and ends when the tapper leaves, its limit is reached or
  // the server stops.
  struct TapStream {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  mutable std::mutex taps_mutex_;
  std::list<TapStream> taps_;
  std::atomic<bool> stopping_{false};
};

}  // namespace weir::cli
