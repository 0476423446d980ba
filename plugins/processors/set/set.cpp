// set: adds, replaces or removes attributes, and may rewrite the payload and
// the priority. Values are templates over the incoming message:
//   {payload} {priority} {id}, {attr:NAME} or {NAME} for an attribute,
//   {{ and }} for literal braces.
// Every template reads the message as it arrived, so the order of the keys
// does not matter.

#include <weir/plugin.hpp>
#include <weir/template.hpp>

#include <optional>

namespace weir::weir_std {
namespace {

const Option<Named<Template>> attributes{
    .name = "attributes",
    .description = "Attributes to add or replace; values are templates: {payload}, {priority}, {id}, {attr:NAME} or "
                   "{NAME}; {{ and }} are literal braces",
    .default_value = "{}",
    .example = "{service: checkout, where: '{host}:{port}'}"};
const Option<std::vector<std::string>> remove{
    .name = "remove", .description = "Attributes to remove", .default_value = "[]", .example = "[password, token]"};
const Option<Template> payload{.name = "payload",
                               .description = "A template that replaces the payload; unset keeps it",
                               .example = "'{level} {payload}'"};
const Option<std::int64_t> priority{
    .name = "priority", .description = "A new priority; unset keeps it", .example = "5"};

class Set final : public Processor {
 public:
  Set(const Options& options, const StageContext&)
      : attributes_(options[attributes]),
        remove_(options[remove]),
        payload_(options.get(payload)),
        priority_(options.get(priority)) {
    for (const auto& [name, value] : attributes_)
      if (name.empty()) reject_option(attributes.name, "an empty attribute name", "a non-empty name");
    if (attributes_.empty() && remove_.empty() && !payload_ && !priority_)
      reject_option(attributes.name, "nothing to do", "at least one of attributes, remove, payload, priority");
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

WEIR_PLUGIN(set) {
    .name = "set",
    .kind = Kind::processor,
    .description = "Adds, replaces or removes attributes and may rewrite the payload or priority; values are "
                   "templates of other attributes and the payload",
    .options = {attributes, remove, payload, priority},
    .example = plugin_example,
    .create = construct<Set>,
};

}  // namespace weir::weir_std
