#pragma once
// weir::PipelineBuilder: a pipeline made in code, or loaded from YAML and
// extended in code, for a host program (see host.hpp and docs/embedding.md).
//
//   weir::PipelineBuilder b("shout");
//   b.host_input("lines");
//   b.processor("upper", [](weir::Message& m, weir::Emitter& out) { ...; out.emit(std::move(m)); })
//       .input("lines").replicas(2);
//   b.plugin("print", "stdout").input("upper");
//   weir::HostPipeline pipeline(std::move(b));
//
// Stage settings are checked when the pipeline is built (HostPipeline's
// constructor or build()): every problem at once, as a ConfigError with the
// same diagnostics as `weir validate`.

#include <weir/config.hpp>
#include <weir/plugin.hpp>
#include <weir/registry.hpp>
#include <weir/spec.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace weir {

// The plugin names of the stages a host program feeds and reads. A YAML
// pipeline run by a HostPipeline may use them too:
//   requests: {plugin: host_input, capacity: 64}
//   results:  {plugin: host_output, input: work}
//   answers:  {plugin: host_reply, input: work}
inline constexpr std::string_view host_input_plugin = "host_input";
inline constexpr std::string_view host_output_plugin = "host_output";
inline constexpr std::string_view host_reply_plugin = "host_reply";

// Lambda stages. Each is called on the stage's replica threads, concurrently
// when replicas > 1, so what it captures must be safe to share.
using SourceFunction = std::function<void(Emitter&, std::stop_token)>;
using ProcessFunction = std::function<void(Message&, Emitter&)>;
using SinkFunction = std::function<void(const Message&)>;
// The same, given the replica's stop token (StageContext::stop): requested
// when the stop is forced, so long work can give up instead of holding
// HostPipeline::stop() for up to stop_grace.
using StoppableProcessFunction = std::function<void(Message&, Emitter&, std::stop_token)>;
using StoppableSinkFunction = std::function<void(const Message&, std::stop_token)>;

class PipelineBuilder;

// Settings of one stage, chained: b.processor(...).input("a").replicas(4).
// Valid while its builder lives; the setters mirror the YAML stage keys.
class StageBuilder {
 public:
  // Appends an input: `stage` or `stage.unmatched`.
  StageBuilder& input(std::string_view from);
  StageBuilder& replicas(unsigned count);
  // Replicas that size themselves, as `replicas: {min: 1, max: 8}` (or
  // weir::autoscale_auto, as `replicas: auto`).
  StageBuilder& replicas(Autoscale range);
  StageBuilder& capacity(std::size_t messages);
  // A condition (`when:`), parsed at build time.
  StageBuilder& when(std::string expression);
  StageBuilder& when_full(WhenFull policy);
  // Appends a priority lane, highest first; no `when` (the last lane) takes the rest.
  StageBuilder& lane(std::string name, std::string when = {}, std::size_t capacity = 0, unsigned weight = 1);
  StageBuilder& lane_policy(LanePolicy policy);
  StageBuilder& on_error(ErrorPolicy policy);
  // Only for a plugin whose name exists in several kinds (`file`).
  StageBuilder& kind(Kind kind);

  StageSpec& spec();
  const std::string& name() const;

 private:
  friend class PipelineBuilder;
  StageBuilder(PipelineBuilder& builder, std::size_t index) : builder_(&builder), index_(index) {}
  PipelineBuilder* builder_;
  std::size_t index_;
};

class PipelineBuilder {
 public:
  explicit PipelineBuilder(std::string name);
  // A YAML pipeline (validated like `weir validate`, throws ConfigError) to
  // run as it is or to extend: add stages that read from its stages.
  static PipelineBuilder from_file(const std::filesystem::path& file, const std::vector<Override>& overrides = {});
  static PipelineBuilder from_string(const std::string& yaml, const std::vector<Override>& overrides = {},
                                     const std::string& name = "<string>",
                                     const std::filesystem::path& base_dir = std::filesystem::current_path());
  ~PipelineBuilder();
  PipelineBuilder(PipelineBuilder&&) noexcept;
  PipelineBuilder& operator=(PipelineBuilder&&) noexcept;

  PipelineBuilder& description(std::string text);
  PipelineBuilder& drain_timeout(std::chrono::nanoseconds timeout);
  // How long a forced stop waits for replicas still in plugin code (default
  // 2 s) before it leaves them behind: the most HostPipeline::stop(deadline)
  // can take past its deadline.
  PipelineBuilder& stop_grace(std::chrono::nanoseconds grace);
  // Searched for plugins before $WEIR_PLUGIN_PATH and the built-in folder.
  PipelineBuilder& plugin_path(std::filesystem::path folder);

  // A plugin stage; `config` is the YAML of its `config:` map ("{count: 10}")
  // or typed options. Both are checked against the plugin's schema.
  StageBuilder plugin(std::string stage, std::string plugin, std::string config = {});
  StageBuilder plugin(std::string stage, std::string plugin, const Options& config);

  StageBuilder source(std::string stage, SourceFunction run);
  StageBuilder processor(std::string stage, ProcessFunction process);
  StageBuilder processor(std::string stage, StoppableProcessFunction process);
  StageBuilder sink(std::string stage, SinkFunction write);
  StageBuilder sink(std::string stage, StoppableSinkFunction write);
  // A user object deriving from Source, Processor or Sink, made once per replica.
  StageBuilder stage(std::string stage, Kind kind, StageMaker make);
  // The same with the kind taken from T; T is constructed from
  // (const StageContext&, args...) when it can be, else from (args...).
  template <class T, class... Args>
  StageBuilder stage(std::string name, Args... args) {
    static_assert(std::is_base_of_v<Source, T> || std::is_base_of_v<Processor, T> || std::is_base_of_v<Sink, T>,
                  "an object stage derives from weir::Source, weir::Processor or weir::Sink");
    constexpr Kind kind = std::is_base_of_v<Source, T>      ? Kind::source
                          : std::is_base_of_v<Processor, T> ? Kind::processor
                                                            : Kind::sink;
    return stage(std::move(name), kind, [args...](const StageContext& context) -> std::unique_ptr<Stage> {
      if constexpr (std::is_constructible_v<T, const StageContext&, const Args&...>)
        return std::make_unique<T>(context, args...);
      else
        return std::make_unique<T>(args...);
    });
  }

  // Stages the host program feeds (HostPipeline::input), reads
  // (HostPipeline::output) and gets replies from (InputHandle::request).
  StageBuilder host_input(std::string stage);
  StageBuilder host_output(std::string stage);
  StageBuilder host_reply(std::string stage);

  // A stage added earlier (or loaded from YAML), to change its settings.
  StageBuilder stage(std::string_view name);

  // Checks every stage (plugins and their options, conditions, the graph),
  // throwing ConfigError with every problem. HostPipeline calls it.
  const PipelineSpec& build();
  const PipelineSpec& spec() const noexcept;

 private:
  friend class StageBuilder;
  friend class HostPipeline;
  struct Impl;
  static PipelineBuilder from_yaml(const std::string& yaml, const std::vector<Override>& overrides,
                                   const std::string& name, const std::filesystem::path& base_dir,
                                   const std::filesystem::path* file);
  StageBuilder add(std::string stage, std::string plugin, Kind kind, StageMaker make);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir
