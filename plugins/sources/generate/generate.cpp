// generate: synthetic messages from templates, for demos and benchmarks.

#include <weir_std/option_checks.hpp>
#include <weir_std/template.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>

#include <random>

namespace weir::stdp {
namespace {

// The example text doubles as the plugin's documented example stage.
constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> generate_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "count", .type = OptionType::integer,
       .description = "Messages each replica produces; 0 produces until the pipeline stops",
       .default_value = "100", .min = 0, .example = "1000"},
      {.name = "rate", .type = OptionType::number,
       .description = "Messages per second per replica, evenly spaced; 0 is as fast as the pipeline takes them",
       .default_value = "0", .min = 0, .example = "200"},
      {.name = "payload", .type = OptionType::string,
       .description = "Payload template when no `templates` are given. Placeholders: {seq} (0.. per replica), "
                      "{replica}, {stage}, {attr:NAME} or {NAME} for an attribute, {priority}; {{ and }} are "
                      "literal braces",
       .default_value = "'message {seq} from replica {replica}'", .example = "'hello {seq}'"},
      {.name = "attributes", .type = OptionType::map,
       .description = "Attributes every message gets (templates, like the payload); a template's own attributes "
                      "override them",
       .default_value = "{}", .example = "{source: demo}"},
      {.name = "priority", .type = OptionType::integer,
       .description = "Priority of messages whose template sets none", .default_value = "0"},
      {.name = "templates", .type = OptionType::list,
       .description = "Message templates, each a map with `payload`, `attributes`, `priority` and `weight` "
                      "(all optional); taken in turn or by weight, see `order`",
       .default_value = "[]",
       .example = "[{payload: 'job {seq}', attributes: {kind: email_send}, priority: 0, weight: 2}]",
       .element = OptionType::map},
      {.name = "order", .type = OptionType::enumeration,
       .description = "`cycle` takes the templates in turn; `weighted` picks at random by `weight`",
       .default_value = "cycle", .allowed = {"cycle", "weighted"}},
      {.name = "payload_size", .type = OptionType::integer,
       .description = "Pad (with '.') or cut every payload to this many bytes; 0 leaves it as rendered",
       .default_value = "0", .min = 0, .example = "1024"},
      {.name = "payload_size_max", .type = OptionType::integer,
       .description = "With `payload_size`, sizes are drawn uniformly from payload_size..payload_size_max",
       .default_value = "0", .min = 0, .example = "4096"},
      {.name = "seed", .type = OptionType::integer,
       .description = "Seed of the weighted choice and the sizes; each replica adds its index, so runs repeat",
       .default_value = "1"},
  };
  return specs;
}

struct MessageTemplate {
  Template payload;
  std::vector<std::pair<std::string, Template>> attributes;
  std::int64_t priority = 0;
  double weight = 1;
};

class Generate final : public Source {
 public:
  Generate(const Options& options, const StageContext& context)
      : context_(context),
        count_(options.integer("count")),
        rate_(options.number("rate")),
        size_min_(static_cast<std::size_t>(options.integer("payload_size"))),
        size_max_(static_cast<std::size_t>(options.integer("payload_size_max"))),
        weighted_(options.string("order") == "weighted"),
        random_(static_cast<std::uint64_t>(options.integer("seed")) + context.replica) {
    if (size_max_ != 0 && size_max_ < size_min_)
      reject_option(context, "payload_size_max", fmt::format("{} is below payload_size {}", size_max_, size_min_),
                    "0 or a size at least payload_size");
    std::vector<std::pair<std::string, Template>> common;
    for (const auto& [key, value] : options.map("attributes"))
      common.emplace_back(key, compile(scalar_text(value)));
    std::int64_t default_priority = options.integer("priority");
    const Value::List& list = options.list("templates");
    if (list.empty()) {
      templates_.push_back({compile(options.string("payload")), common, default_priority, 1});
    }
    for (std::size_t i = 0; i < list.size(); ++i) templates_.push_back(read_template(list[i], i, common, default_priority));
    std::vector<double> weights;
    for (const auto& t : templates_) weights.push_back(t.weight);
    pick_ = std::discrete_distribution<std::size_t>(weights.begin(), weights.end());
  }

  void run(Emitter& out, std::stop_token stop) override {
    const auto started = Clock::now();
    std::vector<std::string> values{"", std::to_string(context_.replica), context_.stage};
    for (std::int64_t seq = 0; count_ == 0 || seq < count_; ++seq) {
      if (stop.stop_requested()) return;
      if (rate_ > 0) {
        auto due = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seq / rate_));
        if (!wait_until(stop, due)) return;
      }
      values[0] = std::to_string(seq);
      const MessageTemplate& chosen =
          templates_[weighted_ ? pick_(random_) : static_cast<std::size_t>(seq) % templates_.size()];
      if (!out.emit(make(chosen, values))) return;
    }
  }

 private:
  Template compile(const std::string& text) const { return Template::compile(text, {"seq", "replica", "stage"}); }

  MessageTemplate read_template(const Value& value, std::size_t index,
                                const std::vector<std::pair<std::string, Template>>& common,
                                std::int64_t default_priority) const {
    std::string option = fmt::format("templates[{}]", index);
    if (!value.is_map())
      reject_option(context_, option, fmt::format("'{}' is not a map", value.to_text()),
                    "a map with payload, attributes, priority, weight");
    MessageTemplate result{compile(""), common, default_priority, 1};
    for (const auto& [key, field] : value.as_map()) {
      if (key == "payload") {
        result.payload = compile(scalar_text(field));
      } else if (key == "attributes") {
        if (!field.is_map())
          reject_option(context_, option + ".attributes", fmt::format("'{}' is not a map", field.to_text()),
                        "a map of attribute names to values");
        for (const auto& [name, text] : field.as_map()) {
          std::erase_if(result.attributes, [&name = name](const auto& entry) { return entry.first == name; });
          result.attributes.emplace_back(name, compile(scalar_text(text)));
        }
      } else if (key == "priority") {
        result.priority = integer_of(context_, option + ".priority", field);
      } else if (key == "weight") {
        result.weight = number_of(field);
        if (!(result.weight > 0))
          reject_option(context_, option + ".weight", fmt::format("'{}' is not a positive number", field.to_text()),
                        "a number above 0");
      } else {
        reject_option(context_, option, fmt::format("unknown key '{}'", key), "payload, attributes, priority or weight");
      }
    }
    return result;
  }

  Message make(const MessageTemplate& chosen, const std::vector<std::string>& values) {
    Message message;
    message.priority = chosen.priority;
    // Attributes first, so the payload template can refer to them.
    for (const auto& [name, text] : chosen.attributes) message.attributes.set(name, text.render(message, values));
    message.payload = chosen.payload.render(message, values);
    if (size_min_ > 0) {
      std::size_t size = size_min_;
      if (size_max_ > size_min_) size = std::uniform_int_distribution<std::size_t>(size_min_, size_max_)(random_);
      message.payload.resize(size, '.');
    }
    return message;
  }

  StageContext context_;
  std::int64_t count_;
  double rate_;
  std::size_t size_min_;
  std::size_t size_max_;
  bool weighted_;
  std::mt19937_64 random_;
  std::vector<MessageTemplate> templates_;
  std::discrete_distribution<std::size_t> pick_;
};

}  // namespace
}  // namespace weir::stdp

WEIR_PLUGIN(generate, source, "generate",
            "Synthetic messages from templates (payload, attributes, priority): a count per replica, an optional "
            "rate, payload sizes; for demos and benchmarks",
            weir::stdp::Generate, weir::stdp::generate_options, weir::stdp::example_yaml)
