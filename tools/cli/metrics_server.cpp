// Prometheus exposition of the live run report (text format 0.0.4).

#include "metrics_server.hpp"

#include <httplib.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <set>
#include <stdexcept>
#include <sys/socket.h>

namespace weir::cli {

Endpoint parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    throw std::invalid_argument(fmt::format("--metrics '{}': expected HOST:PORT, e.g. 127.0.0.1:9090", text));
  Endpoint endpoint;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  endpoint.host = host.empty() ? "0.0.0.0" : std::string(host);
  const std::string_view port = text.substr(colon + 1);
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
  if (port.empty() || error != std::errc() || end != port.data() + port.size() || endpoint.port < 0 ||
      endpoint.port > 65535)
    throw std::invalid_argument(
        fmt::format("--metrics '{}': the port '{}' is not a number from 0 to 65535 (0 picks a free one)", text, port));
  return endpoint;
}

namespace {

// Label values may hold any text; the format wants \, " and newline escaped.
std::string escaped(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"')
      out += {'\\', c};
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

class Exposition {
 public:
  // Every sample of a family follows its one HELP and TYPE.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    name_ = name;
  }
  template <class Value>
  void sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels, Value value) {
    out_ += name_;
    char separator = '{';
    for (const auto& [key, text] : labels) {
      out_ += fmt::format("{}{}=\"{}\"", separator, key, escaped(text));
      separator = ',';
    }
    if (separator == ',') out_ += '}';
    out_ += fmt::format(" {}\n", value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  std::string_view name_;
};

std::string_view lane_label(const EdgeReport& edge) {
  if (edge.lane.empty()) return "default";
  return edge.lane;
}

}  // namespace

std::string prometheus_text(const RunReport& report) {
  Exposition out;
  out.family("weir_pipeline_running", "gauge", "1 while the pipeline runs, 0 once it has ended");
  out.sample({{"pipeline", report.pipeline}}, report.status == RunStatus::running ? 1 : 0);
  out.family("weir_pipeline_uptime_seconds", "gauge", "Time since the pipeline started");
  out.sample({{"pipeline", report.pipeline}}, report.duration_s);

  out.family("weir_stage_replicas", "gauge", "Replicas of the stage");
  for (const auto& s : report.stages) out.sample({{"stage", s.name}, {"plugin", s.plugin}}, s.replicas);
  out.family("weir_stage_received_total", "counter", "Messages a replica took from the stage's input channel");
  for (const auto& s : report.stages) out.sample({{"stage", s.name}}, s.received);
  out.family("weir_stage_messages_total", "counter",
             "How messages left the stage: emitted, filtered, dead_lettered, failed, dropped or abandoned");
  for (const auto& s : report.stages) {
    const std::pair<std::string_view, std::uint64_t> outcomes[] = {
        {"emitted", s.emitted}, {"filtered", s.filtered}, {"dead_lettered", s.dead_lettered},
        {"failed", s.failed},   {"dropped", s.dropped},   {"abandoned", s.abandoned}};
    for (const auto& [outcome, count] : outcomes) out.sample({{"stage", s.name}, {"outcome", outcome}}, count);
  }
  out.family("weir_stage_retries_total", "counter", "Retry attempts after a failure");
  for (const auto& s : report.stages) out.sample({{"stage", s.name}}, s.retried);
  out.family("weir_stage_outputs_total", "counter", "Messages the stage sent downstream");
  for (const auto& s : report.stages) out.sample({{"stage", s.name}}, s.outputs);
  out.family("weir_stage_blocked_seconds_total", "counter", "Time the stage's replicas waited on full output channels");
  for (const auto& s : report.stages) out.sample({{"stage", s.name}}, s.blocked_ms / 1e3);
  out.family("weir_stage_starved_seconds_total", "counter", "Time the stage's replicas waited on an empty input channel");
  for (const auto& s : report.stages) out.sample({{"stage", s.name}}, s.starved_ms / 1e3);
  out.family("weir_stage_latency_seconds", "gauge", "Time in the plugin per message, by quantile");
  for (const auto& s : report.stages) {
    out.sample({{"stage", s.name}, {"quantile", "0.5"}}, s.latency.p50_us / 1e6);
    out.sample({{"stage", s.name}, {"quantile", "0.99"}}, s.latency.p99_us / 1e6);
  }

  // A channel is a stage's input queue; each lane has its own ring, which
  // every edge into that lane shares: one depth and capacity per lane.
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<const EdgeReport*> lanes;
  for (const auto& e : report.edges)
    if (seen.emplace(e.to, e.lane).second) lanes.push_back(&e);
  out.family("weir_channel_depth", "gauge", "Messages waiting in the stage's input channel lane");
  for (const auto* e : lanes) out.sample({{"stage", e->to}, {"lane", lane_label(*e)}}, e->depth);
  out.family("weir_channel_capacity", "gauge", "Capacity of the stage's input channel lane");
  for (const auto* e : lanes) out.sample({{"stage", e->to}, {"lane", lane_label(*e)}}, e->capacity);

  out.family("weir_edge_messages_total", "counter",
             "Messages on an edge: sent, delivered (taken by the receiver), dropped or abandoned");
  for (const auto& e : report.edges) {
    const std::pair<std::string_view, std::uint64_t> outcomes[] = {
        {"sent", e.sent}, {"delivered", e.delivered}, {"dropped", e.dropped}, {"abandoned", e.abandoned}};
    for (const auto& [outcome, count] : outcomes)
      out.sample({{"from", e.from}, {"to", e.to}, {"lane", lane_label(e)}, {"outcome", outcome}}, count);
  }
  out.family("weir_edge_blocked_seconds_total", "counter", "Time senders waited because the edge's lane was full");
  for (const auto& e : report.edges)
    out.sample({{"from", e.from}, {"to", e.to}, {"lane", lane_label(e)}}, e.blocked_ms / 1e3);
  return out.take();
}

MetricsServer::MetricsServer(const Endpoint& endpoint) : server_(std::make_unique<httplib::Server>()) {
  // cpp-httplib sets SO_REUSEPORT by default, which would let a second weir
  // share a port already in use; plain SO_REUSEADDR makes that an error.
  server_->set_socket_options([](socket_t socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (endpoint.port == 0) {
    port_ = server_->bind_to_any_port(endpoint.host);
  } else if (server_->bind_to_port(endpoint.host, endpoint.port)) {
    port_ = endpoint.port;
  } else {
    port_ = -1;
  }
  if (port_ < 0)
    throw std::runtime_error(fmt::format("--metrics {}:{}: cannot listen there (the port is in use, or the host is "
                                         "not an address of this machine); try 127.0.0.1:0 for any free port",
                                         endpoint.host, endpoint.port));
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::stop() {
  if (!thread_.joinable()) return;
  // cpp-httplib 0.11's stop() does nothing until its listening loop has
  // begun, and it has no way to wait for that; a stop that came too early is
  // repeated, each try parked on the loop's end rather than spinning.
  do server_->stop();
  while (stopped_.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready);
  thread_.join();
}

void MetricsServer::serve(std::function<RunReport()> snapshot) {
  server_->Get("/metrics", [snapshot = std::move(snapshot)](const httplib::Request&, httplib::Response& response) {
    response.set_content(prometheus_text(snapshot()), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("weir: metrics are at /metrics\n", "text/plain");
  });
  std::promise<void> ended;
  stopped_ = ended.get_future();
  thread_ = std::thread([this, ended = std::move(ended)]() mutable {
    server_->listen_after_bind();
    ended.set_value();
  });
}

}  // namespace weir::cli
