// throttle: at most `rate` messages per second through the stage, by making
// each message wait for its slot. Waiting (instead of dropping) holds the
// replica, its input channel fills, and the backpressure reaches the source.

#include <weir_std/rate_bucket.hpp>
#include <weir_std/shared_by_stage.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>

#include <fmt/format.h>

namespace weir::weir_std {
namespace {

const Option<double> rate{.name = "rate",
                          .description = "Messages per second through the stage (all replicas together)",
                          .required = true,
                          .min = 0.001,
                          .example = "100"};
const Option<std::int64_t> burst{
    .name = "burst",
    .description = "Messages that may pass back to back after a quiet spell (plus up to 2 ms worth at the rate)",
    .default_value = "1",
    .min = 1};

class Throttle final : public Processor {
 public:
  Throttle(const Options& options, const StageContext& context) {
    const double per_second = options[rate];
    const std::int64_t back_to_back = options[burst];
    bucket_ = shared_by_key<RateBucket>(
        fmt::format("{}/{}/{}/{}", context.stage, context.plugin, per_second, back_to_back),
        [&] { return std::make_shared<RateBucket>(per_second, back_to_back); });
  }

  void process(Message& message, Emitter& out) override {
    // A stop cuts the wait short; the message still goes on, not lost. A
    // slot already passed needs no wait (at high rates, most of them).
    const Clock::time_point now = Clock::now();
    if (const Clock::time_point slot = bucket_->reserve(now); slot > now) {
      wait_until(stopping_.get_token(), slot);
      bucket_->woke(slot, Clock::now());
    }
    out.emit(std::move(message));
  }

  void stop() override { stopping_.request_stop(); }

 private:
  std::shared_ptr<RateBucket> bucket_;
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

}  // namespace weir::weir_std
