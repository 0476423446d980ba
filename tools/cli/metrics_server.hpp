#pragma once
// `weir run --metrics HOST:PORT`: the live run report in Prometheus text
// format at /metrics, served while the pipeline runs; /health (the process
// answers: 200) and /ready (200 while the pipeline runs and takes work, 503
// while it starts or stops) for orchestrators' probes.

#include <weir/report.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace weir::cli {

struct Endpoint {
  std::string host;
  int port = 0;  // 0: any free port
};

// "HOST:PORT", "[V6ADDR]:PORT" or ":PORT" (all interfaces). Throws
// std::invalid_argument with a message saying what is wrong.
Endpoint parse_endpoint(std::string_view text);

// The exposition of one report: counters per stage and outcome, gauges per
// channel and lane, seconds blocked and starved.
std::string prometheus_text(const RunReport& report);

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
  // Starts answering on the server's one thread; `snapshot` and `readiness`
  // are called there, per request. Without `readiness`, /ready says 200.
  void serve(std::function<RunReport()> snapshot, Readiness readiness = {});
  // Stops answering and joins the server's thread; later scrapes are refused.
  void stop();

 private:
  struct Connection;
  void loop();
  std::string answer(const std::string& request) const;

  int listen_fd_ = -1;
  int wake_fd_ = -1;   // an eventfd: stop() wakes the loop
  int epoll_fd_ = -1;
  int port_ = 0;
  std::function<RunReport()> snapshot_;
  Readiness readiness_;
  std::thread thread_;
};

}  // namespace weir::cli
