// dedupe: drops a message when another with the same key passed within the
// window. The window is shared by the stage's replicas, so a repeat is caught
// whichever replica it reaches.

#include <weir_std/option_checks.hpp>
#include <weir_std/shared_by_stage.hpp>
#include <weir_std/template.hpp>

#include <weir/plugin.hpp>

#include <deque>
#include <mutex>
#include <unordered_map>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> dedupe_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "key", .type = OptionType::string,
       .description = "Template of the key: {payload}, {priority}, {id}, {attr:NAME} or {NAME}",
       .default_value = "'{payload}'", .example = "'{user}:{event}'"},
      {.name = "window", .type = OptionType::duration,
       .description = "How long a key is remembered after it first passed", .default_value = "1m", .min = 0},
      {.name = "max_keys", .type = OptionType::integer,
       .description = "Keys remembered at most; past it the oldest are forgotten early (bounds memory)",
       .default_value = "100000", .min = 1},
  };
  return specs;
}

class Window {
 public:
  Window(Clock::duration length, std::size_t max_keys) : length_(length), max_keys_(max_keys) {}

  // True when `key` is new (and now remembered); false for a repeat.
  bool admit(std::string key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    while (!order_.empty() && (order_.front().first + length_ <= now || order_.size() > max_keys_)) forget_oldest();
    auto [it, inserted] = seen_.try_emplace(std::move(key), now);
    if (!inserted) return false;
    order_.emplace_back(now, it->first);
    if (order_.size() > max_keys_) forget_oldest();
    return true;
  }

 private:
  void forget_oldest() {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }

  std::mutex mutex_;
  Clock::duration length_;
  std::size_t max_keys_;
  std::unordered_map<std::string, Clock::time_point> seen_;
  std::deque<std::pair<Clock::time_point, std::string>> order_;
};

class Dedupe final : public Processor {
 public:
  Dedupe(const Options& options, const StageContext& context) : key_(Template::compile(options.string("key"))) {
    auto window = options.duration("window");
    auto max_keys = options.integer("max_keys");
    if (window < Value::Duration::zero())
      reject_option(context, "window", "a negative duration", "a duration of 0 or more");
    if (max_keys < 1) reject_option(context, "max_keys", fmt::format("{} is below 1", max_keys), "1 or more");
    window_ = shared_by_key<Window>(
        fmt::format("{}/{}/{}/{}/{}", context.stage, context.plugin, key_.text(), window.count(), max_keys), [&] {
          return std::make_shared<Window>(std::chrono::duration_cast<Clock::duration>(window),
                                          static_cast<std::size_t>(max_keys));
        });
  }

  void process(Message& message, Emitter& out) override {
    if (window_->admit(key_.render(message), Clock::now())) out.emit(std::move(message));
  }

 private:
  Template key_;
  std::shared_ptr<Window> window_;
};

}  // namespace
}  // namespace weir::stdp

WEIR_PLUGIN(dedupe, processor, "dedupe", "Drops repeats of a key within a time window", weir::stdp::Dedupe,
            weir::stdp::dedupe_options, weir::stdp::example_yaml)
