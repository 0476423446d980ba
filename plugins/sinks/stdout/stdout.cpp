// stdout: each message as a line on standard output, raw or JSON.

#include <weir_std/message_json.hpp>

#include <weir/plugin.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace weir::stdp {
namespace {

enum class Format { raw, json };

const Option<Format> format{
    .name = "format",
    .description = "`raw` writes the payload; `json` writes id, priority, attributes and payload as one JSON object "
                   "(a value that is not UTF-8 as NAME_base64, base64-encoded)",
    .default_value = "raw",
    .choices = {{"raw", Format::raw}, {"json", Format::json}}};
const Option<bool> flush_each_batch{
    .name = "flush",
    .description = "Flush standard output after every batch (lines appear at once, even through a pipe)",
    .default_value = "true"};

class Stdout final : public Sink {
 public:
  Stdout(const Options& options, const StageContext&)
      : json_(options[format] == Format::json), flush_(options[flush_each_batch]) {}

  void write(const Message& message) override { write_batch({&message, 1}); }

  // One fwrite per batch: stdio locks the stream per call, so lines from
  // replicas never interleave mid-line.
  void write_batch(std::span<const Message> batch) override {
    buffer_.clear();
    for (const Message& message : batch) append_line(buffer_, message, json_);
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), stdout) != buffer_.size() ||
        (flush_ && std::fflush(stdout) != 0))
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
    .options = {format, flush_each_batch},
    .example = plugin_example,
    .create = construct<Stdout>,
};

}  // namespace weir::stdp
