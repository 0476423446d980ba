// `weir new-plugin NAME --kind source|processor|sink [--dir DIR]`: writes an
// out-of-tree plugin project that builds against the installed weir with
// find_package(weir) and runs, as written, in its own test pipeline.

#include "command.hpp"
#include "plugin_text.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <regex>

namespace weir::cli {

namespace {

namespace fs = std::filesystem;

struct NewPluginArguments {
  std::string name;
  std::string kind;
  std::string dir;
};

// Templates use @NAME@, @CLASS@ and @KIND@; C++ and YAML braces stay as
// they are, which fmt-style placeholders would not allow.
std::string fill(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    const std::string placeholder = "@" + key + "@";
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size()))
      text.replace(at, placeholder.size(), value);
  }
  return text;
}

std::string class_name(const std::string& name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

constexpr const char* cmake_template = R"weir(cmake_minimum_required(VERSION 3.25)
project(@NAME@ LANGUAGES CXX)

# weir's package: the SDK headers, weir::framework and weir_add_plugin.
# Installed outside the default prefixes:
#   cmake -B build -DCMAKE_PREFIX_PATH=/where/weir/is/installed
# A weir checkout's build tree, nothing installed:
#   cmake -B build -Dweir_DIR=/path/to/weir/build/release
find_package(weir REQUIRED)

# Builds build/plugins/libweir_@KIND@_@NAME@.so (hidden visibility, linked to
# the SDK); pipeline.yaml finds it through its plugin_path. Named KIND_NAME
# after the one plugin it holds, weir opens it only for a pipeline that uses
# @NAME@. example.yaml becomes the plugin's documented example stage
# (weir::plugin_example).
weir_add_plugin(@KIND@_@NAME@ SOURCES src/@NAME@.cpp EXAMPLE example.yaml)
)weir";

constexpr const char* processor_source = R"weir(// @NAME@: upper-cases each payload and appends a suffix.

#include <weir/plugin.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <vector>

namespace {

// Each option is declared once, as a typed handle: weir validates the YAML
// against it, `weir plugins @NAME@` shows it, and the stage reads its value
// through it (options[suffix] is a std::string).
const weir::Option<std::string> suffix{.name = "suffix",
                                       .description = "Text appended to every payload after upper-casing",
                                       .default_value = "''",
                                       .example = "'!'"};

class @CLASS@ final : public weir::Processor {
 public:
  // Check and prepare here, but open nothing: `weir validate` constructs
  // every stage. Files and connections belong in start().
  @CLASS@(const weir::Options& options, const weir::StageContext& context)
      : suffix_(options[suffix]), logger_(context.logger) {
    if (suffix_.size() > 64) weir::reject_option(suffix.name, "is longer than 64 bytes", "a short suffix such as '!'");
  }

  void process(weir::Message& message, weir::Emitter& out) override {
    std::transform(message.payload.begin(), message.payload.end(), message.payload.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    message.payload += suffix_;
    ++processed_;
    out.emit(std::move(message));
  }

  void stop() override {
    if (logger_) logger_->info("upper-cased {} messages", processed_);
  }

 private:
  std::string suffix_;
  std::shared_ptr<spdlog::logger> logger_;
  std::uint64_t processed_ = 0;
};

}  // namespace

WEIR_PLUGIN(@NAME@) {
    .name = "@NAME@",
    .kind = weir::Kind::processor,
    .description = "Upper-cases each payload and appends a suffix",
    .options = {suffix},
    .example = weir::plugin_example,
    .create = weir::construct<@CLASS@>,
};
)weir";

constexpr const char* source_source = R"weir(// @NAME@: produces `count` numbered greetings per replica.

#include <weir/plugin.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <vector>

namespace {

// Each option is declared once, as a typed handle: weir validates the YAML
// against it, `weir plugins @NAME@` shows it, and the stage reads its value
// through it (options[count] is a std::int64_t).
const weir::Option<std::int64_t> count{
    .name = "count", .description = "Messages each replica produces", .default_value = "5", .min = 0, .example = "100"};
const weir::Option<std::string> greeting{.name = "greeting",
                                         .description = "Text of every message, before its number",
                                         .default_value = "hello",
                                         .example = "hi"};

class @CLASS@ final : public weir::Source {
 public:
  // Check and prepare here, but open nothing: `weir validate` constructs
  // every stage. Files and connections belong in start().
  @CLASS@(const weir::Options& options, const weir::StageContext& context)
      : count_(options[count]), greeting_(options[greeting]), replica_(context.replica) {}

  // Runs until `count` messages are out, a stop is requested, or the pipeline
  // refuses more (emit returns false when it is being forced to stop).
  void run(weir::Emitter& out, std::stop_token stop) override {
    for (std::int64_t i = 0; i < count_ && !stop.stop_requested(); ++i) {
      weir::Message message(fmt::format("{} {}", greeting_, i));
      message.attributes.set("replica", std::to_string(replica_));
      if (!out.emit(std::move(message))) return;
    }
  }

 private:
  std::int64_t count_;
  std::string greeting_;
  unsigned replica_;
};

}  // namespace

WEIR_PLUGIN(@NAME@) {
    .name = "@NAME@",
    .kind = weir::Kind::source,
    .description = "Produces numbered greetings",
    .options = {count, greeting},
    .example = weir::plugin_example,
    .create = weir::construct<@CLASS@>,
};
)weir";

constexpr const char* sink_source = R"weir(// @NAME@: prints each payload on standard output behind a prefix.

#include <weir/plugin.hpp>

#include <iostream>
#include <mutex>
#include <vector>

namespace {

// Each option is declared once, as a typed handle: weir validates the YAML
// against it, `weir plugins @NAME@` shows it, and the stage reads its value
// through it (options[prefix] is a std::string).
const weir::Option<std::string> prefix{
    .name = "prefix", .description = "Printed before every payload", .default_value = "'@NAME@: '", .example = "'> '"};

// Replicas of a sink run in parallel; one lock keeps their lines whole.
std::mutex output_lock;

class @CLASS@ final : public weir::Sink {
 public:
  @CLASS@(const weir::Options& options, const weir::StageContext&) : prefix_(options[prefix]) {}

  void write(const weir::Message& message) override { write_batch({&message, 1}); }

  // The runtime hands over batches when they are waiting: one lock and one
  // flush per batch instead of per message.
  void write_batch(std::span<const weir::Message> batch) override {
    std::lock_guard lock(output_lock);
    for (const weir::Message& message : batch) std::cout << prefix_ << message.payload << '\n';
    std::cout.flush();
    if (!std::cout) throw weir::RetryableError("standard output refused the write");
  }

 private:
  std::string prefix_;
};

}  // namespace

WEIR_PLUGIN(@NAME@) {
    .name = "@NAME@",
    .kind = weir::Kind::sink,
    .description = "Prints payloads behind a prefix",
    .options = {prefix},
    .example = weir::plugin_example,
    .create = weir::construct<@CLASS@>,
};
)weir";

constexpr const char* processor_pipeline = R"weir(# Runs @NAME@ between a generator and standard output:
#   weir run pipeline.yaml
pipeline: @NAME@-demo
description: Five messages through the @NAME@ processor
plugin_path: [build/plugins]   # relative to this file: where `cmake --build build` puts the plugin
stages:
  input:
    plugin: generate
    config: {count: 5, payload: 'hello {seq}'}
  @NAME@:
    plugin: @NAME@
    input: input
    config: {suffix: '!'}
  output:
    plugin: stdout
    input: @NAME@
)weir";

constexpr const char* source_pipeline = R"weir(# Prints what the @NAME@ source produces:
#   weir run pipeline.yaml
pipeline: @NAME@-demo
description: The @NAME@ source, printed
plugin_path: [build/plugins]   # relative to this file: where `cmake --build build` puts the plugin
stages:
  @NAME@:
    plugin: @NAME@
    config: {count: 5, greeting: hello}
  output:
    plugin: stdout
    input: @NAME@
)weir";

constexpr const char* sink_pipeline = R"weir(# Feeds five generated messages to the @NAME@ sink:
#   weir run pipeline.yaml
pipeline: @NAME@-demo
description: Five messages into the @NAME@ sink
plugin_path: [build/plugins]   # relative to this file: where `cmake --build build` puts the plugin
stages:
  input:
    plugin: generate
    config: {count: 5, payload: 'hello {seq}'}
  @NAME@:
    plugin: @NAME@
    input: input
)weir";

// The example stage `weir plugins NAME` shows (embedded by weir_add_plugin's EXAMPLE).
constexpr const char* processor_example = R"weir(@NAME@:
  plugin: @NAME@
  input: upstream
  config: {suffix: '!'}
)weir";

constexpr const char* source_example = R"weir(@NAME@:
  plugin: @NAME@
  config: {count: 10, greeting: hi}
)weir";

constexpr const char* sink_example = R"weir(@NAME@:
  plugin: @NAME@
  input: upstream
  config: {prefix: '> '}
)weir";

constexpr const char* readme_template = R"weir(# @NAME@: a weir @KIND@ plugin

Written by `weir new-plugin`. It builds against an installed weir, or a weir
checkout's build tree, and runs as is.

## Build

```sh
cmake -B build -DCMAKE_BUILD_TYPE=Release   # add -DCMAKE_PREFIX_PATH=<weir prefix> if weir is not in /usr/local
cmake --build build
```

Against a checkout of weir built with `tools/weir` (nothing installed), name
its build tree instead: `cmake -B build -Dweir_DIR=<weir>/build/release`.

This writes `build/plugins/libweir_@KIND@_@NAME@.so`. Build it with the same compiler
as weir (the loader refuses a library built for another SDK ABI, compiler or
standard library, and says which).

## Look at it and run it

```sh
weir plugins --plugin-path build/plugins @NAME@   # its options and example stage
weir run pipeline.yaml                            # pipeline.yaml names build/plugins in plugin_path
```

Other pipelines find the plugin through their own `plugin_path` (relative to
the YAML file), through `WEIR_PLUGIN_PATH`, or after `cmake --install build`
in `<prefix>/lib/weir/plugins`.

## Where to go from here

- `src/@NAME@.cpp`: the stage, its options (one typed `weir::Option` handle
  each, read as `options[handle]`) and its descriptor (`WEIR_PLUGIN`). Add
  options there; weir validates pipelines against them and `weir plugins
  @NAME@` shows them. A value the constructor cannot work with is refused
  with `weir::reject_option(handle.name, why, hint)`, which `weir validate`
  reports at the option's line.
- `example.yaml`: the example stage `weir plugins @NAME@` shows.
- Throw `weir::RetryableError` for failures worth retrying and
  `weir::PermanentError` for the rest; the stage's `on_error` decides.
- weir's docs/plugins.md covers the interfaces, errors, logging, testing and
  the ABI rules.
)weir";

int new_plugin(const NewPluginArguments& args) {
  static const std::regex valid_name("[a-z][a-z0-9_]*");
  if (!std::regex_match(args.name, valid_name)) {
    std::cerr << fmt::format(
        "error: '{}' cannot be a plugin name: use lower-case letters, digits and '_', starting with a letter "
        "(it names the stage in YAML, the CMake target and C++ identifiers)\n",
        args.name);
    return exit_bad_input;
  }
  const fs::path dir = args.dir.empty() ? fs::path(args.name) : fs::path(args.dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec))) {
    std::cerr << fmt::format("error: {} already exists and is not an empty folder; choose another with --dir\n",
                             dir.string());
    return exit_bad_input;
  }

  const std::map<std::string, std::string> values{
      {"NAME", args.name}, {"CLASS", class_name(args.name)}, {"KIND", args.kind}};
  const char* source = args.kind == "source" ? source_source : args.kind == "sink" ? sink_source : processor_source;
  const char* pipeline =
      args.kind == "source" ? source_pipeline : args.kind == "sink" ? sink_pipeline : processor_pipeline;
  const char* example =
      args.kind == "source" ? source_example : args.kind == "sink" ? sink_example : processor_example;
  write_text_file(dir / "CMakeLists.txt", fill(cmake_template, values));
  write_text_file(dir / "src" / (args.name + ".cpp"), fill(source, values));
  write_text_file(dir / "pipeline.yaml", fill(pipeline, values));
  write_text_file(dir / "example.yaml", fill(example, values));
  write_text_file(dir / "README.md", fill(readme_template, values));

  std::cout << fmt::format(
      "wrote a {} plugin project to {}\n"
      "next:\n"
      "  cd {}\n"
      "  cmake -B build && cmake --build build\n"
      "  weir plugins --plugin-path build/plugins {}\n"
      "  weir run pipeline.yaml\n",
      args.kind, dir.string(), dir.string(), args.name);
  return exit_ok;
}

std::pair<CLI::App*, Runner> setup_new_plugin(CLI::App& app) {
  auto args = std::make_shared<NewPluginArguments>();
  CLI::App* command = app.add_subcommand("new-plugin", "Write a ready out-of-tree plugin project");
  command->add_option("NAME", args->name, "The plugin's name (lower-case letters, digits, '_')")->required();
  command->add_option("--kind", args->kind, "What the example stage is")
      ->required()
      ->check(CLI::IsMember({"source", "processor", "sink"}));
  command->add_option("--dir", args->dir, "The project folder to create (default: ./NAME)");
  return {command, [args]() { return new_plugin(*args); }};
}

const Registrar registrar{50, &setup_new_plugin};

}  // namespace

}  // namespace weir::cli
