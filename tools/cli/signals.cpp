#include "signals.hpp"

namespace weir::cli {

sigset_t stop_signals() noexcept {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

sigset_t stop_and_reload_signals() noexcept {
  sigset_t set = stop_signals();
  sigaddset(&set, SIGHUP);
  return set;
}

sigset_t run_signals() noexcept {
  sigset_t set = stop_and_reload_signals();
  sigaddset(&set, run_over_signal);
  return set;
}

}  // namespace weir::cli
