// socket: messages received on a TCP or UDP address. TCP: one message per
// line, or per frame of RFC 6587 octet counting, from up to max_connections
// clients at once; UDP: one message per datagram. Every message carries the
// sender's address as an attribute.
//
// One thread (the replica's) does everything with epoll: the listening or
// UDP socket, the connections, and an eventfd the stop request signals, so a
// stop ends the wait at once and nothing polls. Backpressure: emit() blocks
// while the pipeline is full, and while it blocks nothing is read, so TCP
// senders are held back by their full socket buffers. UDP has no way to hold
// a sender back: datagrams that arrive while the receive buffer is full are
// dropped by the kernel, which counts them (SO_RXQ_OVFL); they are this
// stage's `dropped` in the run report.
//
// Nothing is acknowledged to a sender: what weir has read is in the pipeline,
// what it had not read when it stopped (or crashed) is lost.

#include <weir_std/file_descriptor.hpp>
#include <weir_std/lines.hpp>
#include <weir_std/octet_frames.hpp>
#include <weir_std/option_checks.hpp>
#include <weir_std/rate_limited.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>

namespace weir::weir_std {
namespace {

enum class Protocol { tcp, udp };
enum class Framing { lines, octet_counting, automatic };

const Option<std::string> address{
    .name = "address",
    .description = "HOST:PORT to listen on (an IPv6 host in brackets, [::1]:5140); port 0 picks a free one, which "
                   "the log says",
    .required = true,
    .example = "'127.0.0.1:5140'"};
const Option<Protocol> protocol{.name = "protocol",
                                .description = "`tcp` (connections, framed as `framing` says; while the pipeline is "
                                               "full nothing is read, so senders are held back) or `udp` (one message "
                                               "per datagram, one trailing newline removed; what the receive buffer "
                                               "cannot hold while the pipeline is full is dropped by the kernel and "
                                               "counted as this stage's `dropped` in the report)",
                                .default_value = "tcp",
                                .choices = {{"tcp", Protocol::tcp}, {"udp", Protocol::udp}}};
const Option<Framing> framing{
    .name = "framing",
    .description = "TCP: `lines` (a message per line; \\n or \\r\\n), `octet_counting` (RFC 6587: LENGTH SP MESSAGE, "
                   "so messages may hold newlines), or `auto`: per connection, octet counting when its first byte "
                   "is a digit, else lines",
    .default_value = "lines",
    .choices = {{"lines", Framing::lines}, {"octet_counting", Framing::octet_counting}, {"auto", Framing::automatic}}};
const Option<Size> max_line_bytes{
    .name = "max_line_bytes",
    .description = "Longer messages (lines, frames or datagrams) are cut into pieces of this size",
    .default_value = "1MiB",
    .min = 1};
const Option<std::int64_t> max_connections{
    .name = "max_connections",
    .description = "TCP: connections open at once; more are accepted and closed at once, counted and logged "
                   "(rate-limited)",
    .default_value = "256",
    .min = 1,
    .max = 65536};
const Option<std::string> peer_attribute{
    .name = "peer_attribute",
    .description = "Attribute that gets the sender's address (HOST:PORT); empty sets none",
    .default_value = "peer"};
const Option<Size> receive_buffer{
    .name = "receive_buffer",
    .description = "The socket's receive buffer (SO_RCVBUF; the kernel may cap it at net.core.rmem_max); 0 keeps "
                   "the system's default. For UDP, what arrives while the pipeline is full has this much room "
                   "before datagrams are dropped",
    .default_value = "0",
    .example = "4MiB"};

// ---- Addresses ---------------------------------------------------------------

struct HostPort {
  std::string host;
  std::string port;
};

// HOST:PORT or [IPV6]:PORT; the error says what is wrong and at which column.
std::variant<HostPort, std::pair<std::string, int>> split_address(const std::string& text) {
  using Problem = std::pair<std::string, int>;
  std::size_t colon;
  HostPort out;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string::npos) return Problem{"the '[' of an IPv6 host is not closed", 1};
    out.host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return Problem{"expected ':' and a port after the IPv6 host", static_cast<int>(close + 2)};
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos) return Problem{"expected HOST:PORT", 1};
    out.host = text.substr(0, colon);
    if (out.host.find(':') != std::string::npos) return Problem{"an IPv6 host is written in brackets", 1};
  }
  if (out.host.empty()) return Problem{"the host is empty (0.0.0.0 listens on every IPv4 address)", 1};
  out.port = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
  if (out.port.empty() || error != std::errc() || end != out.port.data() + out.port.size() || port > 65535)
    return Problem{"the port is not a number from 0 to 65535", static_cast<int>(colon + 2)};
  return out;
}

std::string describe(const sockaddr_storage& address, socklen_t length) {
  std::array<char, NI_MAXHOST> host{};
  std::array<char, NI_MAXSERV> port{};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host.data(), host.size(), port.data(),
                    port.size(), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "?";
  return address.ss_family == AF_INET6 ? fmt::format("[{}]:{}", host.data(), port.data())
                                       : fmt::format("{}:{}", host.data(), port.data());
}

[[noreturn]] void throw_errno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

// ---- Connections ---------------------------------------------------------------

// One TCP client: its framing (decided by its first byte under `auto`) and
// the partial message it has sent so far.
struct Connection {
  Connection(FileDescriptor socket_, std::string peer_, Framing framing_, std::size_t max_bytes)
      : socket(std::move(socket_)), peer(std::move(peer_)), framing(framing_), lines(max_bytes), frames(max_bytes) {}
  FileDescriptor socket;
  std::string peer;
  Framing framing;
  LineSplitter lines;
  OctetFrameSplitter frames;
  std::uint64_t messages = 0;

  // Bytes held of a message not yet complete.
  bool holds_partial() const noexcept {
    return framing == Framing::octet_counting ? frames.mid_frame() : lines.pending_bytes() > 0;
  }
};

class SocketSource final : public Source {
 public:
  SocketSource(const Options& options, const StageContext& context)
      : logger_(logger_for(context)),
        text_address_(options[address]),
        protocol_(options[protocol]),
        framing_(options[framing]),
        max_bytes_(static_cast<std::size_t>(options[max_line_bytes].bytes)),
        max_connections_(static_cast<std::size_t>(options[max_connections])),
        peer_attribute_(options[peer_attribute]),
        receive_buffer_(static_cast<int>(std::min<std::uint64_t>(options[receive_buffer].bytes, 1u << 30))),
        shared_port_(context.replicas > 1) {
    auto split = split_address(text_address_);
    if (auto* problem = std::get_if<std::pair<std::string, int>>(&split))
      reject_option(address.name, fmt::format("'{}': {}", text_address_, problem->first),
                    "HOST:PORT, such as 127.0.0.1:5140, 0.0.0.0:514 or [::]:5140", problem->second);
    host_port_ = std::get<HostPort>(split);
    if (protocol_ == Protocol::udp && framing_ != Framing::lines)
      logger_->warn("framing applies to TCP only; UDP takes one message per datagram");
  }

  // Binds here, so a port in use stops the run before anything flows (exit 2).
  void start() override {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = protocol_ == Protocol::tcp ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(host_port_.host.c_str(), host_port_.port.c_str(), &hints, &found); rc != 0)
      throw std::runtime_error(fmt::format("cannot resolve '{}': {}", text_address_, ::gai_strerror(rc)));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> results(found, ::freeaddrinfo);
    FileDescriptor socket(::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (socket.get() < 0) throw_errno("socket");
    const int one = 1;
    if (protocol_ == Protocol::tcp) ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // Replicas of the stage each bind the address; the kernel spreads
    // connections (or datagrams) over them.
    if (shared_port_) ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (protocol_ == Protocol::udp && ::setsockopt(socket.get(), SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0)
      throw_errno("setsockopt SO_RXQ_OVFL");
    if (receive_buffer_ > 0 &&
        ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer_, sizeof receive_buffer_) != 0)
      throw_errno("setsockopt SO_RCVBUF");
    if (::bind(socket.get(), found->ai_addr, found->ai_addrlen) != 0)
      throw std::runtime_error(fmt::format("cannot listen on {} {}: {}", protocol_name(), text_address_,
                                           std::strerror(errno)));
    if (protocol_ == Protocol::tcp && ::listen(socket.get(), SOMAXCONN) != 0) throw_errno("listen");
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    socket_ = std::move(socket);
    logger_->info("listening on {} {}", protocol_name(), describe(bound, length));
  }

  void run(Emitter& out, std::stop_token stop) override {
    StopEvent stopped(stop);
    epoll_ = FileDescriptor(::epoll_create1(EPOLL_CLOEXEC));
    if (epoll_.get() < 0) throw_errno("epoll_create1");
    watch(stopped.fd());
    watch(socket_.get());
    if (protocol_ == Protocol::tcp)
      serve_connections(out, stop, stopped.fd());
    else
      receive_datagrams(out, stop, stopped.fd());
    epoll_.reset();
  }

  void stop() override {
    socket_.reset();
    if (refused_ > 0) logger_->info("{} connections were refused over max_connections {}", refused_, max_connections_);
    if (dropped_ > 0) logger_->info("{} datagrams were dropped because the receive buffer was full", dropped_);
  }

 private:
  const char* protocol_name() const noexcept { return protocol_ == Protocol::tcp ? "tcp" : "udp"; }

  void watch(int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("epoll_ctl");
  }

  // Ready descriptors; empty once the stop was requested. `timeout_ms` -1
  // waits for an event; a listener paused by a lack of descriptors gives one.
  std::span<const epoll_event> wait(int stop_fd, int timeout_ms = -1) {
    for (;;) {
      const int ready = ::epoll_wait(epoll_.get(), events_.data(), static_cast<int>(events_.size()), timeout_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready < 0) throw_errno("epoll_wait");
      for (int i = 0; i < ready; ++i)
        if (events_[static_cast<std::size_t>(i)].data.fd == stop_fd) return {};
      return {events_.data(), static_cast<std::size_t>(ready)};
    }
  }

  Message message_from(std::string payload, const std::string& peer) const {
    Message message(std::move(payload));
    if (!peer_attribute_.empty()) message.attributes.set(peer_attribute_, peer);
    return message;
  }

  // ---- TCP ----

  void serve_connections(Emitter& out, std::stop_token stop, int stop_fd) {
    bool listener_paused = false;
    for (;;) {
      const auto ready = wait(stop_fd, listener_paused ? 1000 : -1);
      if (stop.stop_requested()) break;
      if (listener_paused && (ready.empty() || connections_.size() < max_connections_)) {
        watch(socket_.get());
        listener_paused = false;
      }
      bool go_on = true;
      for (const epoll_event& event : ready) {
        if (event.data.fd == socket_.get()) {
          listener_paused = !accept_all();
        } else if (auto it = connections_.find(event.data.fd); it != connections_.end()) {
          go_on = read_connection(it, out);
          if (!go_on) break;
        }
      }
      if (!go_on) break;
    }
    std::uint64_t partial = 0;
    for (const auto& [fd, connection] : connections_) partial += connection.holds_partial() ? 1 : 0;
    if (partial > 0)
      logger_->warn("stopped with {} connections in the middle of a message; those partial messages are not emitted",
                    partial);
    connections_.clear();
  }

  // Accepts what is waiting. False when the process is out of descriptors:
  // the caller stops watching the listener for a while (it would be ready
  // again at once and spin).
  bool accept_all() {
    for (;;) {
      sockaddr_storage peer{};
      socklen_t length = sizeof peer;
      FileDescriptor client(::accept4(socket_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                                  SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (client.get() < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) return true;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          accept_errors_([&](std::uint64_t left_out) {
            logger_->error("cannot accept connections: {} ({} more times since last logged); trying again in 1s",
                           std::strerror(errno), left_out);
          });
          ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, socket_.get(), nullptr);
          return false;
        }
        throw_errno("accept");
      }
      const std::string from = describe(peer, length);
      if (connections_.size() >= max_connections_) {
        ++refused_;
        refusals_([&](std::uint64_t left_out) {
          logger_->warn("refused a connection from {}: max_connections {} are open ({} refused in all, {} not logged)",
                        from, max_connections_, refused_, left_out);
        });
        continue;  // closed by `client` going out of scope
      }
      const int fd = client.get();
      watch(fd);
      logger_->debug("connection from {}", from);
      connections_.emplace(std::piecewise_construct, std::forward_as_tuple(fd),
                           std::forward_as_tuple(std::move(client), from, framing_, max_bytes_));
    }
  }

  // One read from a connection that is ready (level-triggered, so a busy
  // client cannot starve the others). False once emit() refused.
  bool read_connection(std::unordered_map<int, Connection>::iterator it, Emitter& out) {
    Connection& connection = it->second;
    const ssize_t got = ::read(connection.socket.get(), buffer_.data(), buffer_.size());
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    bool refused = false;
    // Once read, bytes leave as messages even when a stop is under way:
    // only a forced stop (emit refusing) loses what was read.
    auto emit = [&](std::string payload) {
      if (!out.emit(message_from(std::move(payload), connection.peer))) {
        refused = true;
        return false;
      }
      ++connection.messages;
      return true;
    };
    if (got <= 0) {  // the end of the stream, or a reset
      if (got < 0) logger_->info("connection from {} failed: {}", connection.peer, std::strerror(errno));
      if (connection.framing == Framing::octet_counting) {
        if (connection.frames.mid_frame())
          logger_->warn("connection from {} closed in the middle of a frame (after {} bytes); the frame is lost",
                        connection.peer, connection.frames.bytes_seen());
      } else {
        connection.lines.finish([&](std::string line, std::size_t) { return emit(std::move(line)); });
      }
      logger_->debug("connection from {} closed after {} messages", connection.peer, connection.messages);
      connections_.erase(it);
      return !refused;
    }
    std::string_view bytes(buffer_.data(), static_cast<std::size_t>(got));
    if (connection.framing == Framing::automatic)
      connection.framing = bytes.front() >= '1' && bytes.front() <= '9' ? Framing::octet_counting : Framing::lines;
    if (connection.framing == Framing::lines) {
      connection.lines.feed(bytes, [&](std::string line, std::size_t) { return emit(std::move(line)); });
    } else if (!connection.frames.feed(bytes, emit) && !refused) {
      framing_errors_([&](std::uint64_t left_out) {
        logger_->warn("closing the connection from {}: {} ({} more not logged)", connection.peer,
                      connection.frames.error(), left_out);
      });
      connections_.erase(it);
    }
    return !refused;
  }

  // ---- UDP ----

  void receive_datagrams(Emitter& out, std::stop_token stop, int stop_fd) {
    for (;;) {
      if (wait(stop_fd).empty() || stop.stop_requested()) break;
      if (!read_datagrams(out, &stop)) return;
    }
    // Datagrams the kernel already holds were sent to us and are not lost
    // yet: read them before leaving. A sender that keeps sending cannot
    // keep the stop waiting: no more are read than the buffer can hold.
    int buffer_bytes = 0;
    socklen_t length = sizeof buffer_bytes;
    ::getsockopt(socket_.get(), SOL_SOCKET, SO_RCVBUF, &buffer_bytes, &length);
    if (!read_datagrams(out, nullptr, static_cast<std::size_t>(std::max(buffer_bytes, 0)) / 64 + 1)) return;
    // Drops after the last datagram read reach no ancillary data: the
    // kernel's count for this socket is in /proc/net/udp.
    if (const auto total = kernel_drop_total(); total && *total != kernel_drops_seen_) {
      const std::uint32_t more = *total - kernel_drops_seen_;
      kernel_drops_seen_ = *total;
      dropped_ += more;
      out.count_dropped(more);
    }
  }

  // Reads datagrams until none is waiting (or `stop` is requested, or
  // `limit` were read), one message each. False once emit() refused.
  bool read_datagrams(Emitter& out, const std::stop_token* stop, std::size_t limit = SIZE_MAX) {
    std::array<char, CMSG_SPACE(sizeof(std::uint32_t))> control{};
    for (std::size_t read = 0; read < limit && !(stop && stop->stop_requested()); ++read) {
      sockaddr_storage peer{};
      iovec data{buffer_.data(), buffer_.size()};
      msghdr header{};
      header.msg_name = &peer;
      header.msg_namelen = sizeof peer;
      header.msg_iov = &data;
      header.msg_iovlen = 1;
      header.msg_control = control.data();
      header.msg_controllen = control.size();
      const ssize_t got = ::recvmsg(socket_.get(), &header, MSG_TRUNC);
      if (got < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        if (errno == EINTR) continue;
        throw_errno("recvmsg");
      }
      count_kernel_drops(header, out);
      std::size_t size = std::min(static_cast<std::size_t>(got), buffer_.size());
      const std::string from = describe(peer, header.msg_namelen);
      if ((header.msg_flags & MSG_TRUNC) != 0)
        truncated_([&](std::uint64_t left_out) {
          logger_->warn("a datagram of {} bytes from {} was cut to {} ({} more not logged)", got, from,
                        buffer_.size(), left_out);
        });
      if (size > 0 && buffer_[size - 1] == '\n') {
        --size;
        if (size > 0 && buffer_[size - 1] == '\r') --size;
      }
      std::size_t at = 0;
      do {
        const std::size_t piece = std::min(max_bytes_, size - at);
        if (!out.emit(message_from(std::string(buffer_.data() + at, piece), from))) return false;
        at += piece;
      } while (at < size);
    }
    return true;
  }

  // The `drops` column of this socket's line in /proc/net/udp or udp6 (found
  // by the socket's inode); empty when it cannot be read.
  std::optional<std::uint32_t> kernel_drop_total() const {
    struct stat status {};
    if (::fstat(socket_.get(), &status) != 0) return std::nullopt;
    for (const char* table : {"/proc/net/udp", "/proc/net/udp6"}) {
      std::ifstream in(table);
      std::string line;
      std::getline(in, line);  // the column names
      while (std::getline(in, line)) {
        // sl local remote st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
        std::istringstream fields(line);
        std::string field;
        std::vector<std::string> columns;
        while (fields >> field) columns.push_back(field);
        if (columns.size() < 13 || columns[9] != std::to_string(status.st_ino)) continue;
        std::uint32_t drops = 0;
        const auto [end, error] = std::from_chars(columns[12].data(), columns[12].data() + columns[12].size(), drops);
        if (error == std::errc()) return drops;
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  // SO_RXQ_OVFL: the kernel's count of datagrams this socket dropped so far.
  void count_kernel_drops(msghdr& header, Emitter& out) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(&header, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL) continue;
      std::uint32_t total = 0;
      std::memcpy(&total, CMSG_DATA(c), sizeof total);
      const std::uint32_t more = total - kernel_drops_seen_;  // wraps as the kernel's counter does
      kernel_drops_seen_ = total;
      if (more == 0) continue;
      dropped_ += more;
      out.count_dropped(more);
      drops_([&](std::uint64_t) {
        logger_->warn("{} datagrams dropped: the receive buffer was full while the pipeline was ({} in all so far)",
                      more, dropped_);
      });
    }
  }

  std::shared_ptr<spdlog::logger> logger_;
  std::string text_address_;
  HostPort host_port_;
  Protocol protocol_;
  Framing framing_;
  std::size_t max_bytes_;
  std::size_t max_connections_;
  std::string peer_attribute_;
  int receive_buffer_;
  bool shared_port_;

  FileDescriptor socket_;
  FileDescriptor epoll_;
  std::array<epoll_event, 64> events_{};
  std::array<char, 64 * 1024> buffer_{};
  std::unordered_map<int, Connection> connections_;
  std::uint64_t refused_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint32_t kernel_drops_seen_ = 0;
  RateLimited refusals_, accept_errors_, framing_errors_, truncated_, drops_;
};

}  // namespace

WEIR_PLUGIN(socket_source) {
    .name = "socket",
    .kind = Kind::source,
    .description = "Messages received over TCP (per line or octet-counted frame) or UDP (per datagram), with the "
                   "sender's address",
    .options = {address, protocol, framing, max_line_bytes, max_connections, peer_attribute, receive_buffer},
    .example = plugin_example,
    .create = construct<SocketSource>,
};

}  // namespace weir::weir_std
