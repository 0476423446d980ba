#pragma once
// Where weir's log lines go: the runtime's own (a drain_timeout running out,
// a hook that failed) and every stage's (StageContext::logger is made from
// this logger, one per replica, named after the stage).
//
// By default they go to standard error through an spdlog logger named
// "weir", never to standard output, which belongs to the host program (and,
// in `weir run --report -`, to the JSON report). A host program chooses:
//
//   weir::set_logger(my_logger);   // its own spdlog logger: its sinks, level, pattern
//   weir::set_log_sink(my_sink);   // or only its own sink, under a logger named "weir"
//   weir::set_logger(nullptr);     // or nothing at all
//
// Stage loggers are copied from it when a pipeline makes its stages (at
// construction, and when scale() adds replicas): set it before building.

#include <memory>

namespace spdlog {
class logger;
namespace sinks {
class sink;
}
}  // namespace spdlog

namespace weir {

// The logger weir writes through now. Never null (when logging is off, a
// logger with no sink at level `off`). Thread-safe.
std::shared_ptr<spdlog::logger> logger();

// Sends weir's log lines through `logger`; nullptr turns them off.
// Thread-safe; pipelines built afterwards use it for their stages.
void set_logger(std::shared_ptr<spdlog::logger> logger);

// Sends weir's log lines to `sink` alone, through a logger named "weir" at
// level info; nullptr turns them off.
void set_log_sink(std::shared_ptr<spdlog::sinks::sink> sink);

}  // namespace weir
