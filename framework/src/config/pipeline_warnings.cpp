#include "config/pipeline_warnings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <map>

namespace weir::config {

namespace {

using Index = std::map<std::string, std::size_t>;

// A message that matches no `when:` of X's consumers goes nowhere unless some
// stage reads `X.unmatched`: the books count it as unrouted, nothing else.
void check_vanishing(const PipelineSpec& spec, const std::vector<StagePlaces>& places, Reporter& reporter) {
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    const StageSpec& stage = spec.stages[i];
    std::vector<std::string> conditional;
    bool takes_all = false, reads_unmatched = false;
    for (const StageSpec& consumer : spec.stages)
      for (const InputRef& input : consumer.inputs) {
        if (input.stage != stage.name) continue;
        if (input.unmatched) reads_unmatched = true;
        else if (consumer.when) conditional.push_back(consumer.name);
        else takes_all = true;
      }
    if (conditional.empty() || takes_all || reads_unmatched) continue;
    std::vector<std::string> quoted;
    for (const std::string& name : conditional) quoted.push_back("'" + name + "'");
    reporter.warn(places[i].stage,
                  fmt::format("stage '{}': every stage that reads it has a when: ({}) and none reads '{}.unmatched': "
                              "a message that matches no condition is only counted as unrouted",
                              stage.name, one_of(quoted), stage.name),
                  fmt::format("add a stage with input: {}.unmatched to catch them", stage.name));
  }
}

// Dead letters are the messages a pipeline could not handle; a full channel
// with a drop_* policy on their way loses them for good.
void check_dead_letter_drops(const PipelineSpec& spec, const Index& index, const std::vector<StagePlaces>& places,
                             Reporter& reporter) {
  // For each stage on the way of dead letters: the dead-letter stage it is
  // (or is fed by) and the stage whose dead letters those are.
  std::map<std::size_t, std::pair<std::string, std::string>> on_the_way;
  std::deque<std::size_t> todo;
  for (const StageSpec& stage : spec.stages)
    if (auto it = index.find(stage.on_error.dead_letter); it != index.end() && !on_the_way.count(it->second)) {
      on_the_way[it->second] = {stage.on_error.dead_letter, stage.name};
      todo.push_back(it->second);
    }
  while (!todo.empty()) {
    const std::size_t from = todo.front();
    todo.pop_front();
    for (std::size_t i = 0; i < spec.stages.size(); ++i)
      for (const InputRef& input : spec.stages[i].inputs)
        if (input.stage == spec.stages[from].name && !on_the_way.count(i)) {
          on_the_way[i] = on_the_way[from];
          todo.push_back(i);
        }
  }
  for (const auto& [i, why] : on_the_way) {
    const StageSpec& stage = spec.stages[i];
    if (stage.when_full == WhenFull::block) continue;
    const auto& [dead_letter, failing] = why;
    const std::string role = stage.name == dead_letter
                                 ? fmt::format("takes the dead letters of '{}'", failing)
                                 : fmt::format("is on the way of the dead letters that '{}' takes", dead_letter);
    reporter.warn(places[i].when_full,
                  fmt::format("stage '{}' {}, and when_full: {} drops them when its channel is full", stage.name, role,
                              to_string(stage.when_full)),
                  "use when_full: block (the default) where dead letters pass, so none is lost");
  }
}

// Column `column` (1-based) of an expression whose first character is at `start`.
Place inside(const Place& start, int column) {
  if (start.position.line == 0) return start;
  return Place{start.file, {start.position.line, start.position.column + column - 1}};
}

void check_conditions(const PipelineSpec& spec, const std::vector<StagePlaces>& places, Reporter& reporter) {
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    const StageSpec& stage = spec.stages[i];
    const std::string who = fmt::format("stage '{}'", stage.name);
    if (stage.when)
      warn_constant_parts(*stage.when, [&](int column) { return inside(places[i].when_text, column); }, who + ": when",
                          "every message passes it; leave when: out, or name an attribute: level == \"error\"",
                          reporter);
    for (std::size_t k = 0; k < stage.lanes.size(); ++k) {
      const LaneSpec& lane = stage.lanes[k];
      if (!lane.when) continue;
      const Place& text = k < places[i].lane_when_texts.size() ? places[i].lane_when_texts[k] : places[i].stage;
      warn_constant_parts(*lane.when, [&](int column) { return inside(text, column); },
                          fmt::format("{}: lane '{}' when", who, lane.name),
                          "it takes every message, and the lanes after it get none", reporter);
      for (std::size_t earlier = 0; earlier < k; ++earlier)
        if (stage.lanes[earlier].when && stage.lanes[earlier].when->text() == lane.when->text()) {
          reporter.warn(text,
                        fmt::format("{}: lane '{}' has the same when: as lane '{}', which takes those messages "
                                    "first: it never receives any",
                                    who, lane.name, stage.lanes[earlier].name),
                        "give it a condition of its own, or remove it");
          break;
        }
    }
  }
}

std::string in_units(long double bytes) {
  constexpr std::string_view units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(units)) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} bytes", static_cast<std::uint64_t>(bytes))
                   : fmt::format("{:.1f} {}", static_cast<double>(bytes), units[unit]);
}

// Every channel full of the largest messages: the most the channels can hold.
void check_memory(const PipelineSpec& spec, const std::vector<StagePlaces>& places, const WarningLimits& limits,
                  Reporter& reporter) {
  if (!limits.max_memory) return;
  long double slots = 0;
  std::size_t largest = spec.stages.size();
  std::size_t largest_slots = 0;
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    const StageSpec& stage = spec.stages[i];
    if (stage.kind == Kind::source) continue;  // a source has no input channel
    std::size_t stage_slots = 0;
    if (stage.lanes.empty()) stage_slots = stage.capacity;
    for (const LaneSpec& lane : stage.lanes) stage_slots += lane.capacity ? lane.capacity : stage.capacity;
    slots += static_cast<long double>(stage_slots);
    if (largest == spec.stages.size() || stage_slots > largest_slots) {
      largest = i;
      largest_slots = stage_slots;
    }
  }
  const long double bytes = slots * static_cast<long double>(limits.max_message_size);
  if (largest == spec.stages.size() || bytes <= static_cast<long double>(*limits.max_memory)) return;
  // At the capacity that weighs most: the largest lane's, or the stage's.
  const StageSpec& heaviest = spec.stages[largest];
  Place at = places[largest].capacity;
  std::size_t heaviest_lane = 0;
  for (std::size_t k = 0; k < heaviest.lanes.size() && k < places[largest].lane_items.size(); ++k) {
    const std::size_t capacity = heaviest.lanes[k].capacity ? heaviest.lanes[k].capacity : heaviest.capacity;
    if (capacity > heaviest_lane && heaviest.lanes[k].capacity) at = places[largest].lane_items[k];
    heaviest_lane = std::max(heaviest_lane, capacity);
  }
  reporter.warn(at,
                fmt::format("the channels can hold {} messages, {} at {} each, above --max-memory {}",
                            static_cast<std::uint64_t>(slots), in_units(bytes),
                            in_units(static_cast<long double>(limits.max_message_size)),
                            in_units(static_cast<long double>(*limits.max_memory))),
                fmt::format("the largest is stage '{}' with {}; lower capacity: there or in defaults, or raise "
                            "--max-memory",
                            spec.stages[largest].name, largest_slots));
}

}  // namespace

void warn_constant_parts(const Condition& condition, const std::function<Place(int column)>& at,
                         const std::string& what, const std::string& whole_true_hint, Reporter& reporter) {
  for (const Condition::Constant& constant : condition.constants()) {
    const std::string never_or_always = constant.value ? "always true" : "never true";
    if (constant.whole)
      reporter.warn(at(constant.column),
                    fmt::format("{}: the condition is {}: it reads nothing of the message", what, never_or_always),
                    constant.value ? whole_true_hint
                                   : "no message passes it; name an attribute without quotes: level == \"error\"");
    else
      reporter.warn(at(constant.column),
                    fmt::format("{}: this part is {}: it reads nothing of the message", what, never_or_always),
                    "name an attribute without quotes: level == \"error\"");
  }
}

void check_warnings(const PipelineSpec& spec, const std::vector<StagePlaces>& places, const WarningLimits& limits,
                    Reporter& reporter) {
  Index index;
  for (std::size_t i = 0; i < spec.stages.size(); ++i) index.emplace(spec.stages[i].name, i);
  check_vanishing(spec, places, reporter);
  check_dead_letter_drops(spec, index, places, reporter);
  check_conditions(spec, places, reporter);
  check_memory(spec, places, limits, reporter);
}

}  // namespace weir::config

namespace weir {

std::vector<Diagnostic> pipeline_warnings(const PipelineSpec& spec, const WarningLimits& limits) {
  const std::string file = spec.file.empty() ? std::string() : spec.file.string();
  config::Reporter reporter(file);
  check_warnings(spec, config::places_from_spec(spec, file), limits, reporter);
  return reporter.take_sorted();
}

}  // namespace weir
