// null: accepts and discards every message; the end of a pipeline that only
// exists for its side effects or its report.

#include <weir/plugin.hpp>

namespace weir::weir_std {
namespace {

class Null final : public Sink {
 public:
  Null(const Options&, const StageContext&) {}
  void write(const Message&) override {}
  void write_batch(std::span<const Message>) override {}
};

}  // namespace

WEIR_PLUGIN(null_sink) {
    .name = "null",
    .kind = Kind::sink,
    .description = "Discards every message",
    .example = plugin_example,
    .create = construct<Null>,
};

}  // namespace weir::weir_std
