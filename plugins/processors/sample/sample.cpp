// sample: keeps 1 message in N, the rest count as filtered.

#include <weir_std/option_checks.hpp>

#include <weir/plugin.hpp>

#include <random>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> sample_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "every", .type = OptionType::integer,
       .description = "Keep 1 message in this many (per replica)", .default_value = "10", .min = 1,
       .example = "100"},
      {.name = "random", .type = OptionType::boolean,
       .description = "Keep each message with probability 1/every instead of exactly every Nth one (the first "
                      "is kept)",
       .default_value = "false"},
      {.name = "seed", .type = OptionType::integer,
       .description = "Seed of the random choice; each replica adds its index, so runs repeat",
       .default_value = "1"},
  };
  return specs;
}

class Sample final : public Processor {
 public:
  Sample(const Options& options, const StageContext& context)
      : every_(static_cast<std::uint64_t>(options.integer("every"))),
        random_(options.boolean("random")),
        engine_(static_cast<std::uint64_t>(options.integer("seed")) + context.replica) {
    if (every_ == 0) reject_option(context, "every", "0 keeps nothing", "1 or more");
  }

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
}  // namespace weir::stdp

WEIR_PLUGIN(sample, processor, "sample", "Keeps 1 message in N (every Nth, or at random)", weir::stdp::Sample,
            weir::stdp::sample_options, weir::stdp::example_yaml)
