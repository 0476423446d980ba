#pragma once
// The other end of `weir run --metrics`: `weir top` and `weir tap` reach a
// running pipeline through its metrics address, over plain HTTP/1.1.

#include "metrics_server.hpp"

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace weir::cli {

// Where `weir top` and `weir tap` look when no address is given.
inline constexpr std::string_view default_metrics_address = "127.0.0.1:9464";

// Nothing answers at the address (refused, unreachable, timed out), or what
// answers is not weir's metrics server; the message says which and what to do.
class Unreachable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// GET `target`, the whole answer. Throws Unreachable.
HttpAnswer http_get(const Endpoint& endpoint, std::string_view target);

// GET `target` and hand each line of a 200 answer's body to `on_line` as it
// arrives (without the newline), until the server ends it or `on_line`
// returns false. Another status: its body, read whole. Throws Unreachable.
HttpAnswer http_get_lines(const Endpoint& endpoint, std::string_view target,
                          const std::function<bool(std::string_view line)>& on_line);

// %-encoding for a query value.
std::string url_encoded(std::string_view text);

}  // namespace weir::cli
