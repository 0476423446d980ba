// A healthy library exporting several plugins, one name being both a source
// and a sink (as `file` is among the standard plugins).
#include "test_stages.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace {

std::span<const weir::OptionSpec> upper_options() {
  static const std::array<weir::OptionSpec, 2> specs{{
      {.name = "suffix", .type = weir::OptionType::string, .description = "Text appended to every payload",
       .default_value = "''", .example = "\"!\""},
      {.name = "limit", .type = weir::OptionType::integer, .description = "Longest payload kept, in bytes",
       .default_value = "1024", .min = 1, .max = 65536, .example = "80"},
  }};
  return specs;
}

class Upper final : public weir::Processor {
 public:
  Upper(const weir::Options& options, const weir::StageContext&) : suffix_(options.string("suffix")) {}
  void process(weir::Message& message, weir::Emitter& out) override {
    std::transform(message.payload.begin(), message.payload.end(), message.payload.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    message.payload += suffix_;
    out.emit(std::move(message));
  }

 private:
  std::string suffix_;
};

class EchoSource final : public weir::Source {
 public:
  EchoSource(const weir::Options&, const weir::StageContext&) {}
  void run(weir::Emitter& out, std::stop_token) override { out.emit(weir::Message("echo")); }
};

class EchoSink final : public weir::Sink {
 public:
  EchoSink(const weir::Options&, const weir::StageContext&) {}
  void write(const weir::Message&) override {}
};

}  // namespace

WEIR_PLUGIN(test_upper, processor, "test_upper", "Upper-cases payloads (test library)", Upper, upper_options,
            "upper:\n  plugin: test_upper\n  input: upstream\n  config: {suffix: \"!\"}\n")
WEIR_PLUGIN(test_echo_source, source, "test_echo", "Emits one message (test library)", EchoSource, weir_test::no_options,
            "echo:\n  plugin: test_echo\n")
WEIR_PLUGIN(test_echo_sink, sink, "test_echo", "Discards messages (test library)", EchoSink, weir_test::no_options,
            "echo_out:\n  plugin: test_echo\n  input: upstream\n")
