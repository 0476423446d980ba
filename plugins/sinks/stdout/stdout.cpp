// stdout: each message as a line on standard output, raw or JSON.

#include <weir_std/message_json.hpp>
#include <weir_std/option_checks.hpp>

#include <weir/plugin.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> stdout_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "format", .type = OptionType::enumeration,
       .description = "`raw` writes the payload; `json` writes id, priority, attributes and payload as one "
                      "JSON object (a value that is not UTF-8 as NAME_base64, base64-encoded)",
       .default_value = "raw", .allowed = {"raw", "json"}},
      {.name = "flush", .type = OptionType::boolean,
       .description = "Flush standard output after every batch (lines appear at once, even through a pipe)",
       .default_value = "true"},
  };
  return specs;
}

class Stdout final : public Sink {
 public:
  Stdout(const Options& options, const StageContext&)
      : json_(options.string("format") == "json"), flush_(options.boolean("flush")) {}

  void write(const Message& message) override { write_batch({&message, 1}); }

  // One fwrite per batch: stdio locks the stream per call, so lines from
  // replicas never interleave mid-line.
  void write_batch(std::span<const Message> batch) override {
    buffer_.clear();
    // A batch that carries acknowledgements is flushed before they may fire.
    bool acknowledged = false;
    for (const Message& message : batch) {
      append_line(buffer_, message, json_);
      acknowledged = acknowledged || message.ack;
    }
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) != buffer_.size() ||
        ((flush_ || acknowledged) && std::fflush(stdout) != 0))
      throw RetryableError(fmt::format("writing to standard output failed: {}", std::strerror(errno)));
  }

  void flush() override { std::fflush(stdout); }

 private:
  bool json_;
  bool flush_;
  std::string buffer_;
};

}  // namespace
}  // namespace weir::stdp

WEIR_PLUGIN(stdout_sink, sink, "stdout", "Writes each message to standard output as a raw line or a JSON line",
            weir::stdp::Stdout, weir::stdp::stdout_options, weir::stdp::example_yaml)
