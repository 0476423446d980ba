// The words for an option schema, shared by every view of it.

#include "plugin_text.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <stdexcept>

namespace weir::cli {

namespace {

// Duration bounds are declared in seconds and sizes in bytes; shown in the
// unit a user writes. A list's or map's bounds apply to its elements.
std::string bound_text(const OptionSpec& spec, double bound) {
  const OptionType type = spec.type == OptionType::list || spec.type == OptionType::map ? spec.element : spec.type;
  if (type == OptionType::duration)
    return format_duration(std::chrono::duration_cast<Value::Duration>(std::chrono::duration<double>(bound)));
  if (type == OptionType::size) return format_size(Size{static_cast<std::uint64_t>(bound)});
  return fmt::format("{}", bound);
}

bool needs_explaining(OptionType type) {
  switch (type) {
    case OptionType::duration:
    case OptionType::size:
    case OptionType::path:
    case OptionType::condition:
    case OptionType::regex:
    case OptionType::message_template: return true;
    default: return false;
  }
}

}  // namespace

std::string option_type_text(const OptionSpec& spec) {
  if (spec.type == OptionType::list) return fmt::format("list of {}", to_string(spec.element));
  if (spec.type == OptionType::map) return fmt::format("map of {}", to_string(spec.element));
  return std::string(to_string(spec.type));
}

std::string option_default_text(const OptionSpec& spec) {
  if (!spec.default_value) return "";
  if (spec.default_value->empty()) return "null";  // empty YAML text is null, not an empty string
  return std::string(*spec.default_value);
}

std::string option_range_text(const OptionSpec& spec) {
  if (!spec.allowed.empty()) return fmt::format("{}", fmt::join(spec.allowed, " | "));
  if (spec.min && spec.max) return fmt::format("{} .. {}", bound_text(spec, *spec.min), bound_text(spec, *spec.max));
  if (spec.min) return fmt::format(">= {}", bound_text(spec, *spec.min));
  if (spec.max) return fmt::format("<= {}", bound_text(spec, *spec.max));
  return "";
}

std::vector<std::pair<std::string, std::string>> accepted_kinds(std::span<const OptionSpec> options) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto add = [&](OptionType type) {
    const std::string name(to_string(type));
    if (!needs_explaining(type)) return;
    for (const auto& [known, text] : out)
      if (known == name) return;
    out.emplace_back(name, std::string(accepted_text(type)));
  };
  for (const OptionSpec& spec : options) {
    add(spec.type);
    if (spec.type == OptionType::list || spec.type == OptionType::map) add(spec.element);
  }
  return out;
}

void write_text_file(const std::filesystem::path& file, const std::string& text) {
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(fmt::format("{}: cannot write", file.string()));
}

}  // namespace weir::cli
