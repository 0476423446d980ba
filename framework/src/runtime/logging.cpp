#include <weir/logging.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace weir {

namespace {

// Made directly, not through spdlog's registry: the name "weir" stays free
// for the host program's own loggers, and spdlog's default logger (which
// writes to standard output) is left to the host.
std::shared_ptr<spdlog::logger> standard_error_logger() {
  return std::make_shared<spdlog::logger>("weir", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
}

std::shared_ptr<spdlog::logger> silent_logger() {
  auto silent = std::make_shared<spdlog::logger>("weir");
  silent->set_level(spdlog::level::off);
  return silent;
}

struct Current {
  std::mutex mutex;
  std::shared_ptr<spdlog::logger> logger = standard_error_logger();
};

Current& current() {
  static Current instance;
  return instance;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger() {
  auto& c = current();
  std::lock_guard lock(c.mutex);
  return c.logger;
}

void set_logger(std::shared_ptr<spdlog::logger> logger) {
  if (!logger) logger = silent_logger();
  auto& c = current();
  std::lock_guard lock(c.mutex);
  c.logger = std::move(logger);
}

void set_log_sink(std::shared_ptr<spdlog::sinks::sink> sink) {
  set_logger(sink ? std::make_shared<spdlog::logger>("weir", std::move(sink)) : nullptr);
}

}  // namespace weir
