// PipelineBuilder: stages collected in code; plugins, options and conditions
// checked together at build() so a host program sees every problem at once.

#include "config/assembly.hpp"
#include "config/pipeline_loader.hpp"
#include "config/reporter.hpp"
#include "embed/builder_impl.hpp"
#include "embed/host_stages.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <type_traits>

namespace weir {

namespace fs = std::filesystem;

namespace {

Diagnostic problem(std::string message, std::string hint = {}) {
  return Diagnostic{{}, 0, 0, std::move(message), std::move(hint)};
}

YAML::Node to_yaml(const Value& value) {
  if (value.is_null()) return YAML::Node(YAML::NodeType::Null);
  if (value.is_bool()) return YAML::Node(value.as_bool());
  if (value.is_integer()) return YAML::Node(value.as_integer());
  if (value.is_number()) return YAML::Node(value.as_number());
  if (value.is_string()) return YAML::Node(value.as_string());
  if (value.is_duration()) return YAML::Node(format_duration(value.as_duration()));
  YAML::Node node;
  if (value.is_list()) {
    node = YAML::Node(YAML::NodeType::Sequence);
    for (const Value& item : value.as_list()) node.push_back(to_yaml(item));
  } else {
    node = YAML::Node(YAML::NodeType::Map);
    for (const auto& [key, item] : value.as_map()) node[key] = to_yaml(item);
  }
  return node;
}

}  // namespace

PipelineBuilder PipelineBuilder::from_yaml(const std::string& yaml, const std::vector<Override>& overrides,
                                           const std::string& name, const fs::path& base_dir, const fs::path* file) {
  PipelineBuilder builder(name);
  auto& impl = *builder.impl_;
  // The loader loads the pipeline's plugin folders as `weir run` does; the
  // host_* stages' plugins are added then, so that the loader accepts them.
  impl.spec = config::load_pipeline(file ? config::read_pipeline_file(*file) : yaml, *impl.registry, overrides, name,
                                    base_dir, {}, detail::add_host_plugins);
  impl.folders_loaded = true;
  // Later problems (found by build()) name the file or the YAML text too.
  impl.spec.file = file ? *file : fs::path(name);
  impl.pending_stages.assign(impl.spec.stages.size(), detail::PendingStage{});
  return builder;
}

// ---- StageBuilder ---------------------------------------------------------------

StageSpec& StageBuilder::spec() { return builder_->impl_->spec.stages[index_]; }
const std::string& StageBuilder::name() const { return builder_->impl_->spec.stages[index_].name; }

StageBuilder& StageBuilder::input(std::string_view from) {
  std::optional<config::InputProblem> wrong;
  spec().inputs.push_back(config::parse_input(from, name(), wrong));
  if (wrong) builder_->impl_->problems.push_back(problem(std::move(wrong->message), std::move(wrong->hint)));
  return *this;
}

StageBuilder& StageBuilder::replicas(unsigned count) {
  if (count == 0) builder_->impl_->problems.push_back(problem(fmt::format("stage '{}': replicas is 0", name()), "at least 1"));
  spec().replicas = count;
  return *this;
}

StageBuilder& StageBuilder::replicas(Autoscale range) {
  spec().autoscale = range;
  spec().replicas = range.min;  // the graph check says what is wrong with the range
  return *this;
}

StageBuilder& StageBuilder::capacity(std::size_t messages) {
  if (messages == 0) builder_->impl_->problems.push_back(problem(fmt::format("stage '{}': capacity is 0", name()), "at least 1"));
  spec().capacity = messages;
  return *this;
}

namespace {
std::optional<Condition> parse_condition(const std::string& expression, const std::string& what,
                                         std::vector<Diagnostic>& problems) {
  try {
    return Condition::parse(expression);
  } catch (const ConditionError& e) {
    problems.push_back(problem(fmt::format("{}: {} (column {} of '{}')", what, e.what(), e.column(), expression)));
    return std::nullopt;
  }
}
}  // namespace

StageBuilder& StageBuilder::when(std::string expression) {
  spec().when = parse_condition(expression, fmt::format("stage '{}': when", name()), builder_->impl_->problems);
  return *this;
}

StageBuilder& StageBuilder::when_full(WhenFull policy) {
  spec().when_full = policy;
  return *this;
}

StageBuilder& StageBuilder::lane(std::string lane_name, std::string when, std::size_t capacity, unsigned weight) {
  LaneSpec lane{std::move(lane_name), std::nullopt, capacity, weight};
  if (!when.empty())
    lane.when = parse_condition(when, fmt::format("stage '{}': lane '{}': when", name(), lane.name),
                                builder_->impl_->problems);
  spec().lanes.push_back(std::move(lane));
  return *this;
}

StageBuilder& StageBuilder::lane_policy(LanePolicy policy) {
  spec().lane_policy = policy;
  return *this;
}

StageBuilder& StageBuilder::on_error(ErrorPolicy policy) {
  spec().on_error = std::move(policy);
  return *this;
}

StageBuilder& StageBuilder::kind(Kind kind) {
  spec().kind = kind;
  builder_->impl_->pending_stages[index_].explicit_kind = true;
  return *this;
}

// ---- PipelineBuilder ------------------------------------------------------------

PipelineBuilder::PipelineBuilder(std::string name) : impl_(std::make_unique<Impl>()) {
  impl_->spec.name = std::move(name);
  impl_->registry = std::make_unique<PluginRegistry>();
}

PipelineBuilder::~PipelineBuilder() = default;
PipelineBuilder::PipelineBuilder(PipelineBuilder&&) noexcept = default;
PipelineBuilder& PipelineBuilder::operator=(PipelineBuilder&&) noexcept = default;

PipelineBuilder PipelineBuilder::from_file(const fs::path& file, const std::vector<Override>& overrides) {
  return from_yaml({}, overrides, file.string(), fs::absolute(file).parent_path(), &file);
}

PipelineBuilder PipelineBuilder::from_string(const std::string& yaml, const std::vector<Override>& overrides,
                                             const std::string& name, const fs::path& base_dir) {
  return from_yaml(yaml, overrides, name, base_dir, nullptr);
}

PipelineBuilder& PipelineBuilder::description(std::string text) {
  impl_->spec.description = std::move(text);
  return *this;
}

PipelineBuilder& PipelineBuilder::stop_grace(std::chrono::nanoseconds grace) {
  impl_->spec.stop_grace = grace;
  return *this;
}

PipelineBuilder& PipelineBuilder::drain_timeout(std::chrono::nanoseconds timeout) {
  impl_->spec.drain_timeout = timeout;
  return *this;
}

PipelineBuilder& PipelineBuilder::plugin_path(fs::path folder) {
  impl_->spec.plugin_path.push_back(fs::absolute(folder).lexically_normal());
  return *this;
}

StageBuilder PipelineBuilder::add(std::string stage, std::string plugin, Kind kind, StageMaker make) {
  if (impl_->spec.stage(stage))
    impl_->problems.push_back(problem(fmt::format("stage '{}' is added twice", stage), "give each stage its own name"));
  StageSpec spec;
  spec.name = std::move(stage);
  spec.plugin = std::move(plugin);
  spec.kind = kind;
  spec.factory = std::move(make);
  impl_->spec.stages.push_back(std::move(spec));
  impl_->pending_stages.emplace_back();
  return StageBuilder(*this, impl_->spec.stages.size() - 1);
}

StageBuilder PipelineBuilder::plugin(std::string stage, std::string plugin, std::string config) {
  auto added = add(std::move(stage), std::move(plugin), Kind::processor, nullptr);
  auto& pending = impl_->pending_stages.back();
  pending.plugin_stage = true;
  pending.config_yaml = std::move(config);
  return added;
}

StageBuilder PipelineBuilder::plugin(std::string stage, std::string plugin, const Options& config) {
  auto added = add(std::move(stage), std::move(plugin), Kind::processor, nullptr);
  auto& pending = impl_->pending_stages.back();
  pending.plugin_stage = true;
  pending.config_options = config;
  return added;
}

StageBuilder PipelineBuilder::source(std::string stage, SourceFunction run) {
  class LambdaSource final : public Source {
   public:
    explicit LambdaSource(SourceFunction f) : f_(std::move(f)) {}
    void run(Emitter& out, std::stop_token stop) override { f_(out, std::move(stop)); }

   private:
    SourceFunction f_;
  };
  return add(std::move(stage), "lambda", Kind::source,
             [run = std::move(run)](const StageContext&) { return std::make_unique<LambdaSource>(run); });
}

namespace {

// A lambda processor or sink: one class for both signatures, so a function
// that does not take the stop token costs no extra call.
template <class Function>
class LambdaProcessor final : public Processor {
 public:
  LambdaProcessor(Function f, std::stop_token stop) : f_(std::move(f)), stop_(std::move(stop)) {}
  void process(Message& message, Emitter& out) override {
    if constexpr (std::is_same_v<Function, StoppableProcessFunction>) f_(message, out, stop_);
    else f_(message, out);
  }

 private:
  Function f_;
  std::stop_token stop_;
};

template <class Function>
class LambdaSink final : public Sink {
 public:
  LambdaSink(Function f, std::stop_token stop) : f_(std::move(f)), stop_(std::move(stop)) {}
  void write(const Message& message) override {
    if constexpr (std::is_same_v<Function, StoppableSinkFunction>) f_(message, stop_);
    else f_(message);
  }

 private:
  Function f_;
  std::stop_token stop_;
};

template <template <class> class Lambda, class Function>
StageMaker lambda_maker(Function f) {
  return [f = std::move(f)](const StageContext& context) { return std::make_unique<Lambda<Function>>(f, context.stop); };
}

}  // namespace

StageBuilder PipelineBuilder::processor(std::string stage, ProcessFunction process) {
  return add(std::move(stage), "lambda", Kind::processor, lambda_maker<LambdaProcessor>(std::move(process)));
}

StageBuilder PipelineBuilder::processor(std::string stage, StoppableProcessFunction process) {
  return add(std::move(stage), "lambda", Kind::processor, lambda_maker<LambdaProcessor>(std::move(process)));
}

StageBuilder PipelineBuilder::sink(std::string stage, SinkFunction write) {
  return add(std::move(stage), "lambda", Kind::sink, lambda_maker<LambdaSink>(std::move(write)));
}

StageBuilder PipelineBuilder::sink(std::string stage, StoppableSinkFunction write) {
  return add(std::move(stage), "lambda", Kind::sink, lambda_maker<LambdaSink>(std::move(write)));
}

StageBuilder PipelineBuilder::stage(std::string stage, Kind kind, StageMaker make) {
  if (!make) impl_->problems.push_back(problem(fmt::format("stage '{}': its maker is empty", stage)));
  return add(std::move(stage), "object", kind, std::move(make));
}

// The factory is set when a HostPipeline binds the stage to its handle.
StageBuilder PipelineBuilder::host_input(std::string stage) {
  return add(std::move(stage), std::string(host_input_plugin), Kind::source, nullptr);
}
StageBuilder PipelineBuilder::host_output(std::string stage) {
  return add(std::move(stage), std::string(host_output_plugin), Kind::sink, nullptr);
}
StageBuilder PipelineBuilder::host_reply(std::string stage) {
  return add(std::move(stage), std::string(host_reply_plugin), Kind::sink, nullptr);
}

StageBuilder PipelineBuilder::stage(std::string_view name) {
  for (std::size_t i = 0; i < impl_->spec.stages.size(); ++i)
    if (impl_->spec.stages[i].name == name) return StageBuilder(*this, i);
  throw std::invalid_argument(fmt::format("pipeline '{}' has no stage '{}'", impl_->spec.name, name));
}

const PipelineSpec& PipelineBuilder::spec() const noexcept { return impl_->spec; }

// ---- build ---------------------------------------------------------------------

namespace {

}  // namespace

void PipelineBuilder::Impl::resolve_plugin(StageSpec& stage, const detail::PendingStage& pending,
                                           const config::StageReferences& references, std::vector<Diagnostic>& out) {
  if (!pending.explicit_kind) stage.kind = config::infer_kind(stage, references, *registry);
  const PluginEntry* entry = registry->find(stage.plugin, stage.kind);
  if (!entry) {
    out.push_back(problem(fmt::format("stage '{}': {}", stage.name, registry->not_found_message(stage.plugin, stage.kind))));
    return;
  }
  const std::string label = fmt::format("<stage '{}' config>", stage.name);
  config::Reporter reporter(label);
  YAML::Node config;
  if (pending.config_options) {
    config = YAML::Node(YAML::NodeType::Map);
    for (const auto& [key, value] : pending.config_options->values()) config[key] = to_yaml(value);
  } else if (pending.config_yaml && !pending.config_yaml->empty()) {
    try {
      config = YAML::Load(*pending.config_yaml);
    } catch (const YAML::ParserException& e) {
      out.push_back(Diagnostic{label, e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg, {}});
      return;
    }
  }
  config::configure_plugin_stage(stage, *entry, config, config::Place{label, {}}, config::Place{label, {}}, reporter);
  for (Diagnostic& d : reporter.take_sorted())
    (d.severity == Severity::warning ? spec.warnings : out).push_back(std::move(d));
}

const PipelineSpec& PipelineBuilder::build() {
  auto& impl = *impl_;
  std::vector<Diagnostic> problems = impl.problems;
  const bool uses_plugins = std::any_of(impl.pending_stages.begin(), impl.pending_stages.end(),
                                        [](const detail::PendingStage& d) { return d.plugin_stage; });
  if (uses_plugins && !impl.folders_loaded) {
    config::load_plugin_folders(*impl.registry, impl.spec.plugin_path);
    impl.folders_loaded = true;
  }
  config::StageReferences references;
  for (const StageSpec& stage : impl.spec.stages) references.add(stage);
  for (std::size_t i = 0; i < impl.spec.stages.size(); ++i)
    if (impl.pending_stages[i].plugin_stage) impl.resolve_plugin(impl.spec.stages[i], impl.pending_stages[i], references, problems);
  for (const StageSpec& stage : impl.spec.stages)
    if (stage.plugin == host_input_plugin && !stage.factory && stage.replicas != 1)
      problems.push_back(Diagnostic{impl.spec.file.string(), stage.position.line, stage.position.column,
                                    fmt::format("stage '{}': a host_input stage runs one replica, not {}", stage.name,
                                                stage.replicas),
                                    "the host's own threads are its producers; leave replicas out"});
  try {
    validate_graph(impl.spec);
  } catch (const ConfigError& e) {
    for (const Diagnostic& d : e.diagnostics()) problems.push_back(d);
  }
  // The YAML loader's warnings too. A pipeline loaded from YAML brings its
  // own (with better positions), and build() may run more than once: each
  // warning once.
  std::vector<Diagnostic> warnings;
  const auto add = [&warnings](Diagnostic d) {
    if (std::none_of(warnings.begin(), warnings.end(), [&](const Diagnostic& w) { return w.message == d.message; }))
      warnings.push_back(std::move(d));
  };
  for (Diagnostic& d : impl.spec.warnings) add(std::move(d));
  for (Diagnostic& d : pipeline_warnings(impl.spec)) add(std::move(d));
  if (!problems.empty()) {
    problems.insert(problems.end(), warnings.begin(), warnings.end());
    throw ConfigError(std::move(problems));
  }
  impl.spec.warnings = std::move(warnings);
  return impl.spec;
}

}  // namespace weir
