#include "config/stage_construction.hpp"

#include "embed/host_stages.hpp"
#include "runtime/crash_context.hpp"

#include <weir/options.hpp>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <charconv>
#include <memory>
#include <optional>

namespace weir::config {

namespace {

// The node an option path names inside `config`: `templates[2].weight`,
// `attributes.summary`. As deep as the path resolves; none when not even its
// first name is in the YAML (the value is a default).
std::optional<YAML::Node> option_node(const YAML::Node& config, std::string_view path) {
  std::optional<YAML::Node> found;
  if (!config.IsDefined() || !config.IsMap()) return found;
  YAML::Node current = config;
  std::size_t at = 0;
  bool first = true;
  while (at < path.size()) {
    YAML::Node next;
    if (path[at] == '[') {
      const std::size_t close = path.find(']', at);
      std::size_t index = 0;
      if (close == std::string_view::npos ||
          std::from_chars(path.data() + at + 1, path.data() + close, index).ec != std::errc() ||
          !current.IsSequence() || index >= current.size())
        break;
      next = current[index];
      at = close + 1;
    } else {
      if (path[at] == '.') ++at;
      const std::size_t end = std::min(path.find_first_of(".[", at), path.size());
      const std::string key(path.substr(at, end - at));
      if (!current.IsMap()) break;
      bool matched = false;
      for (const auto& entry : current)
        if (entry.first.IsScalar() && entry.first.Scalar() == key) {
          next = entry.second;
          matched = true;
          break;
        }
      if (!matched) {
        if (first) return found;
        break;
      }
      at = end;
    }
    first = false;
    current.reset(next);
    found.emplace();
    found->reset(next);
  }
  return found;
}

}  // namespace

void check_construction(const StageSpec& stage, const PluginEntry& plugin, const YAML::Node& config,
                        const Place& stage_place, Reporter& reporter) {
  // A host program's stages are made by the host; there is nothing to try.
  if (detail::is_host_plugin(plugin.name())) return;
  // A logger named after the stage, as the run gives, but with no sinks: what a
  // constructor says is said again when the run constructs it.
  const StageContext context{stage.name, stage.plugin, 0, stage.replicas,
                             std::make_shared<spdlog::logger>(stage.name)};
  const std::string who = fmt::format("stage '{}'", stage.name);
  // Named as the runtime names the replica it constructs, so a crash in the
  // constructor (reported by the crash handler) and a throw read the same.
  const std::string replica = fmt::format("stage '{}' replica 0", stage.name);
  runtime::StageLabelScope in_plugin(replica.c_str());
  try {
    StageInstance instance = plugin.create(stage.options, context);
  } catch (const OptionError& e) {
    Place at = stage_place;
    if (const auto node = option_node(config, e.option()))
      at = e.column() > 0 && node->IsScalar() ? reporter.place_inside(*node, e.column()) : reporter.place(*node);
    reporter.error(at, fmt::format("{}: option '{}': {}", who, e.option(), e.problem()), e.hint());
  } catch (const std::exception& e) {
    reporter.error(stage_place, fmt::format("{}: {}", replica, e.what()));
  }
}

}  // namespace weir::config
