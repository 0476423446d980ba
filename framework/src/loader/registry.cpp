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

StageInstance PluginEntry::create(const Options& options, const StageContext& context) const {
  StageInstance instance;
  instance.library = library_;
  try {
    instance.stage = descriptor_->create(options, context);
  } catch (...) {
    throw PluginError(fmt::format("{} plugin '{}' ({}): constructor threw: {}", to_string(kind()), name(),
                                  library_file_.string(), runtime::current_exception_text()));
  }
  if (!instance.stage)
    throw PluginError(fmt::format("{} plugin '{}' ({}): factory returned no stage", to_string(kind()), name(),
                                  library_file_.string()));
  return instance;
}

PluginRegistry::PluginRegistry() = default;
PluginRegistry::~PluginRegistry() = default;
PluginRegistry::PluginRegistry(PluginRegistry&&) noexcept = default;
PluginRegistry& PluginRegistry::operator=(PluginRegistry&&) noexcept = default;

void PluginRegistry::add(const PluginDescriptor& descriptor) {
  if (find(descriptor.name, descriptor.kind))
    throw PluginError(fmt::format("two {} plugins are named '{}'", to_string(descriptor.kind), descriptor.name));
  entries_.push_back(std::make_unique<PluginEntry>(descriptor, "(in process)", nullptr));
}

const PluginEntry* PluginRegistry::find(std::string_view name, Kind kind) const noexcept {
  for (const auto& entry : entries_)
    if (entry->kind() == kind && entry->name() == name) return entry.get();
  return nullptr;
}

std::vector<const PluginEntry*> PluginRegistry::find_all(std::string_view name) const {
  std::vector<const PluginEntry*> out;
  for (const auto& entry : entries_)
    if (entry->name() == name) out.push_back(entry.get());
  return out;
}

std::vector<const PluginEntry*> PluginRegistry::all() const {
  std::vector<const PluginEntry*> out;
  for (const auto& entry : entries_) out.push_back(entry.get());
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) {
    return std::pair(a->kind(), a->name()) < std::pair(b->kind(), b->name());
  });
  return out;
}

std::vector<std::string> PluginRegistry::names(std::optional<Kind> kind) const {
  std::vector<std::string> out;
  for (const auto& entry : entries_)
    if (!kind || entry->kind() == *kind) out.emplace_back(entry->name());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace weir
