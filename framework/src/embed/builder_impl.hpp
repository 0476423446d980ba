#pragma once
// What a PipelineBuilder holds, shared with HostPipeline, which takes it over.

#include "config/assembly.hpp"

#include <weir/builder.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace weir {

namespace detail {
// What build() still has to settle for one stage.
struct PendingStage {
  bool plugin_stage = false;  // added with plugin(): its kind and options are checked at build
  bool explicit_kind = false;
  std::optional<std::string> config_yaml;
  std::optional<Options> config_options;
};
}  // namespace detail

struct PipelineBuilder::Impl {
  // Owned here, then by the HostPipeline: plugin libraries stay loaded as
  // long as stages made from them may run, and no longer.
  std::unique_ptr<PluginRegistry> registry;
  PipelineSpec spec;
  std::vector<detail::PendingStage> pending_stages;  // one per stage, in spec order
  std::vector<Diagnostic> problems;        // found by the setters, reported by build()
  bool folders_loaded = false;

  void resolve_plugin(StageSpec& stage, const detail::PendingStage& pending, const config::StageReferences& references,
                      std::vector<Diagnostic>& out);
};

}  // namespace weir
