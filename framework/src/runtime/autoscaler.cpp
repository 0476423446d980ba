#include "autoscaler.hpp"

#include <weir/logging.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace weir::runtime {

namespace {

constexpr auto sample_every = std::chrono::milliseconds(250);
constexpr unsigned full_samples = 4;    // one second at least 3/4 full
constexpr unsigned empty_samples = 8;   // two seconds empty
constexpr auto min_between_changes = std::chrono::seconds(1);
constexpr auto calm_before_removing = std::chrono::seconds(3);

// The machine's idle and total CPU time, from the first line of /proc/stat
// (idle and iowait count as idle); zeros when it cannot be read.
std::pair<std::uint64_t, std::uint64_t> machine_times() {
  std::ifstream stat("/proc/stat");
  std::string label;
  stat >> label;
  if (label != "cpu") return {0, 0};
  std::uint64_t idle = 0, total = 0, value = 0;
  for (int field = 0; field < 10 && stat >> value; ++field) {
    total += value;
    if (field == 3 || field == 4) idle += value;
  }
  return {idle, total};
}

std::uint64_t thread_cpu_ns(std::jthread& thread) {
  clockid_t clock{};
  timespec ts{};
  if (pthread_getcpuclockid(thread.native_handle(), &clock) != 0 || clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Autoscaler::Autoscaler(std::vector<StageRuntime*> stages, Scale scale, Draining draining)
    : scale_(std::move(scale)), draining_(std::move(draining)),
      cores_(std::max(1u, std::thread::hardware_concurrency())) {
  const auto now = Clock::now();
  for (StageRuntime* stage : stages) watches_.push_back({stage, 0, 0, snapshot(*stage, now), now});
  thread_ = std::thread([this] { run(); });
}

Autoscaler::~Autoscaler() { stop(); }

void Autoscaler::stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Autoscaler::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, sample_every, [this] { return stopping_; })) {
    lock.unlock();
    if (!draining_()) {
      const auto now = Clock::now();
      for (auto& watch : watches_) sample(watch, now);
    }
    lock.lock();
  }
}

Autoscaler::Snapshot Autoscaler::snapshot(StageRuntime& stage, Clock::time_point now) {
  Snapshot s;
  s.at = now;
  {
    // The replica list's shape; the threads are joined only after this
    // autoscaler has stopped (Pipeline::wait), so their handles stay valid.
    std::lock_guard lock(stage.replicas_mutex);
    for (auto& replica : stage.replicas) {
      s.received += replica->received.get();
      s.starved_ns += replica->starved_ns.get();
      s.blocked_ns += replica->blocked_ns.get();
      if (!replica->done.load(std::memory_order_acquire) && replica->thread.joinable())
        s.cpu_ns += thread_cpu_ns(replica->thread);
    }
  }
  std::tie(s.machine_idle, s.machine_total) = machine_times();
  return s;
}

void Autoscaler::sample(Watch& watch, Clock::time_point now) {
  StageRuntime& stage = *watch.stage;
  if (stage.finished.load(std::memory_order_acquire) || !stage.queue) return;
  std::size_t depth = 0, capacity = 0;
  for (std::size_t lane = 0; lane < stage.queue->lane_count(); ++lane) {
    depth += stage.queue->size(lane);
    capacity += stage.queue->capacity(lane);
  }
  const bool full = depth * 4 >= capacity * 3;
  const bool empty = depth == 0;
  // A streak starts with the first sample of its kind; its snapshot is what
  // the decision at its end compares against.
  if ((full && watch.full == 0) || (empty && watch.empty == 0)) watch.streak_start = snapshot(stage, now);
  watch.full = full ? watch.full + 1 : 0;
  watch.empty = empty ? watch.empty + 1 : 0;

  const Autoscale& range = *stage.spec->autoscale;
  const unsigned current = stage.wanted.load(std::memory_order_relaxed);
  if (now - watch.last_change < min_between_changes) return;

  if (watch.full >= full_samples && current < range.max) {
    const Snapshot end = snapshot(stage, now);
    const Snapshot& start = watch.streak_start;
    const double span = std::max(1e-3, seconds(end.at - start.at));
    const double waiting = static_cast<double>((end.starved_ns - start.starved_ns) + (end.blocked_ns - start.blocked_ns)) / 1e9;
    const double busy = std::max(0.0, current * span - waiting);               // replica-seconds in the plugin
    const double cpu = static_cast<double>(end.cpu_ns - std::min(end.cpu_ns, start.cpu_ns)) / 1e9;  // CPU-seconds
    const bool off_cpu = cpu < 0.5 * busy;
    const std::uint64_t total = end.machine_total - std::min(end.machine_total, start.machine_total);
    const double idle_cores =
        total == 0 ? 0.0
                   : static_cast<double>(end.machine_idle - std::min(end.machine_idle, start.machine_idle)) /
                         static_cast<double>(total) * cores_;
    if (off_cpu || idle_cores >= 1.0) {
      // Work that waits off the CPU doubles (a deep backlog of I/O-bound
      // work is reached in a few steps, and an overshoot is given back one
      // replica at a time); CPU-bound work takes one idle core more.
      const unsigned wanted = off_cpu ? std::min(range.max, current * 2) : current + 1;
      change(watch, current, wanted,
             fmt::format("input at least 3/4 full for {:.1f} s; {}", span,
                         off_cpu ? fmt::format("the replicas spent {:.0f}% of their busy time off the CPU",
                                               busy > 0 ? 100.0 * (1.0 - cpu / busy) : 100.0)
                                 : fmt::format("{:.1f} idle cores", idle_cores)),
             now);
    }
    return;
  }
  if (watch.empty >= empty_samples && current > range.min && now - watch.last_change >= calm_before_removing) {
    const Snapshot end = snapshot(stage, now);
    const Snapshot& start = watch.streak_start;
    const double span = std::max(1e-3, seconds(end.at - start.at));
    const double idle_replicas = static_cast<double>(end.starved_ns - start.starved_ns) / 1e9 / span;
    const bool took_nothing = end.received == start.received;
    if (took_nothing || idle_replicas >= 1.25)
      change(watch, current, current - 1,
             took_nothing ? fmt::format("no input for {:.1f} s", span)
                          : fmt::format("input empty for {:.1f} s, {:.1f} replicas idle", span, idle_replicas),
             now);
  }
}

void Autoscaler::change(Watch& watch, unsigned from, unsigned to, const std::string& why, Clock::time_point now) {
  try {
    scale_(*watch.stage, to);
  } catch (const std::logic_error&) {
    return;  // the stage has finished meanwhile
  }
  (to > from ? watch.stage->scaled_up : watch.stage->scaled_down).fetch_add(1, std::memory_order_relaxed);
  weir::logger()->info("stage '{}': replicas {} -> {} ({})", watch.stage->spec->name, from, to, why);
  watch.last_change = now;
  watch.full = watch.empty = 0;
}

}  // namespace weir::runtime
