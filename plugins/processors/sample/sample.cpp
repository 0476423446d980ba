// sample: keeps 1 message in N, the rest count as filtered.

#include <weir/plugin.hpp>

#include <random>

namespace weir::weir_std {
namespace {

const Option<std::int64_t> every{.name = "every",
                                 .description = "Keep 1 message in this many (per replica)",
                                 .default_value = "10",
                                 .min = 1,
                                 .example = "100"};
const Option<bool> random{
    .name = "random",
    .description = "Keep each message with probability 1/every instead of exactly every Nth one (the first is kept)",
    .default_value = "false"};
const Option<std::int64_t> seed{.name = "seed",
                                .description = "Seed of the random choice; each replica adds its index, so runs repeat",
                                .default_value = "1"};

class Sample final : public Processor {
 public:
  Sample(const Options& options, const StageContext& context)
      : every_(static_cast<std::uint64_t>(options[every])),
        random_(options[random]),
        engine_(static_cast<std::uint64_t>(options[seed]) + context.replica) {}

  void process(Message& message, Emitter& out) override {
    bool keep = random_ ? std::uniform_int_distribution<std::uint64_t>(0, every_ - 1)(engine_) == 0
                        : seen_++ % every_ == 0;
    if (keep) out.emit(std::move(message));
  }

 private:
  std::uint64_t every_;
  bool random_;
  std::mt19937_64 engine_;
  std::uint64_t seen_ = 0;
};

}  // namespace

WEIR_PLUGIN(sample) {
    .name = "sample",
    .kind = Kind::processor,
    .description = "Keeps 1 message in N (every Nth, or at random)",
    .options = {every, random, seed},
    .example = plugin_example,
    .create = construct<Sample>,
};

}  // namespace weir::weir_std
