#include "config/overrides.hpp"
#include "config/yaml_limits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace weir {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

}  // namespace

Override parse_override(const std::string& text) {
  const std::size_t equals = text.find('=');
  const std::string path = text.substr(0, equals);
  const auto parts = split_path(path);
  const bool has_empty_part = std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
  if (equals == std::string::npos || parts.size() < 2 || has_empty_part)
    throw ConfigError({Diagnostic{"--set " + text, 0, 0, "expected STAGE.KEY=VALUE or defaults.KEY=VALUE",
                                  "for example --set workers.config.count=10, --set workers.replicas=2 or --set "
                                  "defaults.capacity=64"}});
  return Override{path, text.substr(equals + 1)};
}

namespace config {

namespace {

// The map an override writes into and the path below it: `defaults.KEY` the
// defaults, `stages.NAME.KEY` and `NAME.KEY` a stage. None (reported) when the
// stage does not exist.
std::optional<std::pair<YAML::Node, std::vector<std::string>>> override_target(YAML::Node& root,
                                                                              std::vector<std::string> parts,
                                                                              const Place& here, Reporter& reporter) {
  if (!root.IsMap()) {
    reporter.error(here, "the pipeline has no stages to override");
    return std::nullopt;
  }
  if (parts.front() == "defaults") {
    if (!root["defaults"].IsDefined() || root["defaults"].IsNull()) root["defaults"] = YAML::Node(YAML::NodeType::Map);
    return std::pair{root["defaults"], std::vector<std::string>(parts.begin() + 1, parts.end())};
  }
  if (parts.front() == "stages") {
    if (parts.size() < 3) {
      reporter.error(here, "expected stages.STAGE.KEY=VALUE", "for example --set stages.workers.replicas=2");
      return std::nullopt;
    }
    parts.erase(parts.begin());
  }
  YAML::Node stages;
  stages.reset(root["stages"]);
  if (!stages.IsMap()) {
    reporter.error(here, "the pipeline has no stages to override");
    return std::nullopt;
  }
  std::vector<std::string> stage_names;
  for (const auto& entry : stages) stage_names.push_back(entry.first.Scalar());
  if (std::find(stage_names.begin(), stage_names.end(), parts.front()) == stage_names.end()) {
    reporter.error(here, fmt::format("no stage named '{}'", parts.front()), did_you_mean(parts.front(), stage_names));
    return std::nullopt;
  }
  YAML::Node stage = stages[parts.front()];
  if (stage.IsNull()) stage = YAML::Node(YAML::NodeType::Map);
  return std::pair{stage, std::vector<std::string>(parts.begin() + 1, parts.end())};
}

}  // namespace

void apply_overrides(YAML::Node& root, const std::vector<Override>& overrides, Reporter& reporter) {
  for (const Override& override_ : overrides) {
    const std::string text = override_.path + "=" + override_.value;
    const Place here{"--set " + text, {}};
    auto target = override_target(root, split_path(override_.path), here, reporter);
    if (!target) continue;
    auto& [parent, parts] = *target;
    YAML::Node value;
    try {
      if (auto over = check_yaml_limits(override_.value, {})) {
        reporter.error(here, fmt::format("the value: {}", over->message), over->hint);
        continue;
      }
      value = YAML::Load(override_.value);
    } catch (const YAML::ParserException& e) {
      reporter.error(here, fmt::format("the value is not valid YAML: {}", e.msg));
      continue;
    }
    // Walk down, creating the maps on the way (`config:` is often absent).
    bool reachable = true;
    for (std::size_t i = 0; i + 1 < parts.size() && reachable; ++i) {
      if (!parent.IsMap()) {
        reachable = false;
        break;
      }
      YAML::Node child = parent[parts[i]];
      if (!child.IsDefined() || child.IsNull()) {
        parent[parts[i]] = YAML::Node(YAML::NodeType::Map);
        child = parent[parts[i]];
      }
      parent.reset(child);  // operator= would overwrite the tree node's content
    }
    if (!reachable || !(parent.IsMap() || parent.IsNull())) {
      reporter.error(here, fmt::format("'{}' leads through a value that is not a map",
                                       override_.path.substr(0, override_.path.rfind('.'))));
      continue;
    }
    parent[parts.back()] = value;
    for (const auto& entry : parent)
      if (entry.first.Scalar() == parts.back()) {
        reporter.mark_override(entry.first, text);
        reporter.mark_override(entry.second, text);
      }
  }
}

}  // namespace config
}  // namespace weir
