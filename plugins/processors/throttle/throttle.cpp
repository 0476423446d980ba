// throttle: at most `rate` messages per second through the stage, by making
// each message wait for its slot. Waiting (instead of dropping) holds the
// replica, its input channel fills, and the backpressure reaches the source.

#include <weir_std/option_checks.hpp>
#include <weir_std/rate_bucket.hpp>
#include <weir_std/shared_by_stage.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> throttle_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "rate", .type = OptionType::number,
       .description = "Messages per second through the stage (all replicas together)", .required = true,
       .min = 0.001, .example = "100"},
      {.name = "burst", .type = OptionType::integer,
       .description = "Messages that may pass back to back after a quiet spell (plus up to 2 ms worth at the "
                      "rate)",
       .default_value = "1", .min = 1},
  };
  return specs;
}

class Throttle final : public Processor {
 public:
  Throttle(const Options& options, const StageContext& context) {
    double rate = options.number("rate");
    std::int64_t burst = options.integer("burst");
    if (!(rate > 0)) reject_option(context, "rate", fmt::format("{} lets nothing through", rate), "a rate above 0");
    if (burst < 1) reject_option(context, "burst", fmt::format("{} is below 1", burst), "1 or more");
    bucket_ = shared_by_key<RateBucket>(fmt::format("{}/{}/{}/{}", context.stage, context.plugin, rate, burst),
                                        [&] { return std::make_shared<RateBucket>(rate, burst); });
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
}  // namespace weir::stdp

WEIR_PLUGIN(throttle, processor, "throttle",
            "Lets at most N messages per second through by making them wait, so backpressure reaches the source",
            weir::stdp::Throttle, weir::stdp::throttle_options, weir::stdp::example_yaml)
