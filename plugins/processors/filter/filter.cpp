// filter: keeps or drops messages by a condition; dropped ones are counted
// as filtered by the runtime (a processor that emits nothing filters).

#include <weir_std/option_checks.hpp>

#include <weir/condition.hpp>
#include <weir/plugin.hpp>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> filter_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "when", .type = OptionType::string,
       .description = "A condition over the message: attribute names, payload, priority, id; == != < <= > >=, "
                      "in [...], contains, matches, exists(name), && || !, parentheses",
       .required = true, .example = "'level == \"error\" && priority >= 5'"},
      {.name = "action", .type = OptionType::enumeration,
       .description = "`keep` passes the messages that match; `drop` passes the ones that do not",
       .default_value = "keep", .allowed = {"keep", "drop"}},
  };
  return specs;
}

class Filter final : public Processor {
 public:
  Filter(const Options& options, const StageContext& context) : keep_matching_(options.string("action") == "keep") {
    std::string text = options.string("when");
    try {
      condition_ = Condition::parse(text);
    } catch (const ConditionError& e) {
      reject_option(context, "when", fmt::format("column {}: {} in '{}'", e.column(), e.what(), text),
                    "a condition such as 'level == \"error\"'");
    }
  }

  void process(Message& message, Emitter& out) override {
    if (condition_.matches(message) == keep_matching_) out.emit(std::move(message));
  }

 private:
  bool keep_matching_;
  Condition condition_;
};

}  // namespace
}  // namespace weir::stdp

WEIR_PLUGIN(filter, processor, "filter",
            "Keeps (or drops) the messages that match a condition; the others count as filtered",
            weir::stdp::Filter, weir::stdp::filter_options, weir::stdp::example_yaml)
