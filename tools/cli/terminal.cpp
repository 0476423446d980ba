#include "terminal.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string_view>
#include <sys/ioctl.h>
#include <unistd.h>

namespace weir::cli {

int terminal_width(std::FILE* out) {
  constexpr int narrowest = 40;
  if (const char* text = std::getenv("COLUMNS")) {
    const std::string_view value(text);
    int columns = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), columns);
    if (error == std::errc() && end == value.data() + value.size() && columns > 0) return std::max(columns, narrowest);
  }
  winsize size{};
  if (ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return std::max<int>(size.ws_col, narrowest);
  return 80;
}

}  // namespace weir::cli
