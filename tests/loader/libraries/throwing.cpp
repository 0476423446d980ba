// Loads fine; its constructor refuses every configuration.
#include "test_stages.hpp"

namespace {
class Refuses final : public weir::Sink {
 public:
  Refuses(const weir::Options&, const weir::StageContext&) {
    throw std::invalid_argument("cannot open /nonexistent/target for writing");
  }
  void write(const weir::Message&) override {}
};
}  // namespace

WEIR_PLUGIN(test_throws) {
    .name = "test_throws",
    .kind = weir::Kind::sink,
    .description = "Constructor throws (test library)",
    .example = "",
    .create = weir::construct<Refuses>,
};
