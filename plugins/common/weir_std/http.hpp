#pragma once
// What the http_server source and the http_client sink share: the address
// and URL syntax, and how long a `Retry-After` asks a client to wait.

#include <weir/message.hpp>

#include <fmt/format.h>

#include <algorithm>
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

// An HTTP-date (RFC 9110 5.6.7) in any of its three forms, which a
// recipient must all accept: "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate),
// "Sunday, 06-Nov-94 08:49:37 GMT" (RFC 850: a two-digit year below 70 is
// 20yy) and "Sun Nov  6 08:49:37 1994" (asctime). nullopt for anything else.
inline std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text) {
  std::string_view words[7];
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == ' ' || text[i] == ',' || text[i] == '-') {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && text[end] != ' ' && text[end] != ',' && text[end] != '-') ++end;
    if (count == 7) return std::nullopt;
    words[count++] = text.substr(i, end - i);
    i = end;
  }
  auto number = [](std::string_view digits, std::size_t min_size, std::size_t max_size) -> std::optional<int> {
    int value = 0;
    if (digits.size() < min_size || digits.size() > max_size) return std::nullopt;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return value;
  };
  auto month_of = [](std::string_view name) -> std::optional<unsigned> {
    constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (unsigned m = 0; m < 12; ++m)
      if (name == months[m]) return m + 1;
    return std::nullopt;
  };
  std::string_view day, month, year, time;
  if (count == 6 && words[5] == "GMT") {  // IMF-fixdate or RFC 850
    day = words[1], month = words[2], year = words[3], time = words[4];
  } else if (count == 5) {  // asctime
    month = words[1], day = words[2], time = words[3], year = words[4];
  } else {
    return std::nullopt;
  }
  const auto d = number(day, 1, 2);
  const auto m = month_of(month);
  auto y = number(year, 2, 4);
  if (!d || !m || !y || year.size() == 3 || time.size() != 8 || time[2] != ':' || time[5] != ':') return std::nullopt;
  if (year.size() == 2) *y += *y < 70 ? 2000 : 1900;
  const auto hh = number(time.substr(0, 2), 2, 2), mm = number(time.substr(3, 2), 2, 2),
             ss = number(time.substr(6, 2), 2, 2);
  if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{*y}, std::chrono::month{*m},
                                         std::chrono::day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date} + std::chrono::hours{*hh} + std::chrono::minutes{*mm} +
         std::chrono::seconds{*ss};
}

// How long a Retry-After asks to wait: a number of seconds, or an HTTP-date
// (the time from `now` until then, 0 when it has passed: a client whose
// clock runs behind the server's waits longer, one ahead waits less).
// nullopt when absent or neither.
inline std::optional<std::chrono::seconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  std::int64_t seconds = -1;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (error == std::errc() && end == value.data() + value.size() && seconds >= 0) return std::chrono::seconds(seconds);
  if (const auto date = parse_http_date(value))
    return std::max(std::chrono::ceil<std::chrono::seconds>(*date - now), std::chrono::seconds(0));
  return std::nullopt;
}

}  // namespace weir::weir_std::http
