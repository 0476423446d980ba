#pragma once
// The pipeline-wide state the replica loops share with the pipeline that
// runs them.

#include <weir/logging.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace weir::runtime {

struct RunState {
  // A forced stop was requested (a second signal, drain_timeout, force_stop()):
  // every queue is closed, replicas finish the message in hand and leave.
  std::atomic<bool> stop_forced{false};
  mutable std::mutex state_mutex;
  std::condition_variable state_cv;  // stage ends, forced stop (wakes retry backoffs)
  mutable std::mutex errors_mutex;
  std::vector<std::string> errors;   // hooks that failed outside message handling
  std::atomic<std::uint64_t> next_id{1};

  void record_error(std::string error) {
    weir::logger()->error("{}", error);
    std::lock_guard lock(errors_mutex);
    errors.push_back(std::move(error));
  }
};

}  // namespace weir::runtime
