#pragma once
// `weir run --metrics HOST:PORT`: the live run report in Prometheus text
// format at /metrics, served by cpp-httplib while the pipeline runs.

#include <weir/report.hpp>

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace httplib {
class Server;
}

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
  // Starts answering; `snapshot` is called on the server's threads per scrape.
  void serve(std::function<RunReport()> snapshot);
  // Stops answering and joins the server's threads; later scrapes are refused.
  void stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
  std::future<void> stopped_;
};

}  // namespace weir::cli
