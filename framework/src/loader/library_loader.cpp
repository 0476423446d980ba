// Finding plugin libraries and loading them with Boost.DLL.
//
// A library is trusted in stages: its export table is read from the file
// before it is mapped; once mapped, each descriptor's handshake (plain data at
// fixed offsets) is checked before any pointer or function in it is touched.
// Only when every descriptor of the library passes are its plugins added, so
// a library is either wholly in the registry or not at all.

#include "config/spellings.hpp"

#include <weir/logging.hpp>
#include <weir/registry.hpp>

#include <boost/core/demangle.hpp>
#include <boost/dll/library_info.hpp>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string_view>
#include <system_error>

namespace weir {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view export_prefix = "weir_plugin_";
// Every BOOST_DLL_ALIAS lives in this ELF section; other exports are not ours.
constexpr const char* alias_section = "boostdll";

std::vector<fs::path> split_path_list(std::string_view list) {
  std::vector<fs::path> out;
  while (!list.empty()) {
    const auto colon = list.find(':');
    const std::string_view part = list.substr(0, colon);
    if (!part.empty()) out.emplace_back(part);
    if (colon == std::string_view::npos) break;
    list.remove_prefix(colon + 1);
  }
  return out;
}

// The folder's identity for de-duplication: the same folder reached through
// a symlink or `..` must not load its libraries twice.
fs::path identity(const fs::path& folder) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(folder, ec);
  return ec ? folder.lexically_normal() : canonical;
}

// dlopen's own explanation, which Boost.DLL wraps as
// "... (dlerror system message: FILE: REASON): ERRNO TEXT".
std::string dlopen_reason(const fs::path& file, const std::string& what) {
  constexpr std::string_view marker = "dlerror system message: ";
  const auto begin = what.find(marker);
  const auto end = what.rfind(')');
  if (begin == std::string::npos || end == std::string::npos || end < begin) return what;
  std::string reason = what.substr(begin + marker.size(), end - begin - marker.size());
  const std::string file_prefix = file.string() + ": ";
  if (reason.starts_with(file_prefix)) reason.erase(0, file_prefix.size());
  return reason;
}

// "undefined symbol: _Z3fooi" becomes "undefined symbol foo(int) (_Z3fooi)".
std::string readable_undefined_symbol(const std::string& reason) {
  constexpr std::string_view marker = "undefined symbol: ";
  const auto at = reason.find(marker);
  if (at == std::string::npos) return reason;
  std::string mangled = reason.substr(at + marker.size());
  if (const auto space = mangled.find_first_of(" \t,"); space != std::string::npos) mangled.resize(space);
  const std::string demangled = boost::core::demangle(mangled.c_str());
  if (demangled == mangled) return fmt::format("undefined symbol {}", mangled);
  return fmt::format("undefined symbol {} ({})", demangled, mangled);
}

PluginError library_error(const fs::path& file, std::string_view reason) {
  return PluginError(fmt::format("{}: {}", file.string(), reason));
}

std::vector<std::string> exported_descriptors(const fs::path& file) {
  std::vector<std::string> symbols;
  try {
    boost::dll::library_info info(boost::dll::fs::path(file.string()));
    symbols = info.symbols(alias_section);
  } catch (const std::exception& e) {
    throw library_error(file, fmt::format("not a weir plugin: not a shared library this system can load ({})",
                                          e.what()));
  }
  std::erase_if(symbols, [](const std::string& s) { return !s.starts_with(export_prefix); });
  std::sort(symbols.begin(), symbols.end());
  if (symbols.empty())
    throw library_error(file, fmt::format("not a weir plugin: it exports no {}* descriptor (a plugin library "
                                          "exports each plugin with WEIR_PLUGIN(id) {{ ... }} from <weir/plugin.hpp>)",
                                          export_prefix));
  return symbols;
}

void check_handshake(const fs::path& file, const std::string& symbol, const PluginDescriptor& d) {
  // Field by field, in layout order: a later field is meaningful only once
  // the earlier ones said this is a weir descriptor of our ABI.
  if (d.magic != plugin_magic)
    throw library_error(file, fmt::format("not a weir plugin: {} does not start with the weir magic number "
                                          "(found {:#x}, expected {:#x})",
                                          symbol, d.magic, plugin_magic));
  if (d.abi_version != sdk_abi_version)
    throw library_error(file, fmt::format("ABI mismatch: {} was built against weir SDK ABI version {}, this weir "
                                          "({}) has ABI version {}; rebuild the plugin against this weir",
                                          symbol, d.abi_version, WEIR_VERSION_STRING, sdk_abi_version));
  const std::string_view compiler = d.compiler ? d.compiler : "(none)";
  if (compiler != detail::compiler_id)
    throw library_error(file, fmt::format("ABI mismatch: {} was built with compiler '{}', this weir with '{}'; "
                                          "plugins must be built with the same compiler as weir",
                                          symbol, compiler, detail::compiler_id));
  if (d.stdlib_abi != detail::stdlib_abi)
    throw library_error(file, fmt::format("ABI mismatch: {} was built with C++ standard library ABI {}, this "
                                          "weir with {}; plugins must use the same standard library and flags",
                                          symbol, d.stdlib_abi, detail::stdlib_abi));
  const auto missing = [&](std::string_view field) {
    return library_error(file, fmt::format("incomplete descriptor: {} has no {}", symbol, field));
  };
  if (!d.name || !*d.name) throw missing("name");
  if (!d.description) throw missing("description");
  if (!d.create) throw missing("factory function (.create = weir::construct<Class>)");
  if (d.kind != Kind::source && d.kind != Kind::processor && d.kind != Kind::sink)
    throw library_error(file, fmt::format("{} declares an unknown plugin kind ({})", symbol, static_cast<int>(d.kind)));
  if (auto problem = option_table_problem(d)) throw library_error(file, *problem);
}

// NAME when `file` is named libweir_KIND_NAME.so, the name weir_add_plugin
// gives the library of one plugin: such a library may wait until NAME is
// looked up (see PluginRegistry::load_folders).
std::optional<std::string> plugin_named_by(const fs::path& file) {
  const std::string stem = file.stem().string();
  for (const auto& kind : config::spellings<Kind>()) {
    const std::string prefix = fmt::format("libweir_{}_", kind.text);
    if (stem.size() > prefix.size() && stem.starts_with(prefix)) return stem.substr(prefix.size());
  }
  return std::nullopt;
}

}  // namespace

std::vector<fs::path> PluginRegistry::default_search_path() {
  std::vector<fs::path> out;
  if (const char* env = std::getenv("WEIR_PLUGIN_PATH")) out = split_path_list(env);

  // One built-in folder: beside the running binary (build tree or a relocated
  // install) when it exists there, otherwise in the configured prefix. Using
  // both would let an older installed copy collide with the fresh build.
  fs::path beside_binary;
  boost::system::error_code ec;
  const auto program = boost::dll::program_location(ec);
  if (!ec) beside_binary = fs::path(program.string()).parent_path().parent_path() / WEIR_PLUGIN_SUBDIR;
  std::error_code exists_ec;
  if (!beside_binary.empty() && fs::is_directory(beside_binary, exists_ec))
    out.push_back(beside_binary.lexically_normal());
  else
    out.push_back(fs::path(WEIR_INSTALL_PREFIX) / WEIR_PLUGIN_SUBDIR);
  return out;
}

void PluginRegistry::load_folders(const std::vector<fs::path>& folders) {
  // Callers load in rounds (a pipeline's plugin_path, then the defaults):
  // a folder already searched in an earlier round is not loaded again.
  std::set<fs::path> seen;
  for (const fs::path& folder : searched_) seen.insert(identity(folder));
  for (const fs::path& folder : folders) {
    if (!seen.insert(identity(folder)).second) continue;
    searched_.push_back(folder);
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
      weir::logger()->debug("plugin folder {} does not exist; skipped", folder.string());
      continue;
    }
    std::vector<fs::path> libraries;
    for (const auto& item : fs::directory_iterator(folder, ec))
      if (item.path().extension() == ".so" && !item.is_directory()) libraries.push_back(item.path());
    if (ec) {
      problems_.push_back({folder.string(), 0, 0, fmt::format("cannot list plugin folder: {}", ec.message()), {}});
      continue;
    }
    // Directory order is arbitrary; sorted, which library wins a clash is stable.
    std::sort(libraries.begin(), libraries.end());
    for (const fs::path& file : libraries) {
      if (auto plugin = plugin_named_by(file)) {
        deferred_.push_back({file, folder, std::move(*plugin)});
        continue;
      }
      load_collecting(file, folder);
    }
  }
}

void PluginRegistry::load_collecting(const fs::path& file, const fs::path& folder) {
  try {
    load(file, &folder);
  } catch (const PluginError& e) {
    // The diagnostic names the file itself; its message is the reason.
    std::string reason = e.what();
    if (const std::string prefix = file.string() + ": "; reason.starts_with(prefix)) reason.erase(0, prefix.size());
    problems_.push_back({file.string(), 0, 0, std::move(reason), {}});
  }
}

void PluginRegistry::open_deferred(std::optional<std::string_view> name) const {
  auto& self = const_cast<PluginRegistry&>(*this);
  std::vector<Deferred> opening;
  std::erase_if(self.deferred_, [&](Deferred& d) {
    if (name && d.plugin != *name) return false;
    opening.push_back(std::move(d));
    return true;
  });
  for (const Deferred& d : opening) self.load_collecting(d.file, d.folder);
}

void PluginRegistry::load_library(const fs::path& file) { load(file, nullptr); }

void PluginRegistry::load(const fs::path& file, const fs::path* folder) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw library_error(file, "not found: no such file");

  const std::vector<std::string> symbols = exported_descriptors(file);

  std::shared_ptr<boost::dll::shared_library> library;
  try {
    // rtld_now: an unresolved symbol is reported here, by name, instead of
    // crashing the first time the plugin calls it. rtld_local: two plugins
    // may use the same internal names without interfering.
    library = std::make_shared<boost::dll::shared_library>(
        boost::dll::fs::path(file.string()),
        boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    const std::string reason = dlopen_reason(file, e.what());
    if (reason.find("undefined symbol") != std::string::npos)
      throw library_error(file, fmt::format("missing symbol: {}; the plugin uses a function or variable that "
                                            "neither it nor the libraries it links define",
                                            readable_undefined_symbol(reason)));
    throw library_error(file, fmt::format("cannot be loaded: {}", reason));
  }

  std::vector<const PluginDescriptor*> descriptors;
  for (const std::string& symbol : symbols) {
    if (!library->has(symbol))
      throw library_error(file, fmt::format("missing symbol: {} is listed but cannot be resolved", symbol));
    const auto& descriptor = library->get_alias<const PluginDescriptor>(symbol);
    check_handshake(file, symbol, descriptor);
    descriptors.push_back(&descriptor);
  }

  // Clashes: within this library, or with a plugin loaded earlier. A plugin
  // from an earlier search folder shadows one in a later folder (the search
  // order is how a pipeline overrides a built-in plugin); a clash within one
  // folder or one library is an error, since neither is meant to win.
  std::vector<const PluginDescriptor*> accepted;
  for (const PluginDescriptor* d : descriptors) {
    for (const PluginDescriptor* other : accepted)
      if (other->kind == d->kind && std::string_view(other->name) == d->name)
        throw library_error(file, fmt::format("two {} plugins are named '{}' in this one library",
                                              to_string(d->kind), d->name));
    if (PluginEntry* existing = find_loaded(d->name, d->kind)) {
      std::error_code same_ec;
      if (fs::equivalent(existing->library_file(), file, same_ec)) continue;  // this very file, loaded before
      const fs::path existing_folder = existing->library_file().parent_path();
      if (folder && existing_folder != *folder && existing->library_file().has_parent_path()) {
        // Folders are searched in order, but a library named for its plugin
        // is opened when the plugin is first looked up (open_deferred), so
        // the one loaded first may come from the later folder.
        const bool this_one_wins = folder_rank(*folder) < folder_rank(existing_folder);
        const fs::path& winner = this_one_wins ? file : existing->library_file();
        const fs::path& shadowed = this_one_wins ? existing->library_file() : file;
        weir::logger()->debug("{} plugin '{}' in {} is shadowed by the one in {}", to_string(d->kind), d->name,
                              shadowed.string(), winner.string());
        if (this_one_wins) *existing = PluginEntry(*d, file, library);
        continue;
      }
      throw library_error(file, fmt::format("duplicate name: two {} plugins are named '{}': one in {}, one in {}",
                                            to_string(d->kind), d->name, existing->library_file().string(),
                                            file.string()));
    }
    accepted.push_back(d);
  }
  for (const PluginDescriptor* d : accepted) entries_.push_back(std::make_unique<PluginEntry>(*d, file, library));
}

std::size_t PluginRegistry::folder_rank(const fs::path& folder) const noexcept {
  const auto at = std::find(searched_.begin(), searched_.end(), folder);
  return static_cast<std::size_t>(at - searched_.begin());
}

const PluginEntry& PluginRegistry::require(std::string_view name, Kind kind) const {
  if (const PluginEntry* entry = find(name, kind)) return *entry;
  // A library named for one plugin may hold others: before a plugin is
  // called missing, every library is opened.
  open_deferred(std::nullopt);
  if (const PluginEntry* entry = find_loaded(name, kind)) return *entry;
  throw PluginError(not_found_message(name, kind));
}

std::string PluginRegistry::not_found_message(std::string_view name, std::optional<Kind> kind) const {
  std::string message = kind ? fmt::format("no {} plugin named '{}'", to_string(*kind), name)
                             : fmt::format("no plugin named '{}'", name);
  const std::string suggestion = closest_match(std::string(name), names(kind));
  if (!suggestion.empty()) message += fmt::format(" (did you mean '{}'?)", suggestion);
  if (kind && !find_all(name).empty()) {
    std::vector<Kind> found;
    for (const PluginEntry* e : find_all(name)) found.push_back(e->kind());
    std::sort(found.begin(), found.end());
    std::vector<std::string_view> kinds;
    for (Kind k : found) kinds.push_back(to_string(k));
    message += fmt::format("; '{}' exists as a {} plugin", name, fmt::join(kinds, " and "));
  }
  if (searched_.empty()) {
    message += "; no plugin folders were searched";
  } else {
    std::vector<std::string> folders;
    for (const fs::path& f : searched_) folders.push_back(f.string());
    message += fmt::format("; searched: {}", fmt::join(folders, ", "));
  }
  for (const Diagnostic& problem : problems_)
    message += fmt::format("\n  (a library failed to load, maybe the one meant: {}: {})", problem.file, problem.message);
  return message;
}

}  // namespace weir
