// The in-memory side of the registry: entries, lookups, construction.
// Finding and loading libraries lives in library_loader.cpp.

#include "runtime/exception_text.hpp"

#include <weir/registry.hpp>

#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

#include <algorithm>

namespace weir {

PluginEntry::PluginEntry(const PluginDescriptor& descriptor, std::filesystem::path library_file,
                         std::shared_ptr<boost::dll::shared_library> library)
    : descriptor_(&descriptor), library_file_(std::move(library_file)), library_(std::move(library)) {}

bool is_kind(const Stage& stage, Kind kind) noexcept {
  switch (kind) {
    case Kind::source: return dynamic_cast<const Source*>(&stage) != nullptr;
    case Kind::processor: return dynamic_cast<const Processor*>(&stage) != nullptr;
    case Kind::sink: return dynamic_cast<const Sink*>(&stage) != nullptr;
  }
  return false;
}

std::optional<std::string> option_table_problem(const PluginDescriptor& d) {
  const auto specs = d.options.specs();
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const OptionSpec& spec = specs[i];
    const auto where = [&](std::string_view what) {
      return fmt::format("{} plugin '{}', option '{}': {}", to_string(d.kind), d.name, spec.name, what);
    };
    if (spec.name.empty()) return fmt::format("{} plugin '{}': option {} has no name", to_string(d.kind), d.name, i + 1);
    for (std::size_t j = 0; j < i; ++j)
      if (specs[j].name == spec.name) return where("declared twice");
    if (spec.type == OptionType::enumeration && spec.allowed.empty())
      return where("an enum option without .choices");
    if (spec.min && spec.max && *spec.min > *spec.max) return where(".min is above .max");
    if (spec.required && spec.default_value) return where("both .required and a .default_value");
  }
  return std::nullopt;
}

StageInstance PluginEntry::create(const Options& options, const StageContext& context) const {
  StageInstance instance;
  instance.library = library_;
  // "processor plugin 'x' (FILE)", or "(in process)" for one a host registered.
  const auto plugin = [&] {
    return fmt::format("{} plugin '{}' ({})", to_string(kind()), name(),
                       library_ ? library_file_.string() : std::string("in process"));
  };
  try {
    instance.stage = descriptor_->create(options, context);
  } catch (const OptionError&) {
    throw;  // the caller knows where the option is
  } catch (...) {
    throw PluginError(fmt::format("{}: constructor threw: {}", plugin(), runtime::current_exception_text()));
  }
  if (!instance.stage) throw PluginError(fmt::format("{}: factory returned no stage", plugin()));
  if (!is_kind(*instance.stage, kind()))
    throw PluginError(fmt::format("{} made a stage that is not a {} (its class derives from another kind's interface)",
                                  plugin(), to_string(kind())));
  return instance;
}

PluginRegistry::PluginRegistry() = default;
PluginRegistry::~PluginRegistry() = default;
PluginRegistry::PluginRegistry(PluginRegistry&&) noexcept = default;
PluginRegistry& PluginRegistry::operator=(PluginRegistry&&) noexcept = default;

void PluginRegistry::add(const PluginDescriptor& descriptor) {
  if (auto problem = option_table_problem(descriptor)) throw PluginError(*problem);
  if (find_loaded(descriptor.name, descriptor.kind))
    throw PluginError(fmt::format("two {} plugins are named '{}'", to_string(descriptor.kind), descriptor.name));
  entries_.push_back(std::make_unique<PluginEntry>(descriptor, "(in process)", nullptr));
}

PluginEntry* PluginRegistry::find_loaded(std::string_view name, Kind kind) const noexcept {
  for (const auto& entry : entries_)
    if (entry->kind() == kind && entry->name() == name) return entry.get();
  return nullptr;
}

const PluginEntry* PluginRegistry::find(std::string_view name, Kind kind) const noexcept {
  try {
    open_deferred(name);
  } catch (...) {
    // Only memory can run out here (a library's failure is a problem recorded).
  }
  return find_loaded(name, kind);
}

std::vector<const PluginEntry*> PluginRegistry::find_all(std::string_view name) const {
  open_deferred(name);
  std::vector<const PluginEntry*> out;
  for (const auto& entry : entries_)
    if (entry->name() == name) out.push_back(entry.get());
  return out;
}

std::vector<const PluginEntry*> PluginRegistry::all() const {
  open_deferred(std::nullopt);
  std::vector<const PluginEntry*> out;
  for (const auto& entry : entries_) out.push_back(entry.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) {
    return std::pair(a->kind(), a->name()) < std::pair(b->kind(), b->name());
  });
  return out;
}

std::vector<std::string> PluginRegistry::names(std::optional<Kind> kind) const {
  open_deferred(std::nullopt);
  std::vector<std::string> out;
  for (const auto& entry : entries_)
    if (!kind || entry->kind() == *kind) out.emplace_back(entry->name());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace weir
