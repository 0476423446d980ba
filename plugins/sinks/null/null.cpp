// null: accepts and discards every message; the end of a pipeline that only
// exists for its side effects or its report.

#include <weir/plugin.hpp>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> null_options() { return {}; }

class Null final : public Sink {
 public:
  Null(const Options&, const StageContext&) {}
  void write(const Message&) override {}
  void write_batch(std::span<const Message>) override {}
};

}  // namespace
}  // namespace weir::stdp

WEIR_PLUGIN(null_sink, sink, "null", "Discards every message", weir::stdp::Null, weir::stdp::null_options,
            weir::stdp::example_yaml)
