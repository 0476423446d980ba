#pragma once
// What the http_server source and the http_client sink share: the address
// and URL syntax, and how long a `Retry-After` asks a client to wait.

#include <weir/message.hpp>

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace weir::weir_std::http {

struct Endpoint {
  std::string host;
  int port = 0;
};

// HOST:PORT ("127.0.0.1:8080", "[::1]:8080", ":8080" for every address);
// throws std::invalid_argument saying what is wrong.
inline int parse_port(std::string_view port) {
  int value = -1;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || error != std::errc() || end != port.data() + port.size() || value < 0 || value > 65535)
    throw std::invalid_argument(fmt::format("the port '{}' is not a number from 0 to 65535", port));
  return value;
}

inline Endpoint parse_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw std::invalid_argument("expected HOST:PORT");
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host.empty() ? "0.0.0.0" : std::string(host), parse_port(text.substr(colon + 1))};
}

// http://HOST[:PORT][/PATH] or https://…; throws std::invalid_argument.
struct Url {
  bool tls = false;
  std::string host;
  int port = 0;
  std::string path;  // "/" when the URL has none
  std::string origin() const { return fmt::format("{}://{}:{}", tls ? "https" : "http", host, port); }
};

inline Url parse_url(std::string_view text) {
  Url url;
  std::string_view rest;
  if (text.starts_with("http://")) {
    rest = text.substr(7);
  } else if (text.starts_with("https://")) {
    url.tls = true;
    rest = text.substr(8);
  } else {
    throw std::invalid_argument("expected a URL starting with http:// or https://");
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  url.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.empty()) throw std::invalid_argument("the URL names no host");
  if (authority.find('@') != std::string_view::npos)
    throw std::invalid_argument("credentials in the URL are not supported; send them in a header");
  url.port = url.tls ? 443 : 80;
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    url.port = parse_port(authority.substr(colon + 1));
    authority = authority.substr(0, colon);
  }
  if (authority.size() >= 2 && authority.front() == '[' && authority.back() == ']')
    authority = authority.substr(1, authority.size() - 2);
  if (authority.empty()) throw std::invalid_argument("the URL names no host");
  url.host = std::string(authority);
  return url;
}

// Whole seconds, at least 1: what a Retry-After header can say.
inline std::string retry_after_seconds(std::chrono::nanoseconds wait) {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(wait).count();
  return std::to_string(seconds < 1 ? 1 : seconds);
}

// A Retry-After in seconds (the HTTP-date form is not honoured: it needs
// clocks that agree); nullopt when absent or not a number.
inline std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  std::int64_t seconds = -1;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || error != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

}  // namespace weir::weir_std::http
