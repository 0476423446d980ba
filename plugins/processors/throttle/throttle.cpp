// throttle: at most `rate` messages per second through the stage, by making
// each message wait for its slot. Waiting (instead of dropping) holds the
// replica, its input channel fills, and the backpressure reaches the source.

#include <weir_std/shared_by_stage.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>

#include <fmt/format.h>

#include <mutex>

namespace weir::stdp {
namespace {

const Option<double> rate{.name = "rate",
                          .description = "Messages per second through the stage (all replicas together)",
                          .required = true,
                          .min = 0.001,
                          .example = "100"};
const Option<std::int64_t> burst{.name = "burst",
                                 .description = "Messages that may pass back to back after a quiet spell",
                                 .default_value = "1",
                                 .min = 1};

// The generic cell rate algorithm: `next_` is when the bucket would be empty
// again. A message's slot is the earliest time at most `burst` slots are
// outstanding; reserving under the lock and waiting outside it keeps the
// replicas fair and the lock short.
class Bucket {
 public:
  Bucket(double rate, std::int64_t burst)
      : interval_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate))),
        tolerance_(interval_ * (burst - 1)) {}

  Clock::time_point reserve(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    Clock::time_point slot = std::max(now, next_ - tolerance_);
    next_ = std::max(next_, slot) + interval_;
    return slot;
  }

 private:
  std::mutex mutex_;
  Clock::duration interval_;
  Clock::duration tolerance_;
  Clock::time_point next_{};
};

class Throttle final : public Processor {
 public:
  Throttle(const Options& options, const StageContext& context) {
    const double per_second = options[rate];
    const std::int64_t back_to_back = options[burst];
    bucket_ = shared_by_key<Bucket>(
        fmt::format("{}/{}/{}/{}", context.stage, context.plugin, per_second, back_to_back),
        [&] { return std::make_shared<Bucket>(per_second, back_to_back); });
  }

  void process(Message& message, Emitter& out) override {
    // A stop cuts the wait short; the message still goes on, not lost.
    wait_until(stopping_.get_token(), bucket_->reserve(Clock::now()));
    out.emit(std::move(message));
  }

  void stop() override { stopping_.request_stop(); }

 private:
  std::shared_ptr<Bucket> bucket_;
  std::stop_source stopping_;
};

}  // namespace

WEIR_PLUGIN(throttle) {
    .name = "throttle",
    .kind = Kind::processor,
    .description = "Lets at most N messages per second through by making them wait, so backpressure reaches the "
                   "source",
    .options = {rate, burst},
    .example = plugin_example,
    .create = construct<Throttle>,
};

}  // namespace weir::stdp
