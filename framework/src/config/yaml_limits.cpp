#include "config/yaml_limits.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <sstream>
#include <unordered_map>
#include <vector>

namespace weir::config {
namespace {

struct OverLimit {
  YAML::Mark mark;
  std::string message;
  std::string hint;
};

// Counts values as the parser reports them; an alias counts as everything
// its anchor stood for. yaml-cpp itself gives up on deep nesting with "bad
// file" at the end of the document; this stops well before, at the place.
class LimitCheck final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { value(mark, anchor, 1); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    value(mark, anchor, 1);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    // An alias inside the collection its anchor names would make the value
    // contain itself: yaml-cpp builds that cycle, and any walk of it recurses
    // until the stack runs out.
    for (const Open& outer : open_)
      if (outer.anchor == anchor)
        throw OverLimit{mark, "an alias refers to the collection it is inside: the value would contain itself",
                        "an alias (*name) may repeat a value whose anchor (&name) is complete"};
    auto known = sizes_.find(anchor);
    value(mark, 0, known == sizes_.end() ? 1 : known->second);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::anchor_t anchor;
    std::uint64_t size;  // this collection and everything in it, aliases expanded
  };

  void count(const YAML::Mark& mark, std::uint64_t size) {
    total_ = size > max_yaml_values - total_ ? max_yaml_values + 1 : total_ + size;
    if (total_ > max_yaml_values)
      throw OverLimit{mark, fmt::format("the file stands for more than {} values once its aliases are expanded",
                                        max_yaml_values),
                      "anchors (&name) and aliases (*name) may repeat a value, but not multiply it without bound"};
  }

  void value(const YAML::Mark& mark, YAML::anchor_t anchor, std::uint64_t size) {
    count(mark, size);
    if (anchor != YAML::NullAnchor) sizes_[anchor] = size;
    if (!open_.empty()) open_.back().size = std::min(open_.back().size + size, max_yaml_values + 1);
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (open_.size() >= static_cast<std::size_t>(max_yaml_depth))
      throw OverLimit{mark, fmt::format("YAML nested deeper than {} levels", max_yaml_depth),
                      "a pipeline needs a handful of levels; flatten the value"};
    count(mark, 1);
    open_.push_back({anchor, 1});
  }

  void close() {
    if (open_.empty()) return;
    const Open done = open_.back();
    open_.pop_back();
    if (done.anchor != YAML::NullAnchor) sizes_[done.anchor] = done.size;
    if (!open_.empty()) open_.back().size = std::min(open_.back().size + done.size, max_yaml_values + 1);
  }

  std::vector<Open> open_;
  std::unordered_map<YAML::anchor_t, std::uint64_t> sizes_;
  std::uint64_t total_ = 0;
};

}  // namespace

std::optional<Diagnostic> check_yaml_limits(std::string_view yaml, const std::string& file) {
  std::istringstream in{std::string(yaml)};
  YAML::Parser parser(in);
  LimitCheck check;
  try {
    parser.HandleNextDocument(check);
  } catch (const OverLimit& over) {
    return Diagnostic{file, over.mark.line + 1, over.mark.column + 1, over.message, over.hint};
  }
  return std::nullopt;
}

}  // namespace weir::config
