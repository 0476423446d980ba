#include "config/graph_check.hpp"

#include <weir/config.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>

namespace weir::config {

std::vector<StagePlaces> places_from_spec(const PipelineSpec& spec, const std::string& file) {
  std::vector<StagePlaces> out;
  for (const StageSpec& stage : spec.stages) {
    const Place at{file, stage.position};
    StagePlaces places{at, at, at, at, at, at, at, at, {}, {}, at, at, {}};
    places.inputs.assign(stage.inputs.size(), at);
    places.lane_items.assign(stage.lanes.size(), at);
    places.lane_when_texts.assign(stage.lanes.size(), at);
    out.push_back(std::move(places));
  }
  return out;
}

namespace {

// Edges for the cycle search: inputs and dead-letter routes (a dead-letter
// target's input closes only after the stages that feed it have closed, so a
// loop through it would never drain).
std::vector<std::vector<std::size_t>> successors(const PipelineSpec& spec, const std::map<std::string, std::size_t>& index) {
  std::vector<std::vector<std::size_t>> next(spec.stages.size());
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    const StageSpec& stage = spec.stages[i];
    for (const InputRef& input : stage.inputs)
      if (auto it = index.find(input.stage); it != index.end()) next[it->second].push_back(i);
    if (auto it = index.find(stage.on_error.dead_letter); it != index.end()) next[i].push_back(it->second);
  }
  return next;
}

void check_cycles(const PipelineSpec& spec, const std::map<std::string, std::size_t>& index,
                  const std::vector<StagePlaces>& places, Reporter& reporter) {
  const auto next = successors(spec, index);
  enum class Mark { unvisited, on_path, done };
  std::vector<Mark> marks(spec.stages.size(), Mark::unvisited);
  std::vector<std::size_t> path;
  std::function<void(std::size_t)> visit = [&](std::size_t node) {
    marks[node] = Mark::on_path;
    path.push_back(node);
    for (std::size_t to : next[node]) {
      if (marks[to] == Mark::on_path) {
        const auto start = std::find(path.begin(), path.end(), to);
        std::string cycle;
        for (auto it = start; it != path.end(); ++it) cycle += spec.stages[*it].name + " -> ";
        cycle += spec.stages[to].name;
        reporter.error(places[to].stage, fmt::format("cycle: {}", cycle),
                       "a pipeline is a graph without loops; messages could never drain");
      } else if (marks[to] == Mark::unvisited) {
        visit(to);
      }
    }
    path.pop_back();
    marks[node] = Mark::done;
  };
  for (std::size_t i = 0; i < spec.stages.size(); ++i)
    if (marks[i] == Mark::unvisited) visit(i);
}

}  // namespace

void check_graph(const PipelineSpec& spec, const std::vector<StagePlaces>& places, Reporter& reporter) {
  std::map<std::string, std::size_t> index;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    const StageSpec& stage = spec.stages[i];
    if (!index.emplace(stage.name, i).second)
      reporter.error(places[i].stage, fmt::format("two stages are named '{}'", stage.name));
    names.push_back(stage.name);
  }
  if (spec.stages.empty()) reporter.error(Place{reporter.file(), {}}, "the pipeline has no stages");

  std::vector<bool> read_by_anyone(spec.stages.size(), false);
  std::vector<bool> has_conditional_consumer(spec.stages.size(), false);
  std::vector<bool> is_dead_letter_target(spec.stages.size(), false);
  for (const StageSpec& stage : spec.stages) {
    for (const InputRef& input : stage.inputs)
      if (auto it = index.find(input.stage); it != index.end()) {
        read_by_anyone[it->second] = true;
        if (stage.when && !input.unmatched) has_conditional_consumer[it->second] = true;
      }
    if (auto it = index.find(stage.on_error.dead_letter); it != index.end()) is_dead_letter_target[it->second] = true;
  }

  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    const StageSpec& stage = spec.stages[i];
    const StagePlaces& at = places[i];
    const std::string who = fmt::format("stage '{}'", stage.name);

    for (std::size_t k = 0; k < stage.inputs.size(); ++k) {
      const InputRef& input = stage.inputs[k];
      auto it = index.find(input.stage);
      if (it == index.end()) {
        reporter.error(at.inputs[k], fmt::format("{}: unknown input '{}'", who, input.to_string()),
                       did_you_mean(input.stage, names));
        continue;
      }
      const StageSpec& from = spec.stages[it->second];
      if (from.kind == Kind::sink)
        reporter.error(at.inputs[k], fmt::format("{}: input '{}' is a sink, which has no output", who, from.name),
                       "read from a source or a processor");
      if (input.unmatched && !has_conditional_consumer[it->second])
        reporter.error(at.inputs[k],
                       fmt::format("{}: '{}' has no unmatched messages: no stage reads '{}' with a when: condition",
                                   who, input.to_string(), from.name),
                       fmt::format("give a consumer of '{}' a when:, or read '{}' directly", from.name, from.name));
    }

    if (stage.kind == Kind::source) {
      if (!stage.inputs.empty())
        reporter.error(at.inputs.front(), fmt::format("{}: a source takes no input", who),
                       fmt::format("remove input:, or set kind: processor or sink if plugin '{}' is one", stage.plugin));
      if (stage.when)
        reporter.error(at.when, fmt::format("{}: a source has no input to route with when:", who));
      if (is_dead_letter_target[i])
        reporter.error(at.stage, fmt::format("{}: a source cannot be a dead-letter target", who));
    } else if (stage.inputs.empty() && !is_dead_letter_target[i]) {
      reporter.error(at.stage, fmt::format("{}: nobody feeds this {}", who, to_string(stage.kind)),
                     "add input: STAGE, or name it as some stage's on_error.dead_letter");
    }

    if (!stage.on_error.dead_letter.empty()) {
      if (!index.count(stage.on_error.dead_letter))
        reporter.error(at.dead_letter,
                       fmt::format("{}: dead-letter stage '{}' does not exist", who, stage.on_error.dead_letter),
                       did_you_mean(stage.on_error.dead_letter, names));
      else if (stage.kind == Kind::source)
        reporter.error(at.dead_letter, fmt::format("{}: a source has no on_error; its messages fail downstream", who));
    }

    if (stage.replicas < 1) reporter.error(at.replicas, fmt::format("{}: replicas must be at least 1", who));
    if (stage.replicas > max_replicas)
      reporter.error(at.replicas, fmt::format("{}: replicas must be at most {}, found {}", who, max_replicas,
                                              stage.replicas),
                     "each replica is a thread; more of them than cores rarely helps");
    if (const auto& range = stage.autoscale) {
      if (stage.kind == Kind::source)
        reporter.error(at.replicas, fmt::format("{}: a source cannot size itself (it has no input to watch)", who),
                       "give it a number of replicas");
      else if (range->min < 1 || range->max < range->min || range->max > max_replicas)
        reporter.error(at.replicas,
                       fmt::format("{}: replicas must go from min {} to max {}: at least 1, min at most max, max at "
                                   "most {}", who, range->min, range->max, max_replicas));
    }
    if (stage.capacity < 1 && stage.kind != Kind::source)
      reporter.error(at.capacity, fmt::format("{}: capacity must be at least 1", who));
    const auto check_capacity = [&](std::size_t capacity, const Place& place, const std::string& what) {
      if (capacity > max_capacity)
        reporter.error(place, fmt::format("{}: {} must be at most {} messages, found {}", who, what, max_capacity,
                                          capacity),
                       "a channel's slots are allocated up front; buffer more in a broker, not in memory");
    };
    if (stage.kind != Kind::source) check_capacity(stage.capacity, at.capacity, "capacity");

    if (!stage.lanes.empty()) {
      if (stage.kind == Kind::source) reporter.error(at.lanes, fmt::format("{}: a source has no input lanes", who));
      std::vector<std::string> lane_names;
      for (std::size_t k = 0; k < stage.lanes.size(); ++k) {
        const LaneSpec& lane = stage.lanes[k];
        const bool last = k + 1 == stage.lanes.size();
        if (std::find(lane_names.begin(), lane_names.end(), lane.name) != lane_names.end())
          reporter.error(at.lane_items[k], fmt::format("{}: two lanes are named '{}'", who, lane.name));
        lane_names.push_back(lane.name);
        if (last && lane.when)
          reporter.error(at.lane_items[k],
                         fmt::format("{}: the last lane '{}' has a condition, so messages matching no lane would have "
                                     "nowhere to go",
                                     who, lane.name),
                         "remove its when: so it takes the rest, or add a last lane without one");
        if (!last && !lane.when)
          reporter.error(at.lane_items[k],
                         fmt::format("{}: lane '{}' has no when: but is not the last lane; the lanes after it would "
                                     "never receive anything",
                                     who, lane.name),
                         "only the last lane takes the rest");
        check_capacity(lane.capacity, at.lane_items[k], fmt::format("lane '{}': capacity", lane.name));
        if (stage.lane_policy == LanePolicy::weighted && lane.weight < 1)
          reporter.error(at.lane_items[k], fmt::format("{}: lane '{}' needs a weight of at least 1", who, lane.name));
      }
    }
  }
  check_cycles(spec, index, places, reporter);
}

}  // namespace weir::config

namespace weir {

void validate_graph(const PipelineSpec& spec) {
  const std::string file = spec.file.empty() ? std::string() : spec.file.string();
  config::Reporter reporter(file);
  check_graph(spec, config::places_from_spec(spec, file), reporter);
  if (!reporter.empty()) throw ConfigError(reporter.take_sorted());
}

}  // namespace weir
