// regex: named captures of a pattern become attributes. A message that does
// not match is filtered, failed or passed on unchanged, as configured.

#include "named_groups.hpp"

#include <weir_std/option_checks.hpp>

#include <weir/plugin.hpp>

#include <regex>

namespace weir::stdp {
namespace {

enum class Mode { search, match };
enum class OnMismatch { filter, fail, pass };

const Option<Pattern> pattern{
    .name = "pattern",
    .description = "A regular expression; each named group, (?P<name>...) or (?<name>...), becomes an attribute "
                   "of that name",
    .required = true,
    .example = "'^(?P<level>[A-Z]+) (?P<message>.*)$'"};
const Option<std::string> attribute{
    .name = "attribute",
    .description = "Match this attribute's value instead of the payload (a message without it does not match)",
    .default_value = "''",
    .example = "line"};
const Option<Mode> mode{.name = "mode",
                        .description = "`search` finds the pattern anywhere; `match` requires it to cover the whole text",
                        .default_value = "search",
                        .choices = {{"search", Mode::search}, {"match", Mode::match}}};
const Option<OnMismatch> on_mismatch{
    .name = "on_mismatch",
    .description = "A message that does not match is `filter`ed, `fail`s (permanently, to the dead letter) or "
                   "`pass`es unchanged",
    .default_value = "filter",
    .choices = {{"filter", OnMismatch::filter}, {"fail", OnMismatch::fail}, {"pass", OnMismatch::pass}}};
const Option<std::string> prefix{.name = "prefix",
                                 .description = "Put before every attribute name made from a group",
                                 .default_value = "''"};
const Option<std::int64_t> max_length{
    .name = "max_length",
    .description = "Longer texts are treated as not matching (and logged): std::regex recurses once per character "
                   "and would overflow the thread's stack on very long lines",
    .default_value = "16384",
    .min = 1,
    .max = 32768};
const Option<bool> ignore_case{
    .name = "ignore_case", .description = "Match letters regardless of case", .default_value = "false"};

class Regex final : public Processor {
 public:
  Regex(const Options& options, const StageContext& context)
      : attribute_(options[attribute]),
        full_match_(options[mode] == Mode::match),
        on_mismatch_(options[on_mismatch]),
        prefix_(options[prefix]),
        max_length_(static_cast<std::size_t>(options[max_length])),
        logger_(logger_for(context)) {
    const std::string text = options[pattern].text;
    try {
      NamedPattern translated = translate_named_groups(text);
      auto flags = std::regex::ECMAScript | std::regex::optimize;
      if (options[ignore_case]) flags |= std::regex::icase;
      regex_ = std::regex(translated.ecmascript, flags);
      names_ = std::move(translated.names);
    } catch (const std::exception& e) {
      reject_option(pattern.name, fmt::format("'{}' is not a valid regular expression: {}", text, e.what()),
                    "a regular expression with named groups such as (?P<level>[a-z]+)");
    }
    if (names_.empty())
      logger_->warn("pattern '{}' has no named groups, so matching adds no attributes", text);
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
    if (on_mismatch_ == OnMismatch::fail) throw PermanentError(why);
    if (on_mismatch_ == OnMismatch::pass) out.emit(std::move(message));
  }

  std::string attribute_;
  bool full_match_;
  OnMismatch on_mismatch_;
  std::string prefix_;
  std::size_t max_length_;
  std::shared_ptr<spdlog::logger> logger_;
  std::regex regex_;
  std::vector<std::pair<std::string, std::size_t>> names_;
  std::smatch match_;
};

}  // namespace

WEIR_PLUGIN(regex) {
    .name = "regex",
    .kind = Kind::processor,
    .description = "Named captures of a regular expression become attributes; no match is filtered, failed or passed",
    .options = {pattern, attribute, mode, on_mismatch, prefix, max_length, ignore_case},
    .example = plugin_example,
    .create = construct<Regex>,
};

}  // namespace weir::stdp
