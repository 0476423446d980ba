// json: parses a JSON payload into attributes (chosen top-level fields or all
// of them), or renders attributes and payload as a JSON object.

#include <weir_std/message_json.hpp>
#include <weir_std/unfit_message.hpp>

#include <weir/plugin.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace weir::weir_std {
namespace {

enum class Mode { parse, render };

const Option<Mode> mode{
    .name = "mode",
    .description = "`parse` turns a JSON object payload into attributes; `render` replaces the payload with a JSON "
                   "object of the attributes (and the old payload). Values that are not UTF-8 are written "
                   "base64-encoded as NAME_base64, and parse decodes NAME_base64 fields back into NAME",
    .default_value = "parse",
    .choices = {{"parse", Mode::parse}, {"render", Mode::render}}};
const Option<std::vector<std::string>> fields{
    .name = "fields",
    .description = "parse: the top-level fields to take (missing ones are skipped); render: the attributes to "
                   "write. Empty means all",
    .default_value = "[]",
    .example = "[level, user]"};
const Option<std::string> prefix{.name = "prefix",
                                 .description = "parse: put before every attribute name made from a field",
                                 .default_value = "''",
                                 .example = "json_"};
const Option<std::string> payload_from{
    .name = "payload_from",
    .description = "parse: a field whose value becomes the new payload (or, when it is missing, the bytes "
                   "base64-encoded in the field of that name with `_base64` added); empty keeps the payload",
    .default_value = "''",
    .example = "message"};
const Option<std::string> payload_field{
    .name = "payload_field",
    .description = "render: the field that carries the old payload; empty leaves the payload out",
    .default_value = "payload"};
const Option<UnfitMessage> on_invalid{
    .name = "on_invalid",
    .description = "parse: a payload that is not a JSON object `fail`s (permanently), is `filter`ed, or `pass`es "
                   "unchanged",
    .default_value = "fail",
    .choices = unfit_message_choices(UnfitMessage::fail)};

class JsonProcessor final : public Processor {
 public:
  JsonProcessor(const Options& options, const StageContext&)
      : render_(options[mode] == Mode::render),
        prefix_(options[prefix]),
        payload_from_(options[payload_from]),
        payload_field_(options[payload_field]),
        on_invalid_(options[on_invalid]),
        fields_(options[fields]) {
    for (std::size_t i = 0; i < fields_.size(); ++i)
      if (fields_[i].empty()) reject_option(fmt::format("fields[{}]", i), "an empty field name", "names of fields");
  }

  void process(Message& message, Emitter& out) override {
    if (render_)
      render(message);
    else if (!parse(message))
      return;
    out.emit(std::move(message));
  }

 private:
  bool wanted(std::string_view name) const {
    return fields_.empty() || std::find(fields_.begin(), fields_.end(), name) != fields_.end();
  }

  // Strings go in as they are; everything else as its JSON text, so a
  // nested object stays parseable downstream.
  static std::string field_text(const Json& value) {
    return value.is_string() ? value.get<std::string>() : dump_json(value);
  }

  bool parse(Message& message) {
    // Parsed without exceptions: with on_invalid `filter` or `pass`, an
    // invalid payload costs no throw and no message text.
    const std::size_t deep = json_too_deep_at(message.payload);
    Json parsed;
    if (deep == std::string_view::npos) parsed = Json::parse(message.payload, nullptr, /*allow_exceptions=*/false);
    if (deep != std::string_view::npos || parsed.is_discarded() || !parsed.is_object()) {
      return keep_unfit(on_invalid_, [&] { return why_invalid(message.payload, deep); });
    }
    for (const auto& [name, value] : parsed.items()) {
      if (value.is_null()) continue;
      if (auto bytes = encoded_bytes(name, value)) {
        const std::string plain = name.substr(0, name.size() - base64_suffix.size());
        if (wanted(plain)) message.attributes.set(prefix_ + plain, std::move(*bytes));
      } else if (wanted(name)) {
        message.attributes.set(prefix_ + name, field_text(value));
      }
    }
    if (!payload_from_.empty()) {
      if (auto it = parsed.find(payload_from_); it != parsed.end() && !it->is_null()) {
        message.payload = field_text(*it);
      } else if (auto encoded = parsed.find(payload_from_ + std::string(base64_suffix)); encoded != parsed.end()) {
        if (auto bytes = encoded_bytes(encoded.key(), *encoded)) message.payload = std::move(*bytes);
      }
    }
    return true;
  }

  // Why a payload that parse() refused is not a JSON object: parsed again,
  // with exceptions, for the position of the error.
  static std::string why_invalid(const std::string& payload, std::size_t deep) {
    // Bytes are counted from 1, as nlohmann's parse errors count them.
    if (deep != std::string_view::npos)
      return fmt::format("payload nests deeper than {} levels of JSON (at byte {})", max_json_depth, deep + 1);
    try {
      const Json parsed = Json::parse(payload);
      return parsed.is_object() ? "payload is not valid JSON" : "payload is JSON but not an object";
    } catch (const Json::parse_error& e) {
      return fmt::format("payload is not valid JSON (at byte {})", e.byte);
    } catch (const Json::exception& e) {
      // Valid syntax nlohmann cannot hold, such as 1e999 (out_of_range).
      const std::string_view what = e.what();
      const std::size_t tag_end = what.find("] ");
      return fmt::format("payload is not usable JSON: {}",
                         tag_end == std::string_view::npos ? what : what.substr(tag_end + 2));
    }
  }

  // The bytes of a NAME_base64 field, which render mode and the JSON sinks
  // write for values that are not UTF-8.
  static std::optional<std::string> encoded_bytes(std::string_view name, const Json& value) {
    if (!name.ends_with(base64_suffix) || name.size() == base64_suffix.size() || !value.is_string())
      return std::nullopt;
    return base64_decode(value.get_ref<const std::string&>());
  }

  void render(Message& message) const {
    Json object = Json::object();
    for (const auto& [name, value] : message.attributes)
      if (wanted(name)) put_bytes(object, name, value);
    if (!payload_field_.empty()) put_bytes(object, payload_field_, message.payload);
    message.payload = dump_json(object);
  }

  bool render_;
  std::string prefix_;
  std::string payload_from_;
  std::string payload_field_;
  UnfitMessage on_invalid_;
  std::vector<std::string> fields_;
};

}  // namespace

WEIR_PLUGIN(json) {
    .name = "json",
    .kind = Kind::processor,
    .description = "Parses a JSON payload into attributes (chosen top-level fields or all), or renders attributes "
                   "and payload as JSON",
    .options = {mode, fields, prefix, payload_from, payload_field, on_invalid},
    .example = plugin_example,
    .create = construct<JsonProcessor>,
};

}  // namespace weir::weir_std
