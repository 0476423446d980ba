// Rendering the run report: the contract's JSON and the human summary table.

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

std::string RunReport::to_table() const {
  std::size_t width = 5;
  for (const auto& s : stages) width = std::max(width, s.name.size());
  std::string out = fmt::format("pipeline '{}': {} in {:.3f}s{}\n", pipeline, to_string(status), duration_s,
                                balanced() ? "" : " (BOOKS DO NOT BALANCE)");
  out += fmt::format("{:<{}} {:>4} {:>9} {:>9} {:>8} {:>6} {:>6} {:>7} {:>9} {:>10} {:>10}\n", "stage", width,
                     "rep", "received", "emitted", "filtered", "dead", "failed", "dropped", "abandoned", "p50",
                     "p99");
  for (const auto& s : stages) {
    out += fmt::format("{:<{}} {:>4} {:>9} {:>9} {:>8} {:>6} {:>6} {:>7} {:>9} {:>8.1f}us {:>8.1f}us\n", s.name,
                       width, s.replicas, s.received, s.emitted, s.filtered, s.dead_lettered, s.failed, s.dropped,
                       s.abandoned, s.latency.p50_us, s.latency.p99_us);
    if (s.per_replica.size() > 1) {
      std::string parts;
      for (std::size_t i = 0; i < s.per_replica.size(); ++i)
        parts += fmt::format("{}#{}={}", i ? " " : "", i,
                             s.kind == "source" ? s.per_replica[i].emitted : s.per_replica[i].received);
      out += fmt::format("{:<{}}      per replica: {}\n", "", width, parts);
    }
    if (s.acknowledges)
      out += fmt::format("{:<{}}      acknowledgements: {} acked, {} nacked, {} pending\n", "", width, s.acked,
                         s.nacked, s.pending_acks);
  }
  // Per channel, so a forced stop shows where the abandoned messages were
  // and a slow run shows which edges held their senders.
  if (!edges.empty()) {
    std::vector<std::string> labels;
    std::size_t label_width = 7;
    for (const auto& e : edges) {
      labels.push_back(e.lane.empty() ? fmt::format("{} -> {}", e.from, e.to)
                                      : fmt::format("{} -> {} [{}]", e.from, e.to, e.lane));
      label_width = std::max(label_width, labels.back().size());
    }
    out += fmt::format("{:<{}} {:>8} {:>9} {:>9} {:>7} {:>9} {:>10}\n", "channel", label_width, "capacity", "sent",
                       "delivered", "dropped", "abandoned", "blocked");
    for (std::size_t i = 0; i < edges.size(); ++i) {
      const auto& e = edges[i];
      out += fmt::format("{:<{}} {:>8} {:>9} {:>9} {:>7} {:>9} {:>9.3f}s\n", labels[i], label_width, e.capacity,
                         e.sent, e.delivered, e.dropped, e.abandoned, e.blocked_ms / 1e3);
    }
  }
  bool lanes = false;
  for (const auto& e : edges) lanes = lanes || !e.lane.empty();
  if (lanes) {
    out += "time waiting in lanes:\n";
    for (const auto& e : edges)
      if (!e.lane.empty())
        out += fmt::format("  {} -> {} [{}]: p50 {:.1f}us p99 {:.1f}us over {} messages\n", e.from, e.to, e.lane,
                           e.wait.p50_us, e.wait.p99_us, e.wait.samples);
  }
  if (!bottleneck.empty()) out += fmt::format("bottleneck: {} (its input was full while its outputs were not)\n", bottleneck);
  for (const auto& e : errors) out += fmt::format("error: {}\n", e);
  return out;
}

}  // namespace weir
