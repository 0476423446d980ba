// Prometheus exposition of the live run report (text format 0.0.4).

#include "metrics_server.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <set>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

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

// ---- The server --------------------------------------------------------------
//
// One thread waits on every connection at once (epoll), so idle connections
// cost a file descriptor each and hold nothing up: a scrape is answered while
// hundreds of others sit open. A connection sends one request and gets one
// response (Connection: close); one that has not sent a whole request within
// `idle_timeout` is closed; past `max_connections` (or half the open-file
// limit, if lower) new ones get 503 at once.

namespace {

constexpr std::size_t max_connections = 1024;
constexpr std::size_t max_request_bytes = 8 * 1024;
constexpr auto idle_timeout = std::chrono::seconds(10);

std::string response(int status, std::string_view reason, std::string_view type, const std::string& body,
                     bool head) {
  return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                     status, reason, type, body.size(), head ? std::string_view() : std::string_view(body));
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Idle connections may take at most half of the process's file descriptors,
// so the plugins keep theirs.
std::size_t connection_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return max_connections;
  return std::clamp<std::size_t>(limit.rlim_cur / 2, 1, max_connections);
}

// Answers 503 on a connection that will not be served, and closes it.
void turn_away(int fd) {
  const std::string busy = response(503, "Service Unavailable", "text/plain", "too many connections\n", false);
  static_cast<void>(::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL));
  ::close(fd);
}

}  // namespace

struct MetricsServer::Connection {
  int fd = -1;
  std::string in;
  std::string out;
  std::size_t sent = 0;
  std::chrono::steady_clock::time_point since;
};

MetricsServer::MetricsServer(const Endpoint& endpoint) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(endpoint.port);
  const auto cannot_listen = [&](std::string_view why) {
    return std::runtime_error(fmt::format("--metrics {}:{}: cannot listen there ({}; the port is in use, or the host "
                                          "is not an address of this machine); try 127.0.0.1:0 for any free port",
                                          endpoint.host, endpoint.port, why));
  };
  if (const int error = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); error != 0)
    throw cannot_listen(::gai_strerror(error));
  std::string why = "no address";
  for (addrinfo* a = found; a && listen_fd_ < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR (a restarted weir binds at once) but not SO_REUSEPORT,
    // which would let a second weir share a port already in use.
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) throw cannot_listen(why);
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  set_nonblocking(listen_fd_);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (wake_fd_ < 0 || epoll_fd_ < 0) throw std::runtime_error(fmt::format("--metrics: {}", std::strerror(errno)));
}

MetricsServer::~MetricsServer() {
  stop();
  for (int fd : {listen_fd_, wake_fd_, epoll_fd_})
    if (fd >= 0) ::close(fd);
}

void MetricsServer::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  static_cast<void>(::write(wake_fd_, &one, sizeof one));
  thread_.join();
}

void MetricsServer::serve(std::function<RunReport()> snapshot) {
  snapshot_ = std::move(snapshot);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // the listening socket
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &event);
  event.data.ptr = &wake_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  thread_ = std::thread([this] { loop(); });
}

void MetricsServer::loop() {
  const std::size_t limit = connection_limit();
  // A descriptor kept in reserve: when the process has none left (EMFILE), it
  // is given up for a moment to accept the waiting connection and turn it
  // away, or the listening socket would stay ready and the loop would spin.
  int spare = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<std::unique_ptr<Connection>> connections;
  std::array<epoll_event, 64> events;
  const auto close_connection = [&](Connection* c) {
    ::close(c->fd);  // also leaves the epoll set
    std::erase_if(connections, [c](const auto& owned) { return owned.get() == c; });
  };
  for (;;) {
    // With connections open, wake at least every second to close idle ones.
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), connections.empty() ? -1 : 1000);
    if (n < 0 && errno != EINTR) break;
    const auto now = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &wake_fd_) {
        for (auto& c : connections) ::close(c->fd);
        if (spare >= 0) ::close(spare);
        ::close(listen_fd_);
        listen_fd_ = -1;
        return;
      }
      if (tag == nullptr) {
        for (;;) {
          const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) {
            if ((errno != EMFILE && errno != ENFILE) || spare < 0) break;
            ::close(spare);
            const int refused = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (refused >= 0) turn_away(refused);
            spare = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (refused < 0) break;  // none was waiting (EMFILE comes before EAGAIN)
            continue;
          }
          if (connections.size() >= limit) {
            turn_away(fd);
            continue;
          }
          auto c = std::make_unique<Connection>();
          c->fd = fd;
          c->since = now;
          epoll_event event{};
          event.events = EPOLLIN | EPOLLRDHUP;
          event.data.ptr = c.get();
          ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
          connections.push_back(std::move(c));
        }
        continue;
      }
      auto* c = static_cast<Connection*>(tag);
      if (c->out.empty()) {
        char buffer[4096];
        ssize_t got = 0;
        while ((got = ::recv(c->fd, buffer, sizeof buffer, 0)) > 0 && c->in.size() < max_request_bytes)
          c->in.append(buffer, static_cast<std::size_t>(got));
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
          close_connection(c);
          continue;
        }
        if (c->in.find("\r\n\r\n") == std::string::npos && c->in.size() < max_request_bytes) continue;
        c->out = answer(c->in);
      }
      const ssize_t wrote = ::send(c->fd, c->out.data() + c->sent, c->out.size() - c->sent, MSG_NOSIGNAL);
      if (wrote > 0) c->sent += static_cast<std::size_t>(wrote);
      if (c->sent == c->out.size() || (wrote < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        close_connection(c);
      } else {
        epoll_event event{};
        event.events = EPOLLOUT;
        event.data.ptr = c;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &event);
      }
    }
    std::erase_if(connections, [now](const auto& c) {
      if (now - c->since < idle_timeout) return false;
      ::close(c->fd);
      return true;
    });
  }
}

std::string MetricsServer::answer(const std::string& request) const {
  if (request.size() >= max_request_bytes && request.find("\r\n\r\n") == std::string::npos)
    return response(431, "Request Header Fields Too Large", "text/plain", "request too large\n", false);
  const auto line_end = request.find("\r\n");
  const std::string_view line = std::string_view(request).substr(0, line_end);
  const auto space = line.find(' ');
  const std::string_view method = line.substr(0, space);
  std::string_view target = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  target = target.substr(0, target.find(' '));
  target = target.substr(0, target.find('?'));
  const bool head = method == "HEAD";
  if (method != "GET" && !head) return response(405, "Method Not Allowed", "text/plain", "GET only\n", false);
  if (target == "/metrics")
    return response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", prometheus_text(snapshot_()), head);
  if (target == "/") return response(200, "OK", "text/plain", "weir: metrics are at /metrics\n", head);
  return response(404, "Not Found", "text/plain", "not found; metrics are at /metrics\n", head);
}

}  // namespace weir::cli
