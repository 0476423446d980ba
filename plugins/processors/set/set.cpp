// set: adds, replaces or removes attributes, and may rewrite the payload and
// the priority. Values are templates over the incoming message:
//   {payload} {priority} {id}, {attr:NAME} or {NAME} for an attribute,
//   {{ and }} for literal braces.
// Every template reads the message as it arrived, so the order of the keys
// does not matter.

#include <weir_std/option_checks.hpp>
#include <weir_std/template.hpp>

#include <weir/plugin.hpp>

#include <optional>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> set_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "attributes", .type = OptionType::map,
       .description = "Attributes to add or replace; values are templates: {payload}, {priority}, {id}, "
                      "{attr:NAME} or {NAME}; {{ and }} are literal braces",
       .default_value = "{}", .example = "{service: checkout, where: '{host}:{port}'}"},
      {.name = "remove", .type = OptionType::list, .description = "Attributes to remove",
       .default_value = "[]", .example = "[password, token]"},
      {.name = "payload", .type = OptionType::string,
       .description = "A template that replaces the payload; unset keeps it", .example = "'{level} {payload}'"},
      {.name = "priority", .type = OptionType::integer,
       .description = "A new priority; unset keeps it", .example = "5"},
  };
  return specs;
}

class Set final : public Processor {
 public:
  Set(const Options& options, const StageContext& context) {
    for (const auto& [name, value] : options.map("attributes")) {
      if (name.empty()) reject_option(context, "attributes", "an empty attribute name", "a non-empty name");
      attributes_.emplace_back(name, Template::compile(scalar_text(value)));
    }
    for (const Value& name : options.list("remove")) remove_.push_back(scalar_text(name));
    if (options.has("payload") && !options.at("payload").is_null())
      payload_ = Template::compile(options.string("payload"));
    if (options.has("priority") && !options.at("priority").is_null()) priority_ = options.integer("priority");
    if (attributes_.empty() && remove_.empty() && !payload_ && !priority_)
      reject_option(context, "attributes", "nothing to do", "at least one of attributes, remove, payload, priority");
  }

  void process(Message& message, Emitter& out) override {
    rendered_.clear();
    for (const auto& [name, value] : attributes_) rendered_.push_back(value.render(message));
    std::optional<std::string> payload;
    if (payload_) payload = payload_->render(message);
    for (const std::string& name : remove_) message.attributes.erase(name);
    for (std::size_t i = 0; i < attributes_.size(); ++i)
      message.attributes.set(attributes_[i].first, std::move(rendered_[i]));
    if (payload) message.payload = std::move(*payload);
    if (priority_) message.priority = *priority_;
    out.emit(std::move(message));
  }

 private:
  std::vector<std::pair<std::string, Template>> attributes_;
  std::vector<std::string> remove_;
  std::optional<Template> payload_;
  std::optional<std::int64_t> priority_;
  std::vector<std::string> rendered_;
};

}  // namespace
}  // namespace weir::stdp

WEIR_PLUGIN(set, processor, "set",
            "Adds, replaces or removes attributes and may rewrite the payload or priority; values are templates "
            "of other attributes and the payload",
            weir::stdp::Set, weir::stdp::set_options, weir::stdp::example_yaml)
