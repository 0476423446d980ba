// A healthy library exporting several plugins, one name being both a source
// and a sink (as `file` is among the standard plugins).
#include "test_stages.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace {

const weir::Option<std::string> suffix{
    .name = "suffix", .description = "Text appended to every payload", .default_value = "''", .example = "\"!\""};
const weir::Option<std::int64_t> limit{.name = "limit",
                                       .description = "Longest payload kept, in bytes",
                                       .default_value = "1024",
                                       .min = 1,
                                       .max = 65536,
                                       .example = "80"};

class Upper final : public weir::Processor {
 public:
  Upper(const weir::Options& options, const weir::StageContext&) : suffix_(options[suffix]) {}
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

WEIR_PLUGIN(test_upper) {
    .name = "test_upper",
    .kind = weir::Kind::processor,
    .description = "Upper-cases payloads (test library)",
    .options = {suffix, limit},
    .example = "upper:\n  plugin: test_upper\n  input: upstream\n  config: {suffix: \"!\"}\n",
    .create = weir::construct<Upper>,
};
WEIR_PLUGIN(test_echo_source) {
    .name = "test_echo",
    .kind = weir::Kind::source,
    .description = "Emits one message (test library)",
    .example = "echo:\n  plugin: test_echo\n",
    .create = weir::construct<EchoSource>,
};
WEIR_PLUGIN(test_echo_sink) {
    .name = "test_echo",
    .kind = weir::Kind::sink,
    .description = "Discards messages (test library)",
    .example = "echo_out:\n  plugin: test_echo\n  input: upstream\n",
    .create = weir::construct<EchoSink>,
};
