#pragma once
// The plugin SDK: the three stage interfaces, the errors they throw, and the
// WEIR_PLUGIN macro that exports them from a shared library.

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
};

// Where a stage puts what it produces. `emit` blocks while the downstream
// channel is full (backpressure) and returns false once the pipeline is being
// forced to stop; a source should then return from run().
class BOOST_SYMBOL_VISIBLE Emitter {
 public:
  virtual ~Emitter() = default;
  virtual bool emit(Message message) = 0;
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
inline constexpr std::uint32_t sdk_abi_version = 2;
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

// What a library exports per plugin. The handshake fields come first and are
// plain data, so the loader reads them before it calls anything.
struct PluginDescriptor {
  std::uint32_t magic;
  std::uint32_t abi_version;
  const char* compiler;
  int stdlib_abi;
  const char* weir_version;
  // Valid only once the handshake matched:
  const char* name;
  Kind kind;
  const char* description;
  std::span<const OptionSpec> (*options)();
  const char* example;  // YAML of an example stage
  StageFactory create;
};

}  // namespace weir

// WEIR_PLUGIN(id, kind, "name", "description", Class, options_fn, "example yaml")
// exports one plugin. `Class` is constructed as Class(const weir::Options&,
// const weir::StageContext&); `options_fn` returns std::span<const weir::OptionSpec>.
// `id` is a C identifier unique within the library. A library may use the macro
// any number of times.
#define WEIR_PLUGIN(id, plugin_kind, plugin_name, plugin_description, Class, options_fn, example_yaml) \
  namespace weir_plugin_detail_##id {                                                              \
    static std::unique_ptr<::weir::Stage> create(const ::weir::Options& options,                  \
                                                 const ::weir::StageContext& context) {           \
      return std::make_unique<Class>(options, context);                                            \
    }                                                                                              \
    static std::span<const ::weir::OptionSpec> options() { return options_fn(); }                \
    static const ::weir::PluginDescriptor descriptor{                                              \
        ::weir::plugin_magic,    ::weir::sdk_abi_version,  ::weir::detail::compiler_id,            \
        ::weir::detail::stdlib_abi, WEIR_VERSION_STRING, plugin_name,                              \
        ::weir::Kind::plugin_kind, plugin_description,  &options,                                   \
        example_yaml,            &create};                                                         \
  }                                                                                                \
  BOOST_DLL_ALIAS(weir_plugin_detail_##id::descriptor, weir_plugin_##id)
