// dedupe: drops a message when another with the same key passed within the
// window. The window is shared by the stage's replicas, so a repeat is caught
// whichever replica it reaches.

#include <weir_std/option_checks.hpp>
#include <weir_std/shared_by_stage.hpp>

#include <weir/plugin.hpp>
#include <weir/template.hpp>

#include <deque>
#include <mutex>
#include <unordered_map>

namespace weir::weir_std {
namespace {

const Option<Template> key{.name = "key",
                           .description = "Template of the key: {payload}, {priority}, {id}, {attr:NAME} or {NAME}",
                           .default_value = "'{payload}'",
                           .example = "'{user}:{event}'"};
const Option<Value::Duration> window{.name = "window",
                                     .description = "How long a key is remembered after it first passed",
                                     .default_value = "1m",
                                     .min = 0};
const Option<std::int64_t> max_keys{
    .name = "max_keys",
    .description = "Keys remembered at most; past it the oldest are forgotten early (bounds memory)",
    .default_value = "100000",
    .min = 1};

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
  Dedupe(const Options& options, const StageContext& context) : key_(options[key]) {
    const auto length = options[window];
    const auto most = options[max_keys];
    window_ = shared_by_key<Window>(
        fmt::format("{}/{}/{}/{}/{}", context.stage, context.plugin, key_.text(), length.count(), most), [&] {
          return std::make_shared<Window>(std::chrono::duration_cast<Clock::duration>(length),
                                          static_cast<std::size_t>(most));
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

WEIR_PLUGIN(dedupe) {
    .name = "dedupe",
    .kind = Kind::processor,
    .description = "Drops repeats of a key within a time window",
    .options = {key, window, max_keys},
    .example = plugin_example,
    .create = construct<Dedupe>,
};

}  // namespace weir::weir_std
