// Building the runtime's graph from a spec: the stages with their plugins,
// a queue edge per consumer and lane, the routes that feed them, and the
// replicas with their stage instances.

#include "crash_context.hpp"
#include "exception_text.hpp"
#include "graph.hpp"

#include <weir/config.hpp>
#include <weir/logging.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace weir::runtime {

StageRuntime& stage_named(const Stages& stages, std::string_view name, std::string_view pipeline) {
  for (const auto& s : stages)
    if (s->spec->name == name) return *s;
  throw std::invalid_argument(fmt::format("no stage named '{}' in pipeline '{}'", name, pipeline));
}

Stages build_graph(const PipelineSpec& spec, PluginRegistry& registry) {
  validate_graph(spec);
  Stages stages;
  std::vector<Diagnostic> problems;
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    auto stage = std::make_unique<StageRuntime>();
    stage->spec = &spec.stages[i];
    stage->index = i;
    stage->plugin = registry.find(stage->spec->plugin, stage->spec->kind);
    if (!stage->plugin && !stage->spec->factory) {
      Diagnostic d{spec.file.string(), stage->spec->position.line, stage->spec->position.column,
                   fmt::format("stage '{}': no {} plugin named '{}'", stage->spec->name,
                               to_string(stage->spec->kind), stage->spec->plugin),
                   {}};
      const auto hint = closest_match(stage->spec->plugin, registry.names(stage->spec->kind));
      if (!hint.empty()) d.hint = fmt::format("did you mean '{}'?", hint);
      problems.push_back(std::move(d));
    }
    if (stage->spec->kind == Kind::source) stage->ack_books = std::make_shared<AckBooks>();
    if (stage->spec->kind != Kind::source) {
      const auto& lanes = stage->spec->lanes;
      if (lanes.empty()) {
        stage->lane_conditions.push_back(nullptr);
      } else {
        for (const auto& lane : lanes) stage->lane_conditions.push_back(lane.when ? &*lane.when : nullptr);
      }
    }
    stages.push_back(std::move(stage));
  }
  if (!problems.empty()) throw ConfigError(std::move(problems));

  // Routes: every consumer of a stage gets its own queue edge per lane.
  std::vector<std::size_t> writers(stages.size(), 0);
  auto connect = [&](StageRuntime& from, StageRuntime& to, Route::Delivery delivery, const Condition* when,
                     const std::string& label) {
    Route route;
    route.delivery = delivery;
    route.target = &to;
    route.when = when;
    for (std::size_t lane = 0; lane < to.lane_conditions.size(); ++lane) {
      auto edge = std::make_unique<InputEdge>();
      edge->from = label;
      edge->lane = lane;
      edge->from_stage = from.index;
      edge->from_output = from.out_edges++;
      route.edge_of_lane.push_back(static_cast<std::uint32_t>(to.inputs.size()));
      route.output_of_lane.push_back(edge->from_output);
      to.inputs.push_back(std::move(edge));
    }
    ++writers[to.index];
    return route;
  };
  for (auto& to : stages) {
    for (const auto& input : to->spec->inputs) {
      auto& from = stage_named(stages, input.stage, spec.name);
      const Condition* when = to->spec->when ? &*to->spec->when : nullptr;
      const auto delivery = input.unmatched ? Route::Delivery::unmatched
                            : when          ? Route::Delivery::conditional
                                            : Route::Delivery::broadcast;
      from.routes.push_back(connect(from, *to, delivery, input.unmatched ? nullptr : when, input.to_string()));
    }
  }
  for (auto& from : stages) {
    const auto& target = from->spec->on_error.dead_letter;
    if (!target.empty())
      from->dead_letter = connect(*from, stage_named(stages, target, spec.name), Route::Delivery::dead_letter,
                                  nullptr, from->spec->name + ".dead_letter");
    // Conditional routes first: whether any matched decides the unmatched ones.
    std::stable_partition(from->routes.begin(), from->routes.end(),
                          [](const Route& r) { return r.delivery == Route::Delivery::conditional; });
  }
  for (auto& stage : stages) {
    if (stage->spec->kind == Kind::source) continue;
    std::vector<LaneConfig> lanes;
    if (stage->spec->lanes.empty()) {
      lanes.push_back({stage->spec->capacity, 1});
    } else {
      for (const auto& lane : stage->spec->lanes)
        lanes.push_back({lane.capacity ? lane.capacity : stage->spec->capacity, std::max(1u, lane.weight)});
    }
    stage->queue = std::make_unique<Queue>(std::move(lanes), stage->spec->lane_policy, writers[stage->index]);
  }
  for (auto& stage : stages) {
    stage->wanted = stage->spec->replicas;
    for (unsigned r = 0; r < stage->spec->replicas; ++r) stage->replicas.push_back(make_replica(*stage, r));
  }
  return stages;
}

std::unique_ptr<Replica> make_replica(StageRuntime& stage, unsigned index) {
  auto replica = std::make_unique<Replica>();
  replica->index = index;
  replica->label = fmt::format("stage '{}' replica {}", stage.spec->name, index);
  replica->logger = weir::logger()->clone(stage.spec->name);
  replica->warnings = std::make_shared<LogCounter>();
  replica->plugin_logger = replica->logger->clone(stage.spec->name);
  replica->plugin_logger->sinks().push_back(replica->warnings);
  // Warnings are counted whatever --log-level shows: the plugin's logger lets
  // them through, and the shown sinks keep the level the user chose.
  if (const auto shown = replica->logger->level(); shown > spdlog::level::warn) {
    for (auto& sink : replica->plugin_logger->sinks())
      if (sink != replica->warnings && sink->level() < shown) sink->set_level(shown);
    replica->plugin_logger->set_level(spdlog::level::warn);
  }
  StageContext context{stage.spec->name, stage.spec->plugin, index, stage.spec->replicas, replica->plugin_logger,
                       replica->stop.get_token()};
  StageLabelScope in_plugin(replica->label.c_str());
  if (stage.spec->factory) {
    try {
      replica->instance.stage = stage.spec->factory(context);
    } catch (...) {
      throw PluginError(fmt::format("stage '{}': its in-process factory threw: {}", stage.spec->name,
                                    current_exception_text()));
    }
    if (!replica->instance.stage)
      throw PluginError(fmt::format("stage '{}': its in-process factory made no stage", stage.spec->name));
    if (!is_kind(*replica->instance.stage, stage.spec->kind))
      throw PluginError(fmt::format("stage '{}': its in-process factory made a stage that is not a {}",
                                    stage.spec->name, to_string(stage.spec->kind)));
  } else {
    try {
      replica->instance = stage.plugin->create(stage.spec->options, context);
    } catch (const OptionError& e) {
      throw PluginError(fmt::format("{} (plugin '{}'): {}", replica->label, stage.spec->plugin, e.what()));
    } catch (const PluginError& e) {
      throw PluginError(fmt::format("{}: {}", replica->label, e.what()));
    }
  }
  replica->lane_wait = LineVector<Histogram>(stage.lane_conditions.size());
  replica->delivered = LineVector<Counter>(stage.inputs.size());
  replica->sent = LineVector<EdgeCounters>(stage.out_edges);
  return replica;
}

}  // namespace weir::runtime
