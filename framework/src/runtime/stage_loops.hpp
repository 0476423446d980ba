#pragma once
// What each replica thread does, by kind, and how it sends what it produces.

#include "graph.hpp"

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace weir::runtime {

// The pipeline-wide state the replica loops share.
struct RunState {
  std::atomic<bool> forced{false};
  mutable std::mutex state_mutex;
  std::condition_variable state_cv;  // stage ends, forced stop (wakes retry backoffs)
  mutable std::mutex errors_mutex;
  std::vector<std::string> errors;   // hooks that failed outside message handling
  std::atomic<std::uint64_t> next_id{1};

  void record_error(std::string error);
};

// Runs one replica to its end: the source until exhausted or stopped; a
// processor or sink until its queue is closed and drained, it takes one of
// its stage's leave requests (scale-down), or the stop is forced. Then
// flush(), and stop() unless it is a source.
void run_replica(RunState& run, StageRuntime& stage, Replica& replica);

// stop() of one replica, its failure recorded. The pipeline stops its sources
// this way once every replica thread has ended: by then every copy of every
// message is written, failed or abandoned, so each acknowledgement has been
// settled, and a source's stop() can commit them (stop fetching → drain →
// acknowledgements settled → commit → close).
void stop_replica(RunState& run, StageRuntime& stage, Replica& replica);

}  // namespace weir::runtime
