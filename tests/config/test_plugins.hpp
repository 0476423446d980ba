#pragma once
// In-process plugins for the config tests: the same descriptors and option
// tables a plugin library exports, so validation takes exactly the path it
// takes for real plugins, without depending on the built plugin libraries.

#include <weir/registry.hpp>

#include <span>
#include <vector>

namespace weir::test {

class IdleSource : public Source {
 public:
  IdleSource(const Options&, const StageContext&) {}
  void run(Emitter&, std::stop_token) override {}
};
class PassProcessor : public Processor {
 public:
  PassProcessor(const Options&, const StageContext&) {}
  void process(Message& message, Emitter& out) override { out.emit(std::move(message)); }
};
class NullSink : public Sink {
 public:
  NullSink(const Options&, const StageContext&) {}
  void write(const Message&) override {}
};

template <class T>
std::unique_ptr<Stage> make(const Options& options, const StageContext& context) {
  return std::make_unique<T>(options, context);
}

// A user's own plugin as the issue found it: its constructor refuses a value
// the schema cannot (`char` must be one byte), naming the option.
class Delimit : public Processor {
 public:
  static inline const Option<std::string> delimiter{
      .name = "char", .description = "the delimiter, one byte", .default_value = "','"};
  Delimit(const Options& options, const StageContext&) {
    if (const std::string c = options[delimiter]; c.size() != 1)
      reject_option(delimiter.name, "'" + c + "' must be exactly one byte", "one character such as ','");
  }
  void process(Message& message, Emitter& out) override { out.emit(std::move(message)); }
};

// A constructor that fails without naming an option: reported at the stage.
class Unready : public Sink {
 public:
  Unready(const Options&, const StageContext&) { throw std::runtime_error("no licence key in the environment"); }
  void write(const Message&) override {}
};

inline std::span<const OptionSpec> generate_options() {
  static const std::vector<OptionSpec> options{
      {.name = "count", .type = OptionType::integer, .description = "messages per replica",
       .default_value = "100", .min = 0, .example = "1000"},
      {.name = "interval", .type = OptionType::duration, .description = "pause between messages",
       .default_value = "0s", .max = 60},
      {.name = "kinds", .type = OptionType::list, .description = "kind attribute values",
       .default_value = "[email_send, image_resize]", .element = OptionType::string},
  };
  return options;
}
inline std::span<const OptionSpec> simulate_work_options() {
  static const std::vector<OptionSpec> options{
      {.name = "work", .type = OptionType::duration, .description = "time per message", .default_value = "10ms",
       .min = 0, .max = 60},
      {.name = "mode", .type = OptionType::enumeration, .description = "how to spend it", .default_value = "sleep",
       .allowed = {"sleep", "spin"}},
      {.name = "ratio", .type = OptionType::number, .description = "share of messages that work", .default_value = "1",
       .min = 0, .max = 1},
      {.name = "fail", .type = OptionType::boolean, .description = "fail every message", .default_value = "false"},
      {.name = "per_kind", .type = OptionType::map, .description = "work per kind attribute",
       .element = OptionType::duration},
      {.name = "retry_codes", .type = OptionType::list, .description = "codes to retry",
       .min = 100, .max = 599, .element = OptionType::integer},
  };
  return options;
}
inline std::span<const OptionSpec> file_sink_options() {
  static const std::vector<OptionSpec> options{
      {.name = "path", .type = OptionType::string, .description = "file to write", .required = true,
       .example = "out.jsonl"},
      {.name = "format", .type = OptionType::enumeration, .description = "line format", .default_value = "jsonl",
       .allowed = {"jsonl", "text"}},
  };
  return options;
}
inline std::span<const OptionSpec> file_source_options() {
  static const std::vector<OptionSpec> options{
      {.name = "path", .type = OptionType::string, .description = "file to read", .required = true},
  };
  return options;
}
inline std::span<const OptionSpec> no_options() { return {}; }

inline PluginDescriptor descriptor(const char* name, Kind kind, std::span<const OptionSpec> (*options)(),
                                   StageFactory create) {
  const auto specs = options();
  return PluginDescriptor{.name = name,
                          .kind = kind,
                          .description = "test plugin",
                          .options = OptionTable(std::vector<OptionSpec>(specs.begin(), specs.end())),
                          .example = "",
                          .create = create};
}

// generate (source), file (source and sink), simulate_work and tag
// (processors), stdout and null (sinks).
inline void register_test_plugins(PluginRegistry& registry) {
  static const PluginDescriptor descriptors[] = {
      descriptor("generate", Kind::source, &generate_options, &make<IdleSource>),
      descriptor("file", Kind::source, &file_source_options, &make<IdleSource>),
      descriptor("simulate_work", Kind::processor, &simulate_work_options, &make<PassProcessor>),
      descriptor("tag", Kind::processor, &no_options, &make<PassProcessor>),
      descriptor("file", Kind::sink, &file_sink_options, &make<NullSink>),
      descriptor("stdout", Kind::sink, &no_options, &make<NullSink>),
      descriptor("null", Kind::sink, &no_options, &make<NullSink>),
      {.name = "delimit", .kind = Kind::processor, .description = "test plugin", .options = {Delimit::delimiter},
       .example = "", .create = construct<Delimit>},
      descriptor("unready", Kind::sink, &no_options, &make<Unready>),
  };
  for (const PluginDescriptor& d : descriptors) registry.add(d);
}

inline PluginRegistry test_registry() {
  PluginRegistry registry;
  register_test_plugins(registry);
  return registry;
}

}  // namespace weir::test
