// fail: fails a chosen share of messages, for dead-letter and retry drills.
// Which messages fail is a pure function of the seed and the message, so a
// run repeats exactly and a retried message meets the same fate.

#include <weir_std/option_checks.hpp>

#include <weir/plugin.hpp>

#include <functional>
#include <unordered_map>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> fail_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "share", .type = OptionType::number, .description = "The share of messages that fail, 0 to 1",
       .default_value = "0.1", .min = 0, .max = 1, .example = "0.05"},
      {.name = "error", .type = OptionType::enumeration,
       .description = "`retryable` errors are retried by the stage's on_error policy; `permanent` ones go "
                      "straight to the dead letter",
       .default_value = "permanent", .allowed = {"retryable", "permanent"}},
      {.name = "times", .type = OptionType::integer,
       .description = "How often a chosen message fails before it succeeds; 0 fails it every time",
       .default_value = "0", .min = 0, .example = "2"},
      {.name = "seed", .type = OptionType::integer, .description = "Seed of the choice", .default_value = "1"},
  };
  return specs;
}

std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Bounds the attempt table when chosen messages never come back (no retries).
constexpr std::size_t max_tracked = 1 << 20;

class Fail final : public Processor {
 public:
  Fail(const Options& options, const StageContext& context)
      : share_(options.number("share")),
        retryable_(options.string("error") == "retryable"),
        times_(options.integer("times")),
        seed_(static_cast<std::uint64_t>(options.integer("seed"))) {
    if (!(share_ >= 0 && share_ <= 1))
      reject_option(context, "share", fmt::format("{} is not a share", share_), "a number from 0 to 1");
  }

  void process(Message& message, Emitter& out) override {
    std::uint64_t key = mix(seed_ ^ mix(message.id) ^ std::hash<std::string>{}(message.payload));
    bool chosen = static_cast<double>(key >> 11) * 0x1.0p-53 < share_;
    if (chosen && times_ > 0) {
      if (attempts_.size() >= max_tracked) attempts_.clear();
      auto& attempts = attempts_[key];
      if (attempts >= times_) {
        attempts_.erase(key);
        chosen = false;
      } else {
        ++attempts;
      }
    }
    if (!chosen) {
      out.emit(std::move(message));
      return;
    }
    std::string reason = fmt::format("fail: injected {} failure (share {}, seed {})",
                                     retryable_ ? "retryable" : "permanent", share_, seed_);
    if (retryable_) throw RetryableError(reason);
    throw PermanentError(reason);
  }

 private:
  double share_;
  bool retryable_;
  std::int64_t times_;
  std::uint64_t seed_;
  std::unordered_map<std::uint64_t, std::int64_t> attempts_;
};

}  // namespace
}  // namespace weir::stdp

WEIR_PLUGIN(fail, processor, "fail",
            "Fails a chosen share of messages (retryable or permanent, deterministic by seed) for dead-letter drills",
            weir::stdp::Fail, weir::stdp::fail_options, weir::stdp::example_yaml)
