// Prometheus exposition of the live run report (text format 0.0.4).

#include "metrics_server.hpp"

#include <weir_std/message_json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <netdb.h>
#include <set>
#include <stdexcept>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <tuple>
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

// Every sample carries the pipeline's label first, so series of several
// weir processes scraped into one Prometheus stay apart.
class Exposition {
 public:
  explicit Exposition(std::string_view pipeline) : pipeline_(escaped(pipeline)) {}
  // Every sample of a family follows its one HELP and TYPE.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    name_ = name;
  }
  template <class Value>
  void sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels, Value value,
              std::string_view suffix = {}) {
    out_ += fmt::format("{}{}{{pipeline=\"{}\"", name_, suffix, pipeline_);
    for (const auto& [key, text] : labels) out_ += fmt::format(",{}=\"{}\"", key, escaped(text));
    out_ += fmt::format("}} {}\n", value);
  }
  // A histogram's samples: cumulative `_bucket`s up to le="+Inf", `_sum`, `_count`.
  void histogram(std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
                 const DurationHistogram& h) {
    std::string common;
    for (const auto& [key, text] : labels) common += fmt::format(",{}=\"{}\"", key, escaped(text));
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.counts.size(); ++i) {
      cumulative += h.counts[i];
      const std::string le = i < h.bounds_s.size() ? fmt::format("{}", h.bounds_s[i]) : "+Inf";
      out_ += fmt::format("{}_bucket{{pipeline=\"{}\"{},le=\"{}\"}} {}\n", name_, pipeline_, common, le, cumulative);
    }
    out_ += fmt::format("{}_sum{{pipeline=\"{}\"{}}} {}\n", name_, pipeline_, common, h.sum_s);
    out_ += fmt::format("{}_count{{pipeline=\"{}\"{}}} {}\n", name_, pipeline_, common, cumulative);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string pipeline_;
  std::string out_;
  std::string_view name_;
};

std::string_view lane_label(const EdgeReport& edge) {
  if (edge.lane.empty()) return "default";
  return edge.lane;
}

// The fields of /proc/self/stat after the command's closing parenthesis
// (the command itself may hold spaces and parentheses).
std::vector<std::string> proc_stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> fields;
  const auto close = text.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(text.substr(close + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

double boot_time_s() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  return 0;
}

}  // namespace

ProcessStats read_process_stats() {
  ProcessStats out;
  const auto fields = proc_stat_fields();
  // Fields from "state" (3 in proc(5)): utime 14, stime 15, num_threads 20,
  // starttime 22, vsize 23, rss 24 are at index n - 3.
  if (fields.size() > 21) {
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    out.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
    out.threads = std::stoull(fields[17]);
    out.start_time_s = boot_time_s() + std::stod(fields[19]) / ticks;
    out.virtual_memory_bytes = std::stoull(fields[20]);
    out.resident_memory_bytes = std::stoull(fields[21]) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  }
  std::error_code error;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end; it.increment(error))
    ++out.open_fds;
  if (out.open_fds > 0) --out.open_fds;  // the directory's own descriptor, open while it is listed
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) out.max_fds = static_cast<double>(limit.rlim_cur);
  return out;
}

std::string prometheus_text(const RunReport& report, const ScrapeExtras& extras) {
  Exposition out(report.pipeline);
  out.family("weir_pipeline_running", "gauge", "1 while the pipeline runs, 0 once it has ended");
  out.sample({}, report.status == RunStatus::running ? 1 : 0);
  out.family("weir_pipeline_uptime_seconds", "gauge", "Time since the pipeline started");
  out.sample({}, report.duration_s);

  out.family("weir_stage_replicas", "gauge", "Replicas of the stage");
  for (const auto& s : report.stages)
    out.sample({{"stage", s.name}, {"plugin", s.plugin}, {"kind", s.kind}}, s.replicas);
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
  // Sources are left out: their time is their own loop's (run()), not per message.
  out.family("weir_stage_process_seconds", "histogram",
             "Time in the plugin per message (per batch for sinks): the latency above, as a histogram");
  for (const auto& s : report.stages)
    if (s.kind != "source") out.histogram({{"stage", s.name}}, s.latency.histogram);
  out.family("weir_stage_wait_seconds", "histogram", "Time messages waited in the stage's input channel");
  for (const auto& s : report.stages)
    if (s.kind != "source") out.histogram({{"stage", s.name}}, s.wait.histogram);

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
  out.family("weir_channel_wait_seconds", "histogram", "Time messages waited in the stage's input channel lane");
  for (const auto* e : lanes) out.histogram({{"stage", e->to}, {"lane", lane_label(*e)}}, e->wait.histogram);

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

  if (extras.taps_open) {
    out.family("weir_taps_open", "gauge", "Streams of `weir tap` served now");
    out.sample({}, *extras.taps_open);
  }
  if (const auto& process = extras.process) {
    // The names every Prometheus client library uses for its process.
    const std::tuple<std::string_view, std::string_view, std::string_view, double> metrics[] = {
        {"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds",
         process->cpu_seconds},
        {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes",
         static_cast<double>(process->resident_memory_bytes)},
        {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes",
         static_cast<double>(process->virtual_memory_bytes)},
        {"process_open_fds", "gauge", "Number of open file descriptors", static_cast<double>(process->open_fds)},
        {"process_max_fds", "gauge", "Maximum number of open file descriptors", process->max_fds},
        {"process_threads", "gauge", "Number of OS threads in the process", static_cast<double>(process->threads)},
        {"process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds",
         process->start_time_s}};
    for (const auto& [name, type, help, value] : metrics) {
      out.family(name, type, help);
      out.sample({}, value);
    }
  }
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
  // The loop has ended: no new stream starts. Each ends within one wait on
  // its tap (tap_wait).
  stopping_ = true;
  for (auto& stream : taps_) stream.thread.join();
  taps_.clear();
}

void MetricsServer::serve(std::function<RunReport()> snapshot, Readiness readiness, TapOpener open_tap) {
  snapshot_ = std::move(snapshot);
  readiness_ = std::move(readiness);
  open_tap_ = std::move(open_tap);
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
        if (c->in.rfind("GET /tap", 0) == 0 && start_tap(*c)) {
          // The stream's thread owns the socket now.
          std::erase_if(connections, [c](const auto& owned) { return owned.get() == c; });
          continue;
        }
        if (c->out.empty()) c->out = answer(c->in);
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
    return response(200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                    prometheus_text(snapshot_(), {read_process_stats(), taps_open()}), head);
  if (target == "/report") return response(200, "OK", "application/json", snapshot_().to_json(-1) + "\n", head);
  if (target == "/health") return response(200, "OK", "text/plain", "ok\n", head);
  if (target == "/ready") {
    const std::string not_ready = readiness_ ? readiness_() : std::string();
    if (not_ready.empty()) return response(200, "OK", "text/plain", "ready\n", head);
    return response(503, "Service Unavailable", "text/plain", "not ready: " + not_ready + "\n", head);
  }
  if (target == "/") return response(200, "OK", "text/plain", "weir: /metrics, /health, /ready, /report, /tap?stage=NAME\n", head);
  return response(404, "Not Found", "text/plain", "not found; try /metrics, /health, /ready, /report or /tap?stage=NAME\n", head);
}

// ---- Tap streams ---------------------------------------------------------------
//
// GET /tap?stage=NAME[&when=COND][&limit=N]: 200, then one JSON line per
// message leaving the stage (the stdout sink's rendering), and a line
// "# dropped N" whenever the count of copies the full buffer turned away
// has grown; the response ends (the connection closes) after N messages,
// when the server stops, or at once when the tapper hangs up.

namespace {

constexpr auto tap_wait = std::chrono::milliseconds(200);
constexpr std::size_t tap_capacity = 1024;
constexpr std::size_t tap_lines_per_write = 256;

// %XX and '+' decoded; nothing when an escape is malformed.
std::optional<std::string> url_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      int value = 0;
      if (i + 2 >= text.size()) return std::nullopt;
      const auto [end, error] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
      if (error != std::errc() || end != text.data() + i + 3) return std::nullopt;
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The tapper closed its end (or the connection broke).
bool hung_up(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void stream_tap(int fd, std::unique_ptr<Tap> tap, std::uint64_t limit, const std::atomic<bool>& stopping) {
  // Blocking from here, with a bound: a tapper that stops reading for this
  // long is dropped (its copies never waited on it: the buffer drops them).
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  timeval send_timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  bool open = send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n");
  std::uint64_t sent = 0, dropped_told = 0;
  std::string out;
  while (open && !stopping.load() && (limit == 0 || sent < limit)) {
    out.clear();
    auto message = tap->next(tap_wait);
    for (std::size_t n = 0; message; ++n) {
      out += weir_std::dump_json(weir_std::message_to_json(*message));
      out += '\n';
      if (++sent == limit || n + 1 == tap_lines_per_write) break;
      message = tap->next(std::chrono::nanoseconds(0));
    }
    if (const auto dropped = tap->dropped(); dropped != dropped_told) {
      out += fmt::format("# dropped {}\n", dropped);
      dropped_told = dropped;
    }
    open = (out.empty() || send_all(fd, out)) && !hung_up(fd);
  }
  tap.reset();  // detached before the tapper sees the end
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

}  // namespace

std::size_t MetricsServer::taps_open() const {
  std::lock_guard lock(taps_mutex_);
  std::size_t n = 0;
  for (const auto& stream : taps_) n += !stream.done.load();
  return n;
}

bool MetricsServer::start_tap(Connection& c) {
  const auto line_end = c.in.find("\r\n");
  std::string_view target = std::string_view(c.in).substr(4, line_end == std::string::npos ? 0 : line_end - 4);
  target = target.substr(0, target.find(' '));
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  if (path != "/tap") return false;  // "/tapestry": answer() says 404
  const auto refuse = [&c](int status, std::string_view reason, const std::string& why) {
    c.out = response(status, reason, "text/plain", why + "\n", false);
    return false;
  };
  if (!open_tap_) return refuse(404, "Not Found", "this server has no pipeline to tap");
  std::string stage, when;
  std::uint64_t limit = 0;
  std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  while (!query.empty()) {
    const std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    const auto equals = pair.find('=');
    const std::string_view key = pair.substr(0, equals);
    const auto value = url_decoded(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
    if (!value) return refuse(400, "Bad Request", fmt::format("/tap: the value of '{}' is not URL-encoded", key));
    if (key == "stage") {
      stage = *value;
    } else if (key == "when") {
      when = *value;
    } else if (key == "limit") {
      const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), limit);
      if (value->empty() || error != std::errc() || end != value->data() + value->size())
        return refuse(400, "Bad Request", fmt::format("/tap: limit '{}' is not a whole number", *value));
    } else {
      return refuse(400, "Bad Request", fmt::format("/tap: unknown parameter '{}' (stage, when, limit)", key));
    }
  }
  if (stage.empty()) return refuse(400, "Bad Request", "/tap: stage=NAME is required");
  Condition condition;
  if (!when.empty()) {
    try {
      condition = Condition::parse(when);
    } catch (const ConditionError& e) {
      return refuse(400, "Bad Request", fmt::format("when: column {}: {}", e.column(), e.what()));
    }
  }
  std::lock_guard lock(taps_mutex_);
  taps_.remove_if([](TapStream& stream) {
    if (!stream.done.load()) return false;
    stream.thread.join();
    return true;
  });
  if (taps_.size() >= max_taps)
    return refuse(503, "Service Unavailable", fmt::format("{} taps stream already; try again later", max_taps));
  std::unique_ptr<Tap> tap;
  try {
    tap = open_tap_(stage, std::move(condition));
  } catch (const std::invalid_argument& e) {
    return refuse(404, "Not Found", e.what());
  }
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  auto& stream = taps_.emplace_back();
  stream.thread = std::thread([fd = c.fd, tap = std::move(tap), limit, &stream, this]() mutable {
    stream_tap(fd, std::move(tap), limit, stopping_);
    stream.done = true;
  });
  return true;
}

}  // namespace weir::cli
