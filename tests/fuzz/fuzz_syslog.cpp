// Fuzzes the `syslog` processor as `weir run` uses it (the plugin library of
// this build, options from the real loader), once per format: any payload is
// parsed into attributes or fails the message with a PermanentError that
// names a byte inside the payload; nothing else may escape, and no input may
// crash, hang or grow memory.
//   input: PAYLOAD

#include "processor_stage.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Stages {
  weir::PluginRegistry registry;
  std::vector<weir::StageInstance> parsers;
};

Stages* stages = nullptr;

// "... at byte N: ..." with 1 <= N <= size + 1.
void check_position(const char* what, std::size_t size) {
  const char* at = std::strstr(what, "at byte ");
  if (!at) std::abort();
  const unsigned long position = std::strtoul(at + 8, nullptr, 10);
  if (position < 1 || position > size + 1) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  stages = new Stages;
  stages->registry.load_folders({WEIR_FUZZ_PLUGIN_DIR});
  stages->parsers.push_back(weir_fuzz::make_processor(stages->registry, "syslog", "{}"));
  stages->parsers.push_back(weir_fuzz::make_processor(stages->registry, "syslog", "{format: rfc5424, payload: message}"));
  stages->parsers.push_back(weir_fuzz::make_processor(stages->registry, "syslog", "{format: rfc3164, prefix: 'sys_'}"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string payload(reinterpret_cast<const char*>(data), size);
  for (auto& parser : stages->parsers) {
    weir_fuzz::KeepLast out;
    weir::Message message{payload};
    try {
      dynamic_cast<weir::Processor&>(*parser.stage).process(message, out);
      if (!out.last.attributes.contains("severity") && !out.last.attributes.contains("sys_severity")) std::abort();
    } catch (const weir::PermanentError& e) {
      check_position(e.what(), size);
    }
  }
  return 0;
}
