#pragma once
// Stages shared by the purpose-built test libraries, which differ only in how
// they are broken.
#include <weir/plugin.hpp>

namespace weir::test {

class Passthrough final : public weir::Processor {
 public:
  Passthrough(const weir::Options&, const weir::StageContext&) {}
  void process(weir::Message& message, weir::Emitter& out) override { out.emit(std::move(message)); }
};

}  // namespace weir::test
