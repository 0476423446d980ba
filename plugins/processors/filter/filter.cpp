// filter: keeps or drops messages by a condition; dropped ones are counted
// as filtered by the runtime (a processor that emits nothing filters).

#include <weir/condition.hpp>
#include <weir/plugin.hpp>

namespace weir::weir_std {
namespace {

enum class Action { keep, drop };

const Option<Condition> when{
    .name = "when",
    .description = "A condition over the message: attribute names, payload, priority, id; == != < <= > >=, "
                   "in [...], contains, matches, exists(name), && || !, parentheses",
    .required = true,
    .example = "'level == \"error\" && priority >= 5'"};
const Option<Action> action{.name = "action",
                            .description = "`keep` passes the messages that match; `drop` passes the ones that do not",
                            .default_value = "keep",
                            .choices = {{"keep", Action::keep}, {"drop", Action::drop}}};

class Filter final : public Processor {
 public:
  Filter(const Options& options, const StageContext&)
      : keep_matching_(options[action] == Action::keep), condition_(options[when]) {}

  void process(Message& message, Emitter& out) override {
    if (condition_.matches(message) == keep_matching_) out.emit(std::move(message));
  }

 private:
  bool keep_matching_;
  Condition condition_;
};

}  // namespace

WEIR_PLUGIN(filter) {
    .name = "filter",
    .kind = Kind::processor,
    .description = "Keeps (or drops) the messages that match a condition; the others count as filtered",
    .options = {when, action},
    .example = plugin_example,
    .create = construct<Filter>,
};

}  // namespace weir::weir_std
