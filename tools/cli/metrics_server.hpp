#pragma once
// `weir run --metrics HOST:PORT`: the live run report in Prometheus text
// format at /metrics, served while the pipeline runs.

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
  // Starts answering on the server's one thread; `snapshot` is called there per scrape.
  void serve(std::function<RunReport()> snapshot);
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
  std::thread thread_;
};

}  // namespace weir::cli
