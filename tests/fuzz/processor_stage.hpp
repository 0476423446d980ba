#pragma once
// What the fuzz targets of processors share: a stage made by the plugin
// library of this build with options from the real loader, exactly as
// `weir run` makes it, and an emitter that keeps the last message.

#include <weir/config.hpp>
#include <weir/plugin.hpp>
#include <weir/registry.hpp>

#include <string>

namespace weir_fuzz {

class KeepLast final : public weir::Emitter {
 public:
  bool emit(weir::Message message) override {
    last = std::move(message);
    return true;
  }
  weir::Message last;
};

// `config` is the YAML flow map of the stage's `config:`.
inline weir::StageInstance make_processor(weir::PluginRegistry& registry, const std::string& plugin,
                                          const std::string& config) {
  const std::string yaml = "pipeline: fuzz\nstages:\n  in: {plugin: generate}\n  subject: {plugin: " + plugin +
                           ", input: in, config: " + config + "}\n  out: {plugin: null, input: subject}\n";
  const weir::PipelineSpec spec = weir::load_pipeline_string(yaml, registry);
  weir::StageContext context;
  context.stage = context.plugin = plugin;
  return registry.require(plugin, weir::Kind::processor).create(spec.stages[1].options, context);
}

}  // namespace weir_fuzz
