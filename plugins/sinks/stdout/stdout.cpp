// stdout: each message as a line on standard output, raw or JSON.

#include <weir_std/message_json.hpp>

#include <weir/plugin.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace weir::weir_std {
namespace {

const Option<bool> flush_each_batch{
    .name = "flush",
    .description = "Flush standard output after every batch (lines appear at once, even through a pipe)",
    .default_value = "true"};

class Stdout final : public Sink {
 public:
  Stdout(const Options& options, const StageContext&)
      : json_(options[line_format] == LineFormat::json), flush_(options[flush_each_batch]) {}

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

WEIR_PLUGIN(stdout_sink) {
    .name = "stdout",
    .kind = Kind::sink,
    .description = "Writes each message to standard output as a raw line or a JSON line",
    .options = {line_format, flush_each_batch},
    .example = plugin_example,
    .create = construct<Stdout>,
};

}  // namespace weir::weir_std
