// `weir graph FILE [--format dot|mermaid]`: the pipeline as a diagram. Nodes
// show stage, plugin, kind, replicas, capacity and lanes; edges show `when:`
// conditions, `.unmatched` routes (dashed) and dead-letter routes (dotted).

#include "command.hpp"
#include "pipeline_arguments.hpp"

#include <weir/registry.hpp>

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace weir::cli {

namespace {

struct Edge {
  std::size_t from;
  std::size_t to;
  enum Type { data, unmatched, dead_letter } type;
  std::string condition;  // the consumer's when:, for data edges
};

std::size_t index_of(const PipelineSpec& spec, const std::string& name) {
  for (std::size_t i = 0; i < spec.stages.size(); ++i)
    if (spec.stages[i].name == name) return i;
  return spec.stages.size();
}

std::vector<Edge> edges_of(const PipelineSpec& spec) {
  std::vector<Edge> edges;
  for (std::size_t to = 0; to < spec.stages.size(); ++to) {
    const StageSpec& stage = spec.stages[to];
    for (const InputRef& input : stage.inputs)
      edges.push_back({index_of(spec, input.stage), to, input.unmatched ? Edge::unmatched : Edge::data,
                       stage.when && !input.unmatched ? stage.when->text() : std::string()});
    if (!stage.on_error.dead_letter.empty())
      edges.push_back({to, index_of(spec, stage.on_error.dead_letter), Edge::dead_letter, {}});
  }
  return edges;
}

// The lines of a stage's label; the caller escapes and joins them.
std::vector<std::string> label_lines(const StageSpec& stage) {
  std::vector<std::string> lines{stage.name};
  std::string what = fmt::format("{} ({})", stage.plugin, to_string(stage.kind));
  if (stage.replicas != 1) what += fmt::format(" x{}", stage.replicas);
  lines.push_back(what);
  if (stage.kind != Kind::source)
    lines.push_back(fmt::format("capacity {}, {}", stage.capacity, to_string(stage.when_full)));
  if (!stage.lanes.empty()) {
    std::string lanes = fmt::format("lanes ({}):", to_string(stage.lane_policy));
    for (const LaneSpec& lane : stage.lanes) {
      lanes += " " + lane.name;
      if (lane.when) lanes += fmt::format(" [{}]", lane.when->text());
      if (lane.capacity) lanes += fmt::format(" cap {}", lane.capacity);
      if (stage.lane_policy == LanePolicy::weighted) lanes += fmt::format(" w{}", lane.weight);
      lanes += ";";
    }
    lanes.pop_back();
    lines.push_back(lanes);
  }
  if (stage.on_error.retries > 0) lines.push_back(fmt::format("retries {}", stage.on_error.retries));
  return lines;
}

std::string dot_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string to_dot(const PipelineSpec& spec) {
  std::string out = fmt::format("digraph \"{}\" {{\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n"
                                "  edge [fontname=\"Helvetica\", fontsize=10];\n",
                                dot_escape(spec.name));
  for (const StageSpec& stage : spec.stages) {
    std::string label;
    for (const std::string& line : label_lines(stage)) label += (label.empty() ? "" : "\\n") + dot_escape(line);
    const char* shape = stage.kind == Kind::source ? "shape=ellipse"
                        : stage.kind == Kind::sink ? "shape=box, style=\"rounded,bold\""
                                                   : "shape=box";
    out += fmt::format("  \"{}\" [label=\"{}\", {}];\n", dot_escape(stage.name), label, shape);
  }
  for (const Edge& edge : edges_of(spec)) {
    const std::string from = dot_escape(spec.stages[edge.from].name);
    const std::string to = dot_escape(spec.stages[edge.to].name);
    switch (edge.type) {
      case Edge::data:
        out += edge.condition.empty()
                   ? fmt::format("  \"{}\" -> \"{}\";\n", from, to)
                   : fmt::format("  \"{}\" -> \"{}\" [label=\"{}\"];\n", from, to, dot_escape(edge.condition));
        break;
      case Edge::unmatched: out += fmt::format("  \"{}\" -> \"{}\" [label=\"unmatched\", style=dashed];\n", from, to); break;
      case Edge::dead_letter:
        out += fmt::format("  \"{}\" -> \"{}\" [label=\"dead letter\", style=dotted, color=red];\n", from, to);
        break;
    }
  }
  return out + "}\n";
}

// Mermaid labels are quoted; a quote inside is written as an entity.
std::string mermaid_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"') out += "#quot;";
    else if (c == '<') out += "#lt;";
    else if (c == '>') out += "#gt;";
    else out += c;
  }
  return out;
}

std::string to_mermaid(const PipelineSpec& spec) {
  // Ids are s0, s1…: stage names may hold characters Mermaid reads as syntax.
  std::string out = fmt::format("---\ntitle: {}\n---\nflowchart LR\n", mermaid_escape(spec.name));
  for (std::size_t i = 0; i < spec.stages.size(); ++i) {
    const StageSpec& stage = spec.stages[i];
    std::string label;
    for (const std::string& line : label_lines(stage)) label += (label.empty() ? "" : "<br/>") + mermaid_escape(line);
    const char* open = stage.kind == Kind::source ? "([" : stage.kind == Kind::sink ? "[(" : "[";
    const char* close = stage.kind == Kind::source ? "])" : stage.kind == Kind::sink ? ")]" : "]";
    out += fmt::format("  s{}{}\"{}\"{}\n", i, open, label, close);
  }
  for (const Edge& edge : edges_of(spec)) {
    switch (edge.type) {
      case Edge::data:
        out += edge.condition.empty()
                   ? fmt::format("  s{} --> s{}\n", edge.from, edge.to)
                   : fmt::format("  s{} -->|\"{}\"| s{}\n", edge.from, mermaid_escape(edge.condition), edge.to);
        break;
      case Edge::unmatched: out += fmt::format("  s{} -.->|unmatched| s{}\n", edge.from, edge.to); break;
      case Edge::dead_letter: out += fmt::format("  s{} -.->|dead letter| s{}\n", edge.from, edge.to); break;
    }
  }
  return out;
}

std::pair<CLI::App*, Runner> setup(CLI::App& app) {
  auto arguments = std::make_shared<PipelineArguments>();
  auto format = std::make_shared<std::string>("dot");
  CLI::App* command = app.add_subcommand("graph", "Draw a pipeline as Graphviz DOT or Mermaid");
  arguments->add_to(*command);
  command->add_option("--format", *format, "dot or mermaid")
      ->check(CLI::IsMember({"dot", "mermaid"}))
      ->capture_default_str();
  return {command, [arguments, format] {
            PluginRegistry registry;
            const PipelineSpec spec = arguments->load(registry);
            std::cout << (*format == "mermaid" ? to_mermaid(spec) : to_dot(spec));
            return exit_ok;
          }};
}

const Registrar registrar{60, &setup};

}  // namespace

}  // namespace weir::cli
