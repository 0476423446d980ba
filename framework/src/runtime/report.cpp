// The run report: gathered from the replicas' counters (fill_report), and
// rendered as the contract's JSON and the human summary table.

#include "graph.hpp"

#include <weir/report.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace weir {

bool RunReport::balanced() const noexcept {
  for (const auto& s : stages) {
    if (!s.balanced()) return false;
    if (s.pending_acks != 0 && (status == RunStatus::drained || status == RunStatus::failed)) return false;
  }
  for (const auto& e : edges)
    if (e.sent != e.delivered + e.dropped + e.abandoned) return false;
  return true;
}

namespace {

nlohmann::ordered_json percentiles_json(const Percentiles& p) {
  return {{"p50_us", p.p50_us}, {"p99_us", p.p99_us}, {"samples", p.samples}};
}

double round3(double v) { return static_cast<double>(static_cast<std::int64_t>(v * 1000.0 + 0.5)) / 1000.0; }

}  // namespace

std::string RunReport::to_json(int indent) const {
  nlohmann::ordered_json root;
  root["pipeline"] = pipeline;
  root["status"] = std::string(to_string(status));
  root["balanced"] = balanced();
  root["duration_s"] = round3(duration_s);
  auto& stages_json = root["stages"] = nlohmann::ordered_json::object();
  for (const auto& s : stages) {
    nlohmann::ordered_json j;
    j["plugin"] = s.plugin;
    j["kind"] = s.kind;
    j["replicas"] = s.replicas;
    if (s.replicas_max > 0)
      j["autoscale"] = {{"min", s.replicas_min}, {"max", s.replicas_max}, {"scaled_up", s.scaled_up},
                        {"scaled_down", s.scaled_down}};
    j["received"] = s.received;
    j["emitted"] = s.emitted;
    j["filtered"] = s.filtered;
    j["dead_lettered"] = s.dead_lettered;
    j["failed"] = s.failed;
    j["dropped"] = s.dropped;
    j["abandoned"] = s.abandoned;
    j["retried"] = s.retried;
    j["abandoned_in_hand"] = s.abandoned_in_hand;
    if (s.stuck > 0) j["stuck"] = s.stuck;
    j["warnings"] = s.warnings;
    j["offered"] = s.offered;
    j["outputs"] = s.outputs;
    j["unrouted"] = s.unrouted;
    if (s.acknowledges) {
      j["acked"] = s.acked;
      j["nacked"] = s.nacked;
      j["pending_acks"] = s.pending_acks;
    }
    j["latency"] = percentiles_json(s.latency);
    j["wait"] = percentiles_json(s.wait);
    j["blocked_ms"] = round3(s.blocked_ms);
    j["starved_ms"] = round3(s.starved_ms);
    auto& replicas_json = j["per_replica"] = nlohmann::ordered_json::array();
    for (const auto& r : s.per_replica) {
      auto& entry = replicas_json.emplace_back(nlohmann::ordered_json{{"received", r.received}, {"emitted", r.emitted}});
      if (r.scaled_away) entry["scaled_away"] = true;
      if (r.left_s) entry["left_s"] = *r.left_s;
    }
    stages_json[s.name] = std::move(j);
  }
  auto& edges_json = root["edges"] = nlohmann::ordered_json::array();
  for (const auto& e : edges) {
    nlohmann::ordered_json j;
    j["from"] = e.from;
    j["to"] = e.to;
    if (!e.lane.empty()) j["lane"] = e.lane;
    j["capacity"] = e.capacity;
    j["sent"] = e.sent;
    j["delivered"] = e.delivered;
    j["dropped"] = e.dropped;
    j["abandoned"] = e.abandoned;
    j["wait"] = percentiles_json(e.wait);
    j["blocked_ms"] = round3(e.blocked_ms);
    j["depth"] = e.depth;
    edges_json.push_back(std::move(j));
  }
  root["bottleneck"] = bottleneck.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(bottleneck);
  root["errors"] = errors;
  return root.dump(indent);
}

namespace {

Percentiles percentiles_from(const nlohmann::ordered_json& j) {
  Percentiles p;
  p.p50_us = j.value("p50_us", 0.0);
  p.p99_us = j.value("p99_us", 0.0);
  p.samples = j.value("samples", std::uint64_t{0});
  return p;
}

}  // namespace

RunReport RunReport::from_json(std::string_view text) {
  RunReport out;
  try {
    // Ordered: the stages come in the report's order.
    const auto root = nlohmann::ordered_json::parse(text);
    out.pipeline = root.at("pipeline").get<std::string>();
    const auto status = root.at("status").get<std::string>();
    bool known = false;
    for (auto candidate : {RunStatus::running, RunStatus::drained, RunStatus::forced, RunStatus::failed,
                           RunStatus::crashed})
      if (to_string(candidate) == status) {
        out.status = candidate;
        known = true;
      }
    if (!known) throw std::invalid_argument("unknown status '" + status + "'");
    out.duration_s = root.value("duration_s", 0.0);
    for (const auto& [name, j] : root.at("stages").items()) {
      StageReport s;
      s.name = name;
      s.plugin = j.value("plugin", "");
      s.kind = j.value("kind", "");
      s.replicas = j.value("replicas", 0u);
      if (const auto autoscale = j.find("autoscale"); autoscale != j.end() && autoscale->is_object()) {
        s.replicas_min = autoscale->value("min", 0u);
        s.replicas_max = autoscale->value("max", 0u);
        s.scaled_up = autoscale->value("scaled_up", 0u);
        s.scaled_down = autoscale->value("scaled_down", 0u);
      }
      const std::pair<const char*, std::uint64_t StageReport::*> counts[] = {
          {"offered", &StageReport::offered},   {"received", &StageReport::received},
          {"emitted", &StageReport::emitted},   {"filtered", &StageReport::filtered},
          {"dead_lettered", &StageReport::dead_lettered}, {"failed", &StageReport::failed},
          {"dropped", &StageReport::dropped},   {"abandoned", &StageReport::abandoned},
          {"abandoned_in_hand", &StageReport::abandoned_in_hand}, {"warnings", &StageReport::warnings},
          {"retried", &StageReport::retried},   {"outputs", &StageReport::outputs},
          {"unrouted", &StageReport::unrouted}, {"acked", &StageReport::acked},
          {"nacked", &StageReport::nacked},     {"pending_acks", &StageReport::pending_acks}};
      for (const auto& [key, field] : counts) s.*field = j.value(key, std::uint64_t{0});
      s.acknowledges = j.contains("acked");
      s.stuck = j.value("stuck", 0u);
      if (j.contains("latency")) s.latency = percentiles_from(j["latency"]);
      if (j.contains("wait")) s.wait = percentiles_from(j["wait"]);
      s.blocked_ms = j.value("blocked_ms", 0.0);
      s.starved_ms = j.value("starved_ms", 0.0);
      for (const auto& r : j.value("per_replica", nlohmann::ordered_json::array())) {
        ReplicaReport replica;
        replica.received = r.value("received", std::uint64_t{0});
        replica.emitted = r.value("emitted", std::uint64_t{0});
        replica.scaled_away = r.value("scaled_away", false);
        if (r.contains("left_s")) replica.left_s = r["left_s"].get<double>();
        s.per_replica.push_back(replica);
      }
      out.stages.push_back(std::move(s));
    }
    for (const auto& j : root.at("edges")) {
      EdgeReport e;
      e.from = j.at("from").get<std::string>();
      e.to = j.at("to").get<std::string>();
      e.lane = j.value("lane", "");
      e.capacity = j.value("capacity", std::size_t{0});
      e.sent = j.value("sent", std::uint64_t{0});
      e.delivered = j.value("delivered", std::uint64_t{0});
      e.dropped = j.value("dropped", std::uint64_t{0});
      e.abandoned = j.value("abandoned", std::uint64_t{0});
      if (j.contains("wait")) e.wait = percentiles_from(j["wait"]);
      e.blocked_ms = j.value("blocked_ms", 0.0);
      e.depth = j.value("depth", std::size_t{0});
      out.edges.push_back(std::move(e));
    }
    if (root.contains("bottleneck") && root["bottleneck"].is_string()) out.bottleneck = root["bottleneck"];
    if (root.contains("errors")) out.errors = root["errors"].get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("not a weir run report: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("not a weir run report: ") + e.what());
  }
  return out;
}

namespace {

// Columns on a terminal: UTF-8 code points (µ is two bytes, one column).
std::size_t columns(std::string_view text) noexcept {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string padded(std::string_view text, std::size_t width, bool right) {
  const std::string fill(width > columns(text) ? width - columns(text) : 0, ' ');
  return right ? fill + std::string(text) : std::string(text) + fill;
}

// `text` in lines of at most `width` columns, broken at spaces; lines after
// the first start with `indent` spaces. A word longer than a line stays whole.
std::string wrapped(std::string_view text, std::size_t width, std::size_t indent) {
  // The text's own leading spaces stay: they indent its first line.
  const std::size_t lead = std::min(text.find_first_not_of(' '), text.size());
  std::string out, line(text.substr(0, lead));
  bool line_has_words = false;
  std::size_t start = lead;
  while (start < text.size()) {
    auto end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    if (line_has_words && columns(line) + 1 + columns(word) > width) {
      out += line + '\n';
      line.assign(indent, ' ');
      line_has_words = false;
    }
    if (line_has_words) line += ' ';
    line += word;
    line_has_words = true;
  }
  return out + line + '\n';
}

// Rows of cells, the first row the header: the first column left-aligned,
// the others right-aligned, one space apart, and (with `text_last`) a last
// column of free text, left-aligned and wrapped. Each column is as wide as
// its widest cell; when the rows would pass `width`, the first column is
// narrowed and a name too long for it stands on a line of its own, its
// numbers on the next. One text (one line or more) per row.
std::vector<std::string> fitted_rows(const std::vector<std::vector<std::string>>& rows, std::size_t width,
                                     bool text_last) {
  const std::size_t n = rows.front().size();
  const std::size_t fixed_columns = text_last ? n - 1 : n;
  std::vector<std::size_t> widths(n, 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < fixed_columns; ++i) widths[i] = std::max(widths[i], columns(row[i]));
  std::size_t numbers = 0;
  for (std::size_t i = 1; i < fixed_columns; ++i) numbers += widths[i] + 1;
  // What is left for the first column: the rest of the line, less room for
  // some of the free text.
  const std::size_t text_room = text_last ? std::min<std::size_t>(columns(rows.front().back()) + 12, 24) : 0;
  const std::size_t room = width > numbers + text_room ? width - numbers - text_room : 5;
  widths[0] = std::min(widths[0], std::max<std::size_t>(room, 5));
  std::vector<std::string> out;
  for (const auto& row : rows) {
    std::string& text = out.emplace_back();
    std::string line;
    if (columns(row[0]) > widths[0]) {
      text += row[0] + '\n';
      line = std::string(widths[0], ' ');
    } else {
      line = padded(row[0], widths[0], false);
    }
    for (std::size_t i = 1; i < fixed_columns; ++i) line += ' ' + padded(row[i], widths[i], true);
    if (text_last && !row.back().empty()) {
      line += "  ";
      const std::size_t at = columns(line);
      line += row.back();
      if (columns(line) > width) {
        text += wrapped(line, width, at + 12 < width ? at : 4);
        continue;
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    text += line + '\n';
  }
  return out;
}

}  // namespace

std::string format_seconds(double seconds) {
  if (!(seconds > 0)) return "0 s";
  constexpr std::pair<double, const char*> units[] = {{1e-9, "ns"}, {1e-6, "µs"}, {1e-3, "ms"}, {1.0, "s"}};
  for (const auto& [scale, unit] : units) {
    const double value = seconds / scale;
    // Three significant digits, and the next unit once they would show 1000.
    if (value < 999.5 || scale == 1.0)
      return value < 999.5 ? fmt::format("{:.3g} {}", value, unit) : fmt::format("{:.0f} s", value);
  }
  return {};
}

std::string RunReport::to_table(std::size_t width) const {
  std::string out = wrapped(fmt::format("pipeline '{}': {} in {}{}", pipeline, to_string(status),
                                        format_seconds(duration_s), balanced() ? "" : " (BOOKS DO NOT BALANCE)"),
                            width, 4);
  // Per stage: what came in and went out, the time in the plugin, and the
  // outcomes other than emitted that happened at all.
  std::vector<std::vector<std::string>> rows{{"stage", "rep", "received", "emitted", "p50", "p99", "other"}};
  std::vector<std::vector<std::string>> notes;  // per stage, lines below its row
  for (const auto& s : stages) {
    std::string other;
    const std::pair<const char*, std::uint64_t> outcomes[] = {
        {"filtered", s.filtered}, {"dead-lettered", s.dead_lettered}, {"failed", s.failed},
        {"dropped", s.dropped},   {"abandoned", s.abandoned},         {"retried", s.retried}};
    for (const auto& [what, count] : outcomes)
      if (count) other += fmt::format("{}{} {}", other.empty() ? "" : ", ", what, count);
    const bool timed = s.latency.samples > 0;
    rows.push_back({s.name, std::to_string(s.replicas), std::to_string(s.received), std::to_string(s.emitted),
                    timed ? format_seconds(s.latency.p50_us / 1e6) : "-",
                    timed ? format_seconds(s.latency.p99_us / 1e6) : "-", other});
  }
  // The stage rows, each followed by its per-replica and acknowledgement lines.
  const auto stage_rows = fitted_rows(rows, width, true);
  out += stage_rows[0];
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const StageReport& s = stages[i];
    out += stage_rows[i + 1];
    if (s.per_replica.size() > 1) {
      std::string parts;
      for (std::size_t i = 0; i < s.per_replica.size(); ++i)
        parts += fmt::format(" #{}={}", i, s.kind == "source" ? s.per_replica[i].emitted : s.per_replica[i].received);
      out += wrapped("    per replica:" + parts, width, 6);
    }
    if (s.acknowledges)
      out += wrapped(fmt::format("    acknowledgements: {} acked, {} nacked, {} pending", s.acked, s.nacked,
                                 s.pending_acks),
                     width, 6);
  }
  // Per channel, so a forced stop shows where the abandoned messages were
  // and a slow run shows which edges held their senders. Several replicas
  // (or stages) send on one edge: their waits are added up, which can pass
  // the run's duration, hence "(sum)".
  if (!edges.empty()) {
    std::vector<std::vector<std::string>> channel_rows{
        {"channel", "cap", "sent", "delivered", "dropped", "abandoned", "blocked (sum)"}};
    for (const auto& e : edges)
      channel_rows.push_back({e.lane.empty() ? fmt::format("{} -> {}", e.from, e.to)
                                             : fmt::format("{} -> {} [{}]", e.from, e.to, e.lane),
                              std::to_string(e.capacity), std::to_string(e.sent), std::to_string(e.delivered),
                              std::to_string(e.dropped), std::to_string(e.abandoned), format_seconds(e.blocked_ms / 1e3)});
    for (const std::string& row : fitted_rows(channel_rows, width, false)) out += row;
    out += wrapped("blocked (sum): how long senders waited on the full channel, added up over every sending replica",
                   width, 2);
  }
  bool lanes = false;
  for (const auto& e : edges) lanes = lanes || !e.lane.empty();
  if (lanes) {
    out += "time waiting in lanes:\n";
    for (const auto& e : edges)
      if (!e.lane.empty())
        out += wrapped(fmt::format("  {} -> {} [{}]: p50 {}, p99 {} over {} messages", e.from, e.to, e.lane,
                                   format_seconds(e.wait.p50_us / 1e6), format_seconds(e.wait.p99_us / 1e6),
                                   e.wait.samples),
                       width, 4);
  }
  if (!bottleneck.empty())
    out += wrapped(fmt::format("bottleneck: {} (its input was full while its outputs were not)", bottleneck), width, 2);
  // Whole, however long: an error is what people search the output for.
  for (const auto& e : errors) out += fmt::format("error: {}\n", e);
  return out;
}

// ---- Gathering: the replicas' counters summed per stage and edge ---------------

namespace runtime {

void fill_report(const Stages& stages, std::optional<Clock::time_point> started_at, RunReport& out) {
  // Sums of the senders' per-replica counters, per stage and output edge.
  std::vector<std::vector<std::uint64_t>> sent(stages.size()), blocked(stages.size());
  for (const auto& stage : stages) {
    sent[stage->index].assign(stage->out_edges, 0);
    blocked[stage->index].assign(stage->out_edges, 0);
    std::lock_guard lock(stage->replicas_mutex);
    for (const auto& replica : stage->replicas)
      for (std::uint32_t output = 0; output < stage->out_edges; ++output) {
        sent[stage->index][output] += replica->sent[output].sent.get();
        blocked[stage->index][output] += replica->sent[output].blocked_ns.get();
      }
  }
  std::vector<double> blocked_into(stages.size(), 0.0);
  for (const auto& stage : stages) {
    StageReport s;
    s.name = stage->spec->name;
    s.plugin = stage->spec->plugin;
    s.kind = std::string(to_string(stage->spec->kind));
    s.replicas = stage->wanted;
    if (stage->spec->autoscale) {
      s.replicas_min = stage->spec->autoscale->min;
      s.replicas_max = stage->spec->autoscale->max;
      s.scaled_up = stage->scaled_up.load(std::memory_order_relaxed);
      s.scaled_down = stage->scaled_down.load(std::memory_order_relaxed);
    }
    Histogram::Totals latency, wait;
    std::vector<Histogram::Totals> lane_wait(stage->lane_conditions.size());
    std::vector<std::uint64_t> delivered(stage->inputs.size(), 0);
    {
      std::lock_guard lock(stage->replicas_mutex);
      for (const auto& replica : stage->replicas) {
        ReplicaReport r;
        r.received = replica->received.get();
        r.emitted = replica->emitted.get() + replica->written.get();
        r.scaled_away = replica->scaled_away.load(std::memory_order_relaxed);
        if (const auto left = replica->left_at.load(std::memory_order_relaxed); left != 0 && started_at)
          r.left_s = std::chrono::duration<double>(Clock::time_point(Clock::duration(left)) - *started_at).count();
        s.per_replica.push_back(r);
        if (replica->abandoned) ++s.stuck;
        s.abandoned_in_hand += replica->set_aside.get() + replica->stuck_in_hand;
        s.warnings += replica->warnings->count();
        s.received += r.received;
        s.emitted += r.emitted;
        s.filtered += replica->filtered.get();
        s.dead_lettered += replica->dead_lettered.get();
        s.failed += replica->failed.get();
        s.dropped += replica->dropped.get();
        s.retried += replica->retried.get();
        s.outputs += replica->outputs.get();
        s.unrouted += replica->unrouted.get();
        s.blocked_ms += static_cast<double>(replica->blocked_ns.get()) / 1e6;
        s.starved_ms += static_cast<double>(replica->starved_ns.get()) / 1e6;
        replica->latency.add_to(latency);
        for (std::size_t lane = 0; lane < lane_wait.size(); ++lane) {
          replica->lane_wait[lane].add_to(lane_wait[lane]);
          replica->lane_wait[lane].add_to(wait);
        }
        for (std::size_t e = 0; e < delivered.size(); ++e) delivered[e] += replica->delivered[e].get();
      }
    }
    if (stage->ack_books && stage->ack_books->attached.load(std::memory_order_acquire) > 0) {
      s.acknowledges = true;
      s.pending_acks = stage->ack_books->pending();  // first: it reads the settled counts before `attached`
      s.acked = stage->ack_books->acked.load(std::memory_order_acquire);
      s.nacked = stage->ack_books->nacked.load(std::memory_order_acquire);
    }
    s.abandoned += s.abandoned_in_hand;
    s.latency = Histogram::percentiles(latency);
    s.wait = Histogram::percentiles(wait);
    for (std::size_t e = 0; e < stage->inputs.size(); ++e) {
      const auto& input = *stage->inputs[e];
      EdgeReport edge;
      edge.from = input.from;
      edge.to = s.name;
      if (!stage->spec->lanes.empty()) edge.lane = stage->spec->lanes[input.lane].name;
      edge.capacity = stage->queue->capacity(input.lane);
      edge.depth = stage->queue->size(input.lane);
      edge.sent = sent[input.from_stage][input.from_output];
      edge.delivered = delivered[e];
      edge.dropped = input.dropped.load(std::memory_order_relaxed);
      edge.abandoned = input.abandoned.load(std::memory_order_relaxed);
      edge.wait = Histogram::percentiles(lane_wait[input.lane]);
      edge.blocked_ms = static_cast<double>(blocked[input.from_stage][input.from_output]) / 1e6;
      s.offered += edge.sent;
      s.dropped += edge.dropped;
      s.abandoned += edge.abandoned;
      blocked_into[stage->index] += edge.blocked_ms;
      out.edges.push_back(std::move(edge));
    }
    out.stages.push_back(std::move(s));
  }
  // The bottleneck: the stage its writers waited on most, net of the time it
  // itself waited on its own outputs; only when that is a real share of the run.
  double best = 0;
  for (const auto& stage : stages) {
    const auto& s = out.stages[stage->index];
    const double score = blocked_into[stage->index] - s.blocked_ms;
    if (score > best) {
      best = score;
      out.bottleneck = s.name;
    }
  }
  if (best < out.duration_s * 1000.0 * 0.05) out.bottleneck.clear();
}

}  // namespace runtime

}  // namespace weir
