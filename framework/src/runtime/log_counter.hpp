#pragma once
// Counts the warnings a stage's plugin logs, for the report (`warnings`) and
// `weir run --strict`: a plugin that goes on past a problem (a file in a glob
// it cannot read) says so in its log, and the count keeps that from passing
// unseen in an exit code.

#include <spdlog/sinks/sink.h>

#include <atomic>
#include <cstdint>

namespace weir::runtime {

class LogCounter final : public spdlog::sinks::sink {
 public:
  LogCounter() { set_level(spdlog::level::warn); }
  void log(const spdlog::details::log_msg&) override { count_.fetch_add(1, std::memory_order_relaxed); }
  void flush() override {}
  void set_pattern(const std::string&) override {}
  void set_formatter(std::unique_ptr<spdlog::formatter>) override {}
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> count_{0};  // a plugin may log from threads of its own
};

}  // namespace weir::runtime
