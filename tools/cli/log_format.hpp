#pragma once
// `weir --log-format text|json`: how log records look on standard error.
// json: one object per line, {"time", "level", "logger", "message"}, for
// log collectors (Vector, Fluent Bit, Loki) to read without a parser of ours.

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <vector>

namespace weir::cli {

inline const std::vector<std::string> log_formats{"text", "json"};

// Chosen once by main, before any logger writes.
void set_log_format(const std::string& format);
// A formatter for a sink made later (the live view's): the chosen format.
std::unique_ptr<spdlog::formatter> make_log_formatter();
bool json_logs() noexcept;

}  // namespace weir::cli
