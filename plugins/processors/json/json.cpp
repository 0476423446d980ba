// json: parses a JSON payload into attributes (chosen top-level fields or all
// of them), or renders attributes and payload as a JSON object.

#include <weir_std/message_json.hpp>
#include <weir_std/option_checks.hpp>

#include <weir/plugin.hpp>

#include <algorithm>
#include <optional>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> json_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "mode", .type = OptionType::enumeration,
       .description = "`parse` turns a JSON object payload into attributes; `render` replaces the payload with a "
                      "JSON object of the attributes (and the old payload). Values that are not UTF-8 are written "
                      "base64-encoded as NAME_base64, and parse decodes NAME_base64 fields back into NAME",
       .default_value = "parse", .allowed = {"parse", "render"}},
      {.name = "fields", .type = OptionType::list,
       .description = "parse: the top-level fields to take (missing ones are skipped); render: the attributes "
                      "to write. Empty means all",
       .default_value = "[]", .example = "[level, user]"},
      {.name = "prefix", .type = OptionType::string,
       .description = "parse: put before every attribute name made from a field", .default_value = "''",
       .example = "json_"},
      {.name = "payload_from", .type = OptionType::string,
       .description = "parse: a field whose value becomes the new payload (or, when it is missing, the bytes "
                      "base64-encoded in the field of that name with `_base64` added); empty keeps the payload",
       .default_value = "''", .example = "message"},
      {.name = "payload_field", .type = OptionType::string,
       .description = "render: the field that carries the old payload; empty leaves the payload out",
       .default_value = "payload"},
      {.name = "on_invalid", .type = OptionType::enumeration,
       .description = "parse: a payload that is not a JSON object `fail`s (permanently), is `filter`ed, or "
                      "`pass`es unchanged",
       .default_value = "fail", .allowed = {"fail", "filter", "pass"}},
  };
  return specs;
}

class JsonProcessor final : public Processor {
 public:
  JsonProcessor(const Options& options, const StageContext& context)
      : render_(options.string("mode") == "render"),
        prefix_(options.string("prefix")),
        payload_from_(options.string("payload_from")),
        payload_field_(options.string("payload_field")),
        on_invalid_(options.string("on_invalid")) {
    for (const Value& field : options.list("fields")) {
      fields_.push_back(scalar_text(field));
      if (fields_.back().empty()) reject_option(context, "fields", "an empty field name", "names of fields");
    }
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
    std::string problem;
    Json parsed;
    if (const std::size_t deep = json_too_deep_at(message.payload); deep != std::string_view::npos) {
      // Bytes are counted from 1, as nlohmann's parse errors count them.
      problem = fmt::format("payload nests deeper than {} levels of JSON (at byte {})", max_json_depth, deep + 1);
    } else {
      try {
        parsed = Json::parse(message.payload);
        if (!parsed.is_object()) problem = "payload is JSON but not an object";
      } catch (const Json::parse_error& e) {
        problem = fmt::format("payload is not valid JSON (at byte {})", e.byte);
      } catch (const Json::exception& e) {
        // Valid syntax nlohmann cannot hold, such as 1e999 (out_of_range):
        // invalid here too, so on_invalid decides, not the stage's on_error.
        const std::string_view what = e.what();
        const std::size_t tag_end = what.find("] ");
        problem = fmt::format("payload is not usable JSON: {}",
                              tag_end == std::string_view::npos ? what : what.substr(tag_end + 2));
      }
    }
    if (!problem.empty()) {
      if (on_invalid_ == "pass") return true;
      if (on_invalid_ == "filter") return false;
      throw PermanentError(problem);
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
  std::string on_invalid_;
  std::vector<std::string> fields_;
};

}  // namespace
}  // namespace weir::stdp

WEIR_PLUGIN(json, processor, "json",
            "Parses a JSON payload into attributes (chosen top-level fields or all), or renders attributes and "
            "payload as JSON",
            weir::stdp::JsonProcessor, weir::stdp::json_options, weir::stdp::example_yaml)
