// A plugin that calls a function nobody defines: the library links (a MODULE
// may have undefined symbols) but cannot be loaded.
#include "test_stages.hpp"

void weir_test_function_nobody_defines();

namespace {
class Broken final : public weir::Processor {
 public:
  Broken(const weir::Options&, const weir::StageContext&) {}
  void process(weir::Message& message, weir::Emitter& out) override {
    weir_test_function_nobody_defines();
    out.emit(std::move(message));
  }
};
}  // namespace

WEIR_PLUGIN(test_missing) {
    .name = "test_missing",
    .kind = weir::Kind::processor,
    .description = "Cannot load (test library)",
    .example = "",
    .create = weir::construct<Broken>,
};
