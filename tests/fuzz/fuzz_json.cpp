// Fuzzes the `json` processor as `weir run` uses it (the plugin library of
// this build, options from the real loader): any payload is parsed into
// attributes or fails the message with a PermanentError; nothing else may
// escape, and no input may crash or exhaust the stack. The render mode gets
// the same bytes as a payload and must write JSON that parses again.
//   input: PAYLOAD

#include "processor_stage.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace {

struct Stages {
  weir::PluginRegistry registry;
  weir::StageInstance parse;
  weir::StageInstance render;
};

Stages* stages = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  stages = new Stages;
  stages->registry.load_folders({WEIR_FUZZ_PLUGIN_DIR});
  stages->parse = weir_fuzz::make_processor(stages->registry, "json", "{}");
  stages->render = weir_fuzz::make_processor(stages->registry, "json", "{mode: render}");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string payload(reinterpret_cast<const char*>(data), size);
  weir_fuzz::KeepLast out;
  weir::Message message{payload};
  try {
    dynamic_cast<weir::Processor&>(*stages->parse.stage).process(message, out);
  } catch (const weir::PermanentError&) {
  }
  weir::Message to_render{payload};
  to_render.attributes.set("key", payload);
  dynamic_cast<weir::Processor&>(*stages->render.stage).process(to_render, out);
  if (!nlohmann::json::accept(out.last.payload)) std::abort();
  return 0;
}
