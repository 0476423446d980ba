// count: counts and discards. The run report already shows what each stage
// received; this sink adds its own count and rate to the log, and a progress
// line every `log_every` messages.

#include <weir_std/option_checks.hpp>

#include <weir/plugin.hpp>

#include <chrono>
#include <optional>

namespace weir::weir_std {
namespace {

const Option<std::int64_t> log_every{
    .name = "log_every",
    .description = "Log the count and rate every this many messages; 0 only logs the total at the end",
    .default_value = "0",
    .min = 0,
    .example = "100000"};

class Count final : public Sink {
 public:
  Count(const Options& options, const StageContext& context)
      : logger_(logger_for(context)), log_every_(static_cast<std::uint64_t>(options[log_every])) {}

  void write(const Message&) override { add(1); }
  void write_batch(std::span<const Message> batch) override { add(batch.size()); }

  void stop() override {
    logger_->info("counted {} messages ({:.0f}/s)", count_, rate());
  }

  std::uint64_t count() const noexcept { return count_; }

 private:
  void add(std::uint64_t n) {
    if (!first_) first_ = Clock::now();
    std::uint64_t before = count_;
    count_ += n;
    if (log_every_ != 0 && before / log_every_ != count_ / log_every_)
      logger_->info("counted {} messages so far ({:.0f}/s)", count_, rate());
  }

  // Measured from the first message, so time spent before any arrived (a
  // slow start-up, an idle source) does not dilute the rate.
  double rate() const {
    if (!first_) return 0;
    double seconds = std::chrono::duration<double>(Clock::now() - *first_).count();
    return seconds > 0 ? static_cast<double>(count_) / seconds : 0;
  }

  std::shared_ptr<spdlog::logger> logger_;
  std::uint64_t log_every_;
  std::uint64_t count_ = 0;
  std::optional<Clock::time_point> first_;
};

}  // namespace

WEIR_PLUGIN(count_sink) {
    .name = "count",
    .kind = Kind::sink,
    .description = "Counts and discards messages; logs the count and rate",
    .options = {log_every},
    .example = plugin_example,
    .create = construct<Count>,
};

}  // namespace weir::weir_std
