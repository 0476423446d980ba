// A minimal HTTP/1.1 client for weir's own metrics server: one request per
// connection (the server closes it), bounded waits on every read.

#include "metrics_client.hpp"

#include <weir_std/file_descriptor.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace weir::cli {
namespace {

// A read that waits longer than this means the server is stuck: give up.
// A tap's stream is quiet while its stage is, so streams wait without it.
constexpr int read_timeout_s = 30;

std::string address_of(const Endpoint& endpoint) {
  return endpoint.host.find(':') != std::string::npos ? fmt::format("[{}]:{}", endpoint.host, endpoint.port)
                                                     : fmt::format("{}:{}", endpoint.host, endpoint.port);
}

Unreachable unreachable(const Endpoint& endpoint, std::string_view why) {
  const std::string address = address_of(endpoint);
  return Unreachable(fmt::format("nothing answers at {} ({}): is a pipeline running with `weir run FILE --metrics {}`?",
                                 address, why, address));
}

class Socket {
 public:
  Socket(const Endpoint& endpoint, bool bounded_reads) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(endpoint.port);
    if (const int error = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &found); error != 0)
      throw unreachable(endpoint, ::gai_strerror(error));
    std::string why = "no address";
    for (addrinfo* a = found; a && !fd_; a = a->ai_next) {
      weir_std::FileDescriptor fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
      if (!fd) continue;
      timeval timeout{read_timeout_s, 0};
      ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
      if (bounded_reads) ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = std::move(fd);
      } else {
        why = std::strerror(errno);
      }
    }
    ::freeaddrinfo(found);
    if (!fd_) throw unreachable(endpoint, why);
  }
  int fd() const noexcept { return fd_.get(); }

 private:
  weir_std::FileDescriptor fd_;
};

// Sends the request, reads the status line and headers; `rest` gets the body
// bytes that came with them.
int request(const Endpoint& endpoint, const Socket& socket, std::string_view target, std::string& rest) {
  const std::string text = fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", target,
                                       address_of(endpoint));
  std::string_view left = text;
  while (!left.empty()) {
    const ssize_t n = ::send(socket.fd(), left.data(), left.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw unreachable(endpoint, std::strerror(errno));
    left.remove_prefix(static_cast<std::size_t>(n));
  }
  std::string head;
  char buffer[4096];
  for (;;) {
    if (const auto end = head.find("\r\n\r\n"); end != std::string::npos) {
      rest = head.substr(end + 4);
      head.resize(end);
      break;
    }
    const ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw unreachable(endpoint, n == 0 ? "it closed the connection without an answer" : std::strerror(errno));
    head.append(buffer, static_cast<std::size_t>(n));
    if (head.size() > 64 * 1024) throw unreachable(endpoint, "not an HTTP answer");
  }
  int status = 0;
  if (std::sscanf(head.c_str(), "HTTP/1.%*d %d", &status) != 1) throw unreachable(endpoint, "not an HTTP answer");
  return status;
}

}  // namespace

HttpAnswer http_get(const Endpoint& endpoint, std::string_view target) {
  Socket socket(endpoint, true);
  HttpAnswer answer;
  answer.status = request(endpoint, socket, target, answer.body);
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw unreachable(endpoint, std::strerror(errno));
    if (n == 0) break;
    answer.body.append(buffer, static_cast<std::size_t>(n));
  }
  return answer;
}

HttpAnswer http_get_lines(const Endpoint& endpoint, std::string_view target,
                          const std::function<bool(std::string_view line)>& on_line) {
  Socket socket(endpoint, false);
  HttpAnswer answer;
  std::string pending;
  answer.status = request(endpoint, socket, target, pending);
  char buffer[16384];
  for (bool more = true; more;) {
    if (answer.status == 200) {
      std::size_t start = 0;
      for (std::size_t end; more && (end = pending.find('\n', start)) != std::string::npos; start = end + 1)
        more = on_line(std::string_view(pending).substr(start, end - start));
      pending.erase(0, start);
      if (!more) break;
    }
    const ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw unreachable(endpoint, std::strerror(errno));
    if (n == 0) break;
    pending.append(buffer, static_cast<std::size_t>(n));
  }
  if (answer.status != 200) answer.body = std::move(pending);
  return answer;
}

std::string url_encoded(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~')
      out += c;
    else
      out += fmt::format("%{:02X}", byte);
  }
  return out;
}

}  // namespace weir::cli
