// Fuzzes the pipeline loader with validation, as `weir validate` runs it,
// against the standard plugins of this build: any text gives a pipeline or a
// ConfigError (nothing else may escape), and every diagnostic is one line.
//   input: YAML

#include <weir/config.hpp>
#include <weir/registry.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>

namespace {
weir::PluginRegistry* registry = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  registry = new weir::PluginRegistry;
  registry->load_folders({WEIR_FUZZ_PLUGIN_DIR});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  // plugin_path would make the loader open every library in a folder the
  // input names; that is the loader's job, not a parser's, and not safe to
  // do with random folders.
  if (yaml.find("plugin_path") != std::string::npos) return -1;
  try {
    (void)weir::load_pipeline_string(yaml, *registry, {}, "fuzz.yaml", "/nonexistent");
  } catch (const weir::ConfigError& e) {
    for (const weir::Diagnostic& diagnostic : e.diagnostics())
      if (diagnostic.to_string().find_first_of("\n\r\x1b") != std::string::npos) std::abort();
  }
  return 0;
}
