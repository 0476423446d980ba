// simulate_work: spend a chosen time per message, picked by an attribute's
// value (the seed's email / image / report jobs), sleeping or burning CPU.

#include <weir/plugin.hpp>

#include <thread>
#include <unordered_map>

namespace weir::weir_std {
namespace {

enum class Mode { sleep, cpu };

const Option<std::string> attribute{
    .name = "attribute", .description = "The attribute whose value picks the duration", .default_value = "kind"};
const Option<Named<Value::Duration>> durations{
    .name = "durations",
    .description = "Time per message for each value of `attribute`",
    .default_value = "{email_send: 5ms, image_resize: 10ms, report_generate: 20ms}",
    .min = 0,
    .example = "{small: 1ms, large: 50ms}"};
const Option<Value::Duration> default_duration{
    .name = "default_duration",
    .description = "Time for messages whose value is not in `durations` (or that lack the attribute)",
    .default_value = "1ms",
    .min = 0};
const Option<Mode> mode{
    .name = "mode",
    .description = "`sleep` parks the thread (I/O-bound work); `cpu` keeps a core busy (CPU-bound work)",
    .default_value = "sleep",
    .choices = {{"sleep", Mode::sleep}, {"cpu", Mode::cpu}}};

class SimulateWork final : public Processor {
 public:
  SimulateWork(const Options& options, const StageContext&)
      : attribute_(options[attribute]), fallback_(options[default_duration]), burn_cpu_(options[mode] == Mode::cpu) {
    for (const auto& [value, time] : options[durations]) durations_.emplace(value, time);
  }

  void process(Message& message, Emitter& out) override {
    Value::Duration time = fallback_;
    if (const std::string* value = message.attributes.find(attribute_)) {
      auto it = durations_.find(*value);
      if (it != durations_.end()) time = it->second;
    }
    if (burn_cpu_)
      burn(time);
    else
      std::this_thread::sleep_for(time);
    out.emit(std::move(message));
  }

 private:
  // Busy on purpose: this mode stands for CPU-bound work, so it must occupy
  // the core rather than park. The arithmetic is kept observable so the
  // compiler cannot drop the loop.
  static void burn(Value::Duration time) {
    const auto until = Clock::now() + time;
    volatile std::uint64_t sink = 0;
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    while (Clock::now() < until) {
      for (int i = 0; i < 256; ++i) state = state * 6364136223846793005ull + 1442695040888963407ull;
      sink = state;
    }
    (void)sink;
  }

  std::string attribute_;
  Value::Duration fallback_;
  bool burn_cpu_;
  std::unordered_map<std::string, Value::Duration> durations_;
};

}  // namespace

WEIR_PLUGIN(simulate_work) {
    .name = "simulate_work",
    .kind = Kind::processor,
    .description = "Spends a set time on each message, chosen by an attribute's value: sleeping (I/O-bound) or "
                   "burning CPU (CPU-bound); for demos, benchmarks and the seed's job queue",
    .options = {attribute, durations, default_duration, mode},
    .example = plugin_example,
    .create = construct<SimulateWork>,
};

}  // namespace weir::weir_std
