#pragma once
// How `weir plugins` words a plugin's option schema: one wording for the
// terminal, the JSON listing and the generated reference pages, so the three
// never disagree.

#include <weir/registry.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace weir::cli {

// `integer`, `list of string`, `enum`.
std::string option_type_text(const OptionSpec& spec);
// The default as the YAML text it is declared as, or "" when there is none.
std::string option_default_text(const OptionSpec& spec);
// `1 .. 65536`, `>= 0`, `<= 10s`, `fast | safe`, or "".
std::string option_range_text(const OptionSpec& spec);
// What a value of each kind the options use looks like, for the kinds whose
// name alone does not say it: {"duration", "a duration such as 250ms, …"}.
std::vector<std::pair<std::string, std::string>> accepted_kinds(std::span<const OptionSpec> options);

// Writes `text` to `file`, creating its folder; throws naming the file when
// it cannot.
void write_text_file(const std::filesystem::path& file, const std::string& text);

// Writes one Markdown page per plugin (<kind>-<name>.md) and README.md, an
// index, into `folder`, removing pages of plugins that no longer exist.
// Returns the files written.
std::vector<std::filesystem::path> write_plugin_docs(const PluginRegistry& registry,
                                                      const std::filesystem::path& folder);

}  // namespace weir::cli
