#pragma once
// The plugin SDK: the three stage interfaces, the errors they throw, and the
// descriptor (WEIR_PLUGIN) that exports them from a shared library.

#include <weir/message.hpp>
#include <weir/options.hpp>
#include <weir/version.hpp>

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>

namespace spdlog {
class logger;
}

namespace weir {

enum class Kind { source, processor, sink };
std::string_view to_string(Kind kind) noexcept;

// The SDK's classes are visible from plugins built with hidden visibility, so
// their type information is one across the boundary (catch, dynamic_cast).

// Errors a stage throws from any hook. The stage's `on_error` policy retries
// a RetryableError; a PermanentError (or any other exception) goes straight to
// the dead-letter stage or is counted as failed.
class BOOST_SYMBOL_VISIBLE StageError : public std::runtime_error {
 public:
  StageError(const std::string& what, bool retryable) : std::runtime_error(what), retryable_(retryable) {}
  bool retryable() const noexcept { return retryable_; }

 private:
  bool retryable_;
};
class BOOST_SYMBOL_VISIBLE RetryableError : public StageError {
 public:
  explicit RetryableError(const std::string& what) : StageError(what, true) {}
};
class BOOST_SYMBOL_VISIBLE PermanentError : public StageError {
 public:
  explicit PermanentError(const std::string& what) : StageError(what, false) {}
};

// What a stage instance knows about its place in the pipeline.
struct StageContext {
  std::string stage;                      // the stage's name in the YAML
  std::string plugin;                     // the plugin's name
  unsigned replica = 0;                   // 0 .. replicas-1
  unsigned replicas = 1;
  std::shared_ptr<spdlog::logger> logger; // named after the stage
  // Requested when the stop is forced (a second SIGINT, drain_timeout or a
  // host's stop deadline running out): work that takes long (a slow call, a
  // wait) should check it, or wait on it (std::stop_callback,
  // std::condition_variable_any), and give up. For a source it is also the
  // token run() gets. Never requested while constructing (`weir validate`).
  std::stop_token stop;
};

// Where a stage puts what it produces. `emit` blocks while the downstream
// channel is full (backpressure) and returns false once the pipeline is being
// forced to stop; a source should then return from run().
class BOOST_SYMBOL_VISIBLE Emitter {
 public:
  virtual ~Emitter() = default;
  virtual bool emit(Message message) = 0;
  // A source tells the runtime about messages lost before it could emit
  // them (a UDP source whose receive buffer overflowed while the pipeline
  // was full): they are the source stage's `dropped` in the run report.
  // Processors and sinks have no use for it; other emitters ignore it.
  virtual void count_dropped(std::uint64_t /*messages*/) noexcept {}
};

// Lifecycle, for every kind: constructed from validated options, start(),
// the kind's work, flush(), stop(). Every hook may throw.
class BOOST_SYMBOL_VISIBLE Stage {
 public:
  virtual ~Stage() = default;
  virtual void start() {}
  virtual void flush() {}
  virtual void stop() {}
};

class BOOST_SYMBOL_VISIBLE Source : public Stage {
 public:
  // Produce messages until exhausted (return) or until `stop` is requested.
  virtual void run(Emitter& out, std::stop_token stop) = 0;
};

class BOOST_SYMBOL_VISIBLE Processor : public Stage {
 public:
  // Emit 0..n messages for one input. Emitting none counts the input as filtered.
  virtual void process(Message& message, Emitter& out) = 0;
};

class BOOST_SYMBOL_VISIBLE Sink : public Stage {
 public:
  virtual void write(const Message& message) = 0;
  // Sinks that gain from batching override this. When it throws, the runtime
  // writes the batch again one message at a time, so each failure is
  // attributed to its own message (at-least-once: earlier ones may repeat).
  virtual void write_batch(std::span<const Message> batch) {
    for (const Message& m : batch) write(m);
  }
};

// ---- Export -----------------------------------------------------------------

// Bumped whenever a header in the SDK changes layout or virtual tables.
// 2: messages carry an acknowledgement (issue 13).
// 3: the descriptor holds an OptionTable (typed option handles) and a
//    construct<Class> factory; OptionError; option kinds size, path,
//    condition, regex, template.
// 4: StageContext carries the replica's stop token.
// 5: Emitter::count_dropped (a source's losses before emit, in the report).
inline constexpr std::uint32_t sdk_abi_version = 5;
inline constexpr std::uint32_t plugin_magic = 0x57454952;  // "WEIR"

namespace detail {
#if defined(__clang__)
inline constexpr const char* compiler_id = "clang " __clang_version__;
#elif defined(__GNUC__)
#define WEIR_DETAIL_STR2(x) #x
#define WEIR_DETAIL_STR(x) WEIR_DETAIL_STR2(x)
inline constexpr const char* compiler_id =
    "gcc " WEIR_DETAIL_STR(__GNUC__) "." WEIR_DETAIL_STR(__GNUC_MINOR__);
#else
inline constexpr const char* compiler_id = "unknown";
#endif
#if defined(_GLIBCXX_USE_CXX11_ABI)
inline constexpr int stdlib_abi = 1000 + _GLIBCXX_USE_CXX11_ABI;
#elif defined(_LIBCPP_VERSION)
inline constexpr int stdlib_abi = 2000;
#else
inline constexpr int stdlib_abi = 0;
#endif
}  // namespace detail

using StageFactory = std::unique_ptr<Stage> (*)(const Options&, const StageContext&);

// The factory of a stage class: `.create = weir::construct<MyStage>`.
// Constructors check and prepare but open nothing (files, sockets and
// connections wait for start()): `weir validate` constructs every stage.
template <class StageClass>
std::unique_ptr<Stage> construct(const Options& options, const StageContext& context) {
  static_assert(std::is_base_of_v<Source, StageClass> || std::is_base_of_v<Processor, StageClass> ||
                    std::is_base_of_v<Sink, StageClass>,
                "a stage class derives from weir::Source, weir::Processor or weir::Sink");
  static_assert(std::is_constructible_v<StageClass, const Options&, const StageContext&>,
                "a stage class is constructed as Class(const weir::Options&, const weir::StageContext&)");
  return std::make_unique<StageClass>(options, context);
}

// What a library exports per plugin, written with designated initializers:
//
//   WEIR_PLUGIN(filter) {
//       .name = "filter",
//       .kind = weir::Kind::processor,
//       .description = "Keeps the messages that match a condition",
//       .options = {when, action},
//       .example = weir::plugin_example,
//       .create = weir::construct<Filter>,
//   };
//
// The handshake fields come first and are plain data, so the loader reads
// them before it calls anything; their defaults are this SDK's.
struct PluginDescriptor {
  std::uint32_t magic = plugin_magic;
  std::uint32_t abi_version = sdk_abi_version;
  const char* compiler = detail::compiler_id;
  int stdlib_abi = detail::stdlib_abi;
  const char* weir_version = WEIR_VERSION_STRING;
  // Valid only once the handshake matched:
  const char* name = nullptr;
  Kind kind = Kind::processor;
  const char* description = nullptr;
  OptionTable options{};
  const char* example = nullptr;  // YAML of an example stage
  StageFactory create = nullptr;
};

// The plugin folder's example.yaml as text, when the plugin is built with
// weir_add_plugin(NAME ... EXAMPLE example.yaml), which defines it; the same
// file `weir plugins NAME` shows and the docs print.
extern const char plugin_example[];

}  // namespace weir

// WEIR_PLUGIN(id) { .name = ..., ... }; exports one plugin (see
// PluginDescriptor). `id` is a C identifier unique within the library; a
// library may export any number of plugins.
#define WEIR_PLUGIN(id)                                                      \
  extern const ::weir::PluginDescriptor weir_plugin_descriptor_##id;         \
  BOOST_DLL_ALIAS(weir_plugin_descriptor_##id, weir_plugin_##id)             \
  const ::weir::PluginDescriptor weir_plugin_descriptor_##id
