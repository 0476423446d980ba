// regex: named captures of a pattern become attributes. A message that does
// not match is filtered, failed or passed on unchanged, as configured.

#include "named_groups.hpp"

#include <weir_std/option_checks.hpp>

#include <weir/plugin.hpp>

#include <regex>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> regex_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "pattern", .type = OptionType::string,
       .description = "An ECMAScript regular expression; each named group, (?P<name>...) or (?<name>...), "
                      "becomes an attribute of that name",
       .required = true, .example = "'^(?P<level>[A-Z]+) (?P<message>.*)$'"},
      {.name = "attribute", .type = OptionType::string,
       .description = "Match this attribute's value instead of the payload (a message without it does not match)",
       .default_value = "''", .example = "line"},
      {.name = "mode", .type = OptionType::enumeration,
       .description = "`search` finds the pattern anywhere; `match` requires it to cover the whole text",
       .default_value = "search", .allowed = {"search", "match"}},
      {.name = "on_mismatch", .type = OptionType::enumeration,
       .description = "A message that does not match is `filter`ed, `fail`s (permanently, to the dead letter) "
                      "or `pass`es unchanged",
       .default_value = "filter", .allowed = {"filter", "fail", "pass"}},
      {.name = "prefix", .type = OptionType::string,
       .description = "Put before every attribute name made from a group", .default_value = "''"},
      {.name = "max_length", .type = OptionType::integer,
       .description = "Longer texts are treated as not matching (and logged): std::regex recurses once per "
                      "character and would overflow the thread's stack on very long lines",
       .default_value = "16384", .min = 1, .max = 32768},
      {.name = "ignore_case", .type = OptionType::boolean, .description = "Match letters regardless of case",
       .default_value = "false"},
  };
  return specs;
}

class Regex final : public Processor {
 public:
  Regex(const Options& options, const StageContext& context)
      : attribute_(options.string("attribute")),
        full_match_(options.string("mode") == "match"),
        on_mismatch_(options.string("on_mismatch")),
        prefix_(options.string("prefix")),
        max_length_(static_cast<std::size_t>(options.integer("max_length"))),
        logger_(logger_for(context)) {
    const std::string pattern = options.string("pattern");
    try {
      NamedPattern translated = translate_named_groups(pattern);
      auto flags = std::regex::ECMAScript | std::regex::optimize;
      if (options.boolean("ignore_case")) flags |= std::regex::icase;
      regex_ = std::regex(translated.ecmascript, flags);
      names_ = std::move(translated.names);
    } catch (const std::exception& e) {
      reject_option(context, "pattern", fmt::format("'{}' is not a valid regular expression: {}", pattern, e.what()),
                    "an ECMAScript regular expression with named groups such as (?P<level>[a-z]+)");
    }
    if (names_.empty())
      logger_for(context)->warn("pattern '{}' has no named groups, so matching adds no attributes", pattern);
  }

  void process(Message& message, Emitter& out) override {
    const std::string* text = attribute_.empty() ? &message.payload : message.attributes.find(attribute_);
    if (text && text->size() > max_length_) {
      logger_->warn("message {}: text of {} bytes is over max_length {}; counted as not matching", message.id,
                    text->size(), max_length_);
      return mismatch(message, out, fmt::format("the text is {} bytes, over max_length {}", text->size(), max_length_));
    }
    bool matched = text && (full_match_ ? std::regex_match(*text, match_, regex_)
                                        : std::regex_search(*text, match_, regex_));
    if (!matched)
      return mismatch(message, out, text ? "the pattern does not match" : "attribute '" + attribute_ + "' is missing");
    // Copied out before any attribute changes: match_ points into `text`,
    // which may be one of the attributes being set.
    std::vector<std::pair<std::string, std::string>> captured;
    for (const auto& [name, group] : names_)
      if (match_[group].matched) captured.emplace_back(prefix_ + name, match_[group].str());
    for (auto& [name, value] : captured) message.attributes.set(std::move(name), std::move(value));
    out.emit(std::move(message));
  }

 private:
  void mismatch(Message& message, Emitter& out, const std::string& why) {
    if (on_mismatch_ == "fail") throw PermanentError(why);
    if (on_mismatch_ == "pass") out.emit(std::move(message));
  }

  std::string attribute_;
  bool full_match_;
  std::string on_mismatch_;
  std::string prefix_;
  std::size_t max_length_;
  std::shared_ptr<spdlog::logger> logger_;
  std::regex regex_;
  std::vector<std::pair<std::string, std::size_t>> names_;
  std::smatch match_;
};

}  // namespace
}  // namespace weir::stdp

WEIR_PLUGIN(regex, processor, "regex",
            "Named captures of a regular expression become attributes; no match is filtered, failed or passed",
            weir::stdp::Regex, weir::stdp::regex_options, weir::stdp::example_yaml)
