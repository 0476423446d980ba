#include "log_format.hpp"

#include <spdlog/pattern_formatter.h>

#include <chrono>
#include <ctime>
#include <fmt/format.h>

namespace weir::cli {

namespace {

bool json = false;

// JSON string content: quotes, backslashes and control characters escaped;
// bytes that are not UTF-8 are replaced (U+FFFD) so every line stays JSON.
void append_escaped(std::string_view text, spdlog::memory_buf_t& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      // A well-formed multi-byte sequence passes whole.
      const std::size_t length = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
      bool valid = length != 0 && i + length <= text.size();
      for (std::size_t k = 1; valid && k < length; ++k)
        valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      if (valid) {
        out.append(text.data() + i, text.data() + i + length);
        i += length - 1;
      } else {
        out.append(std::string_view("\xEF\xBF\xBD"));
      }
    }
  }
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) override {
    const auto since_epoch = message.time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
    const std::time_t t = seconds.count();
    std::tm utc{};
    gmtime_r(&t, &utc);
    fmt::format_to(std::back_inserter(out), "{{\"time\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"level\":\"",
                   utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
    const auto level = spdlog::level::to_string_view(message.level);
    out.append(level.data(), level.data() + level.size());
    out.append(std::string_view("\",\"logger\":\""));
    append_escaped(std::string_view(message.logger_name.data(), message.logger_name.size()), out);
    out.append(std::string_view("\",\"message\":\""));
    append_escaped(std::string_view(message.payload.data(), message.payload.size()), out);
    out.append(std::string_view("\"}\n"));
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void set_log_format(const std::string& format) { json = format == "json"; }

bool json_logs() noexcept { return json; }

std::unique_ptr<spdlog::formatter> make_log_formatter() {
  if (json) return std::make_unique<JsonFormatter>();
  return std::make_unique<spdlog::pattern_formatter>();
}

}  // namespace weir::cli
