#pragma once
// The signals weir's commands take, named once. They are never handled in a
// signal handler: they are blocked in every thread and taken with sigwait or
// sigtimedwait, so what they start runs as ordinary code.
//
// SIGINT, SIGTERM  stop: `weir run` drains on the first and forces on the
//                  second; `weir top` ends.
// SIGHUP           `weir run` reloads its pipeline (--watch raises it too).
// SIGUSR1          `weir run` sends it to its own signal thread: the run is over.

#include <csignal>

namespace weir::cli {

inline constexpr int run_over_signal = SIGUSR1;

// SIGINT and SIGTERM.
sigset_t stop_signals() noexcept;

// SIGINT, SIGTERM and SIGHUP: what main() blocks before any of weir's code
// runs, so that a Ctrl-C while `weir run` loads waits for its signal thread.
sigset_t stop_and_reload_signals() noexcept;

// stop_and_reload_signals() and run_over_signal: what `weir run` blocks in
// every thread and its signal thread waits for.
sigset_t run_signals() noexcept;

}  // namespace weir::cli
