// regex: named captures of a pattern become attributes. A message that does
// not match is filtered, failed or passed on unchanged, as configured.
// Matching is RE2's (weir::Regex): linear in the text, so no length of line
// or shape of pattern can stall the stage or overflow its stack.

#include <weir_std/option_checks.hpp>
#include <weir_std/unfit_message.hpp>

#include <weir/plugin.hpp>
#include <weir/regex.hpp>

#include <optional>

namespace weir::weir_std {
namespace {

enum class Mode { search, match };

const Option<Pattern> pattern{
    .name = "pattern",
    .description = "A regular expression in RE2 syntax (no backreferences or lookaround); each named group, "
                   "(?P<name>...) or (?<name>...), becomes an attribute of that name",
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
const Option<UnfitMessage> on_mismatch{
    .name = "on_mismatch",
    .description = "A message that does not match is `filter`ed, `fail`s (permanently, to the dead letter) or "
                   "`pass`es unchanged",
    .default_value = "filter",
    .choices = unfit_message_choices(UnfitMessage::filter)};
const Option<std::string> prefix{.name = "prefix",
                                 .description = "Put before every attribute name made from a group",
                                 .default_value = "''"};
const Option<std::int64_t> max_length{
    .name = "max_length",
    .description = "Texts longer than this many bytes count as not matching (and are logged); 0: no limit. "
                   "Matching is linear in the text, so this only caps the time one message may take",
    .default_value = "0",
    .min = 0};
const Option<bool> ignore_case{
    .name = "ignore_case", .description = "Match letters regardless of case", .default_value = "false"};

class RegexProcessor final : public Processor {
 public:
  // The pattern's syntax was checked when the pipeline loaded (the regex
  // option kind), with this engine; ignore_case does not change it.
  RegexProcessor(const Options& options, const StageContext& context)
      : attribute_(options[attribute]),
        full_match_(options[mode] == Mode::match),
        on_mismatch_(options[on_mismatch]),
        prefix_(options[prefix]),
        max_length_(static_cast<std::size_t>(options[max_length])),
        logger_(logger_for(context)),
        regex_(Regex::compile(options[pattern].text, options[ignore_case])) {
    for (const auto& [name, group] : regex_.named_groups()) groups_wanted_ = std::max(groups_wanted_, group + 1);
    groups_.resize(groups_wanted_);
    if (regex_.named_groups().empty())
      logger_->warn("pattern '{}' has no named groups, so matching adds no attributes", regex_.pattern());
  }

  void process(Message& message, Emitter& out) override {
    const std::string* text = attribute_.empty() ? &message.payload : message.attributes.find(attribute_);
    if (text && max_length_ > 0 && text->size() > max_length_) {
      logger_->warn("message {}: text of {} bytes is over max_length {}; counted as not matching", message.id,
                    text->size(), max_length_);
      return mismatch(message, out, fmt::format("the text is {} bytes, over max_length {}", text->size(), max_length_));
    }
    const bool matched =
        text && regex_.matches(*text, full_match_ ? Regex::Anchor::whole : Regex::Anchor::search, groups_);
    if (!matched)
      return mismatch(message, out, text ? "the pattern does not match" : "attribute '" + attribute_ + "' is missing");
    // Copied out before any attribute changes: groups_ point into `text`,
    // which may be one of the attributes being set.
    std::vector<std::pair<std::string, std::string>> captured;
    for (const auto& [name, group] : regex_.named_groups())
      if (groups_[group]) captured.emplace_back(prefix_ + name, std::string(*groups_[group]));
    for (auto& [name, value] : captured) message.attributes.set(std::move(name), std::move(value));
    out.emit(std::move(message));
  }

 private:
  void mismatch(Message& message, Emitter& out, const std::string& why) {
    if (keep_unfit(on_mismatch_, [&] { return why; })) out.emit(std::move(message));
  }

  std::string attribute_;
  bool full_match_;
  UnfitMessage on_mismatch_;
  std::string prefix_;
  std::size_t max_length_;
  std::shared_ptr<spdlog::logger> logger_;
  Regex regex_;
  std::size_t groups_wanted_ = 0;  // up to the highest-numbered named group
  std::vector<std::optional<std::string_view>> groups_;
};

}  // namespace

WEIR_PLUGIN(regex) {
    .name = "regex",
    .kind = Kind::processor,
    .description = "Named captures of a regular expression become attributes; no match is filtered, failed or passed",
    .options = {pattern, attribute, mode, on_mismatch, prefix, max_length, ignore_case},
    .example = plugin_example,
    .create = construct<RegexProcessor>,
};

}  // namespace weir::weir_std
