#include "retry_policy.hpp"

#include <algorithm>
#include <random>

namespace weir::runtime {

// Exponential, capped, with jitter in [delay/2, delay].
void RetryPolicy::back_off(unsigned attempts) {
  auto delay = policy_.backoff;
  for (unsigned i = 1; i < attempts && delay < policy_.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, policy_.max_backoff);
  thread_local std::minstd_rand random{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> jitter(delay.count() / 2, std::max<std::int64_t>(delay.count(), 1));
  std::unique_lock lock(run_.state_mutex);
  run_.state_cv.wait_for(lock, std::chrono::nanoseconds(jitter(random)),
                         [&] { return run_.stop_forced.load(std::memory_order_relaxed); });
}

}  // namespace weir::runtime
