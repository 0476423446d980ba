#pragma once
// Replicas that size themselves (`replicas: auto` or `{min, max}`): a thread
// per pipeline that samples each such stage's input queue four times a
// second and asks Pipeline::scale for one replica more or less.
//
// More: the input stayed at least 3/4 full for a whole second and the stage
// is below its max; twice as many (up to max) when its replicas mostly wait
// off the CPU (sleep, I/O: more replicas add throughput without cores), one
// more when the work is CPU-bound and the machine has at least one idle core
// (/proc/stat); none otherwise.
// One fewer: the input stayed empty for two seconds and the replicas were
// idle (waiting on the empty queue) for at least 1.25 replicas' worth of that
// time, or took nothing at all; never within three seconds of the last change.
// At most one change a second, so the count settles instead of oscillating.

#include "graph.hpp"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace weir::runtime {

class Autoscaler {
 public:
  // `scale` changes a stage's replica count (Pipeline::scale, which returns
  // at once); `draining` is true once the pipeline is stopping, when no more
  // decisions are taken.
  using Scale = std::function<void(StageRuntime&, unsigned)>;
  using Draining = std::function<bool()>;

  Autoscaler(std::vector<StageRuntime*> stages, Scale scale, Draining draining);
  ~Autoscaler();
  Autoscaler(const Autoscaler&) = delete;
  Autoscaler& operator=(const Autoscaler&) = delete;

  // Ends the thread (wakes it at once); after this no replica is added or
  // removed by it. Idempotent.
  void stop() noexcept;

 private:
  struct Snapshot {
    Clock::time_point at{};
    std::uint64_t received = 0;
    std::uint64_t starved_ns = 0;  // replicas parked on the empty input
    std::uint64_t blocked_ns = 0;  // replicas parked on full outputs
    std::uint64_t cpu_ns = 0;      // CPU time of the replica threads
    std::uint64_t machine_idle = 0, machine_total = 0;  // /proc/stat jiffies
  };
  struct Watch {
    StageRuntime* stage;
    unsigned full = 0;   // consecutive samples at least 3/4 full
    unsigned empty = 0;  // consecutive samples empty
    Snapshot streak_start;
    Clock::time_point last_change{};
  };

  void run();
  void sample(Watch& watch, Clock::time_point now);
  static Snapshot snapshot(StageRuntime& stage, Clock::time_point now);
  void change(Watch& watch, unsigned from, unsigned to, const std::string& why, Clock::time_point now);

  std::vector<Watch> watches_;
  Scale scale_;
  Draining draining_;
  unsigned cores_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace weir::runtime
