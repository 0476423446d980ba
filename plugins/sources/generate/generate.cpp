// generate: synthetic messages from templates, for demos and benchmarks.

#include <weir_std/option_checks.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>
#include <weir/template.hpp>

#include <optional>
#include <random>

namespace weir::weir_std {
namespace {

enum class Order { cycle, weighted };

const Option<std::int64_t> count{.name = "count",
                                 .description = "Messages each replica produces; 0 produces until the pipeline stops",
                                 .default_value = "100",
                                 .min = 0,
                                 .example = "1000"};
const Option<double> rate{
    .name = "rate",
    .description = "Messages per second per replica, evenly spaced; 0 is as fast as the pipeline takes them",
    .default_value = "0",
    .min = 0,
    .example = "200"};
const Option<Template> payload{
    .name = "payload",
    .description = "Payload template when no `templates` are given. Placeholders: {seq} (0.. per replica), "
                   "{replica}, {stage}, {attr:NAME} or {NAME} for an attribute, {priority}; {{ and }} are literal "
                   "braces",
    .default_value = "'message {seq} from replica {replica}'",
    .example = "'hello {seq}'"};
const Option<Named<Template>> attributes{
    .name = "attributes",
    .description =
        "Attributes every message gets (templates, like the payload); a template's own attributes override them",
    .default_value = "{}",
    .example = "{source: demo}"};
const Option<std::int64_t> priority{
    .name = "priority", .description = "Priority of messages whose template sets none", .default_value = "0"};
const Option<std::vector<Value::Map>> templates{
    .name = "templates",
    .description = "Message templates, each a map with `payload`, `attributes`, `priority` and `weight` (all "
                   "optional); taken in turn or by weight, see `order`",
    .default_value = "[]",
    .example = "[{payload: 'job {seq}', attributes: {kind: email_send}, priority: 0, weight: 2}]"};
const Option<Order> order{.name = "order",
                          .description = "`cycle` takes the templates in turn; `weighted` picks at random by `weight`",
                          .default_value = "cycle",
                          .choices = {{"cycle", Order::cycle}, {"weighted", Order::weighted}}};
const Option<Size> payload_size{
    .name = "payload_size",
    .description = "Pad (with '.') or cut every payload to this many bytes; 0 leaves it as rendered",
    .default_value = "0",
    .example = "1KiB"};
const Option<Size> payload_size_max{
    .name = "payload_size_max",
    .description = "With `payload_size`, sizes are drawn uniformly from payload_size..payload_size_max",
    .default_value = "0",
    .example = "4KiB"};
const Option<std::int64_t> seed{
    .name = "seed",
    .description = "Seed of the weighted choice and the sizes; each replica adds its index, so runs repeat",
    .default_value = "1"};

struct MessageTemplate {
  Template payload;
  std::vector<std::pair<std::string, Template>> attributes;
  std::int64_t priority = 0;
  double weight = 1;
  // Per attribute, its value when its template reads nothing (most do):
  // rendered once, copied into each message.
  std::vector<std::optional<std::string>> fixed{};
};

class Generate final : public Source {
 public:
  Generate(const Options& options, const StageContext& context)
      : context_(context),
        count_(options[count]),
        rate_(options[rate]),
        size_min_(static_cast<std::size_t>(options[payload_size].bytes)),
        size_max_(static_cast<std::size_t>(options[payload_size_max].bytes)),
        weighted_(options[order] == Order::weighted),
        random_(static_cast<std::uint64_t>(options[seed]) + context.replica) {
    if (size_max_ != 0 && size_max_ < size_min_)
      reject_option(payload_size_max.name, fmt::format("{} is below payload_size {}", size_max_, size_min_),
                    "0 or a size at least payload_size");
    std::vector<std::pair<std::string, Template>> common;
    for (const auto& [key, value] : options[attributes]) common.emplace_back(key, bind(value));
    const std::int64_t default_priority = options[priority];
    const std::vector<Value::Map> list = options[templates];
    if (list.empty()) templates_.push_back({bind(options[payload]), common, default_priority, 1});
    for (std::size_t i = 0; i < list.size(); ++i) templates_.push_back(read_template(list[i], i, common, default_priority));
    std::vector<double> weights;
    for (auto& t : templates_) {
      weights.push_back(t.weight);
      for (const auto& [name, text] : t.attributes)
        t.fixed.push_back(text.is_literal() ? std::optional(text.render(Message())) : std::nullopt);
    }
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
  static Template bind(const Template& text) { return text.bind({"seq", "replica", "stage"}); }

  // A template's own text, compiled with generate's variables; a mistake in
  // it is reported at `option` (templates[2].payload).
  static Template compile(const std::string& option, const Value& text) {
    try {
      return Template::compile(text.scalar_text(), {"seq", "replica", "stage"});
    } catch (const TemplateError& e) {
      reject_option(option, e.what(), TemplateError::hint, e.column());
    }
  }

  static MessageTemplate read_template(const Value::Map& fields, std::size_t index,
                                       const std::vector<std::pair<std::string, Template>>& common,
                                       std::int64_t default_priority) {
    const std::string option = fmt::format("templates[{}]", index);
    MessageTemplate result{Template(), common, default_priority, 1};
    for (const auto& [key, field] : fields) {
      const std::string where = option + "." + key;
      if (key == "payload") {
        result.payload = compile(where, field);
      } else if (key == "attributes") {
        if (!field.is_map())
          reject_option(where, fmt::format("'{}' is not a map", field.to_text()), "a map of attribute names to values");
        for (const auto& [name, text] : field.as_map()) {
          std::erase_if(result.attributes, [&name = name](const auto& entry) { return entry.first == name; });
          result.attributes.emplace_back(name, compile(where + "." + name, text));
        }
      } else if (key == "priority") {
        result.priority = integer_of(where, field);
      } else if (key == "weight") {
        result.weight = number_of(field);
        if (!(result.weight > 0))
          reject_option(where, fmt::format("'{}' is not a positive number", field.to_text()), "a number above 0");
      } else {
        reject_option(option, fmt::format("unknown key '{}'", key), "payload, attributes, priority or weight");
      }
    }
    return result;
  }

  Message make(const MessageTemplate& chosen, const std::vector<std::string>& values) {
    Message message;
    message.priority = chosen.priority;
    // One allocation for the attributes, with room for one that a later
    // stage sets (as `set` does), instead of growing 1, 2, 4.
    if (!chosen.attributes.empty()) message.attributes.reserve(chosen.attributes.size() + 1);
    // Attributes first, so the payload template can refer to them.
    for (std::size_t i = 0; i < chosen.attributes.size(); ++i) {
      const auto& [name, text] = chosen.attributes[i];
      message.attributes.set(name, chosen.fixed[i] ? *chosen.fixed[i] : text.render(message, values));
    }
    std::size_t size = size_min_;  // 0: the payload as rendered
    if (size_min_ > 0 && size_max_ > size_min_)
      size = std::uniform_int_distribution<std::size_t>(size_min_, size_max_)(random_);
    // Rendered into its final capacity: padding does not allocate again.
    std::string payload;
    payload.reserve(size);
    chosen.payload.render_to(payload, message, values);
    message.payload = std::move(payload);
    if (size > 0) message.payload.resize(size, '.');
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

WEIR_PLUGIN(generate) {
    .name = "generate",
    .kind = Kind::source,
    .description = "Synthetic messages from templates (payload, attributes, priority): a count per replica, an "
                   "optional rate, payload sizes; for demos and benchmarks",
    .options = {count, rate, payload, attributes, priority, templates, order, payload_size, payload_size_max, seed},
    .example = plugin_example,
    .create = construct<Generate>,
};

}  // namespace weir::weir_std
