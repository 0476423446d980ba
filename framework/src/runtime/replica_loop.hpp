#pragma once
// What each replica's thread does, by kind: a source runs until it is
// exhausted or stopped; a processor or sink takes batches from its queue,
// handles them under the retry policy (retry_policy.hpp) and sends what
// comes out (routing.hpp).

#include "graph.hpp"
#include "run_state.hpp"

namespace weir::runtime {

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
