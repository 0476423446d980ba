#pragma once
// The plugins a pipeline can use: found in plugin folders and loaded with
// Boost.DLL, or registered in-process by a host program.

#include <weir/diagnostics.hpp>
#include <weir/plugin.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::dll {
class shared_library;
}

namespace weir {

// A stage object together with what keeps its code loaded. Members are
// destroyed in reverse order: the stage first, then the library reference.
struct StageInstance {
  std::shared_ptr<boost::dll::shared_library> library;  // null for in-process plugins
  std::unique_ptr<Stage> stage;

  StageInstance() = default;
  StageInstance(StageInstance&&) noexcept = default;
  StageInstance& operator=(StageInstance&& other) noexcept {
    stage.reset();  // the old stage goes before the library it came from
    stage = std::move(other.stage);
    library = std::move(other.library);
    return *this;
  }
  ~StageInstance() { stage.reset(); }
};

// One plugin the registry knows.
class PluginEntry {
 public:
  PluginEntry(const PluginDescriptor& descriptor, std::filesystem::path library_file,
              std::shared_ptr<boost::dll::shared_library> library);

  std::string_view name() const noexcept { return descriptor_->name; }
  Kind kind() const noexcept { return descriptor_->kind; }
  std::string_view description() const noexcept { return descriptor_->description; }
  std::span<const OptionSpec> options() const noexcept { return descriptor_->options.specs(); }
  std::string_view example() const noexcept { return descriptor_->example ? descriptor_->example : ""; }
  // The library file, or "(built in)" style text for in-process plugins.
  const std::filesystem::path& library_file() const noexcept { return library_file_; }
  const PluginDescriptor& descriptor() const noexcept { return *descriptor_; }

  // Constructs a stage. An OptionError from the plugin's constructor passes
  // through (the caller knows where the option is); anything else is
  // rethrown as PluginError naming the plugin and the library, as is a stage
  // of another kind than the plugin declares.
  StageInstance create(const Options& options, const StageContext& context) const;

 private:
  const PluginDescriptor* descriptor_;
  std::filesystem::path library_file_;
  std::shared_ptr<boost::dll::shared_library> library_;
};

// A plugin that could not be loaded or constructed; what() names the file and
// the reason. The command line maps it to exit code 2.
class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What is wrong with a descriptor's option table (two options of one name,
// an enum without choices, min above max), naming the plugin and the
// option; nullopt when nothing is. The loader refuses such a library.
std::optional<std::string> option_table_problem(const PluginDescriptor& descriptor);

// Whether `stage` is an instance of `kind`'s interface.
bool is_kind(const Stage& stage, Kind kind) noexcept;

class PluginRegistry {
 public:
  PluginRegistry();
  ~PluginRegistry();
  PluginRegistry(PluginRegistry&&) noexcept;
  PluginRegistry& operator=(PluginRegistry&&) noexcept;

  // The default search folders after a pipeline's own plugin_path: each folder
  // of $WEIR_PLUGIN_PATH (colon-separated), then the built-in plugins folder
  // beside the running binary (../lib/weir/plugins) if there is one, else the
  // one in the install prefix.
  static std::vector<std::filesystem::path> default_search_path();

  // Loads every weir plugin library (*.so) in `folders` (in order, serially;
  // within a folder in file-name order). A plugin in an earlier folder shadows
  // one of the same kind and name in a later folder, including folders loaded
  // by an earlier call; two in one folder are a problem. Folders already
  // searched are skipped. Problems are collected, not thrown: see problems().
  //
  // A library named after the one plugin it holds, libweir_KIND_NAME.so (as
  // weir_add_plugin names the libraries it builds), is opened only when a
  // lookup asks for NAME (find, find_all, require) or lists every plugin
  // (all, names, not_found_message): a pipeline maps the libraries of the
  // plugins it uses, not every library in the folder with what they link
  // (librdkafka, OpenSSL, ...). The registry answers as if every library had
  // been loaded; problems() holds those of the libraries opened so far.
  // So a lookup may load a library: a registry is used by one thread at a
  // time (each pipeline, and each reload of `weir run`, has its own).
  void load_folders(const std::vector<std::filesystem::path>& folders);
  // Loads one library file; throws PluginError on any problem.
  void load_library(const std::filesystem::path& file);
  // A plugin defined in the host program (embedding); no library involved.
  void add(const PluginDescriptor& descriptor);

  const PluginEntry* find(std::string_view name, Kind kind) const noexcept;
  // Like find, but a missing plugin is a PluginError that names the folders
  // searched, a close name (did you mean …) and the libraries that failed.
  const PluginEntry& require(std::string_view name, Kind kind) const;
  // The text of that error; without a kind, for a name of any kind.
  std::string not_found_message(std::string_view name, std::optional<Kind> kind = std::nullopt) const;
  // Every plugin with this name, whatever its kind (`file` is source and sink).
  std::vector<const PluginEntry*> find_all(std::string_view name) const;
  std::vector<const PluginEntry*> all() const;
  // Whether any plugin is registered or found, without opening a library.
  bool has_plugins() const noexcept { return !entries_.empty() || !deferred_.empty(); }
  std::vector<std::string> names(std::optional<Kind> kind = std::nullopt) const;

  const std::vector<std::filesystem::path>& searched() const noexcept { return searched_; }
  // Libraries that failed to load, each naming the file and the reason.
  const std::vector<Diagnostic>& problems() const noexcept { return problems_; }

 private:
  // `folder`: the search folder being loaded, which decides whether a name
  // clash is shadowing (an earlier folder wins) or an error; null for a
  // library loaded on its own.
  void load(const std::filesystem::path& file, const std::filesystem::path* folder);
  // Loads the deferred libraries named for `name`, or all of them; in the
  // order load_folders found them. Logically const: see load_folders.
  void open_deferred(std::optional<std::string_view> name) const;
  // load(), a failure recorded in problems_.
  void load_collecting(const std::filesystem::path& file, const std::filesystem::path& folder);
  // find() among the libraries opened so far.
  PluginEntry* find_loaded(std::string_view name, Kind kind) const noexcept;
  // The place of `folder` in the search order (searched_), for shadowing.
  std::size_t folder_rank(const std::filesystem::path& folder) const noexcept;

  struct Deferred {
    std::filesystem::path file;
    std::filesystem::path folder;
    std::string plugin;  // NAME of libweir_KIND_NAME.so
  };
  std::vector<Deferred> deferred_;
  std::vector<std::unique_ptr<PluginEntry>> entries_;
  std::vector<std::filesystem::path> searched_;
  std::vector<Diagnostic> problems_;
};

}  // namespace weir
