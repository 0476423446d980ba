// fail: fails a chosen share of messages, for dead-letter and retry drills.
// Which messages fail is a pure function of the seed and the message, so a
// run repeats exactly and a retried message meets the same fate.

#include <weir/plugin.hpp>

#include <fmt/format.h>

#include <functional>
#include <unordered_map>

namespace weir::weir_std {
namespace {

enum class ErrorKind { retryable, permanent };

const Option<double> share{.name = "share",
                           .description = "The share of messages that fail, 0 to 1",
                           .default_value = "0.1",
                           .min = 0,
                           .max = 1,
                           .example = "0.05"};
const Option<ErrorKind> error{
    .name = "error",
    .description = "`retryable` errors are retried by the stage's on_error policy; `permanent` ones go straight "
                   "to the dead letter",
    .default_value = "permanent",
    .choices = {{"retryable", ErrorKind::retryable}, {"permanent", ErrorKind::permanent}}};
const Option<std::int64_t> times{
    .name = "times",
    .description = "How often a chosen message fails before it succeeds; 0 fails it every time",
    .default_value = "0",
    .min = 0,
    .example = "2"};
const Option<std::int64_t> seed{.name = "seed", .description = "Seed of the choice", .default_value = "1"};

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
  Fail(const Options& options, const StageContext&)
      : share_(options[share]),
        retryable_(options[error] == ErrorKind::retryable),
        times_(options[times]),
        seed_(static_cast<std::uint64_t>(options[seed])) {}

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

WEIR_PLUGIN(fail) {
    .name = "fail",
    .kind = Kind::processor,
    .description =
        "Fails a chosen share of messages (retryable or permanent, deterministic by seed) for dead-letter drills",
    .options = {share, error, times, seed},
    .example = plugin_example,
    .create = construct<Fail>,
};

}  // namespace weir::weir_std
