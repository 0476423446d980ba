// stdin: lines from standard input until it ends. The wait for input is a
// poll() that a stop request interrupts, so a pipeline reading from a quiet
// terminal or pipe still shuts down at once.

#include <weir_std/lines.hpp>
#include <weir_std/option_checks.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace weir::weir_std {
namespace {

class Stdin final : public Source {
 public:
  Stdin(const Options& options, const StageContext& context)
      : logger_(logger_for(context)), max_line_bytes_(static_cast<std::size_t>(options[line_max_bytes].bytes)) {
    if (context.replicas > 1) logger_->warn("{} replicas share one standard input; lines go to whichever reads first", context.replicas);
  }

  void run(Emitter& out, std::stop_token stop) override { read_lines(STDIN_FILENO, out, stop); }

  // Separate from run() so the input can be any descriptor in tests.
  void read_lines(int fd, Emitter& out, std::stop_token stop) {
    LineSplitter lines(max_line_bytes_);
    StopAwarePoll waiter(stop);
    auto emit_line = [&](std::string line, std::size_t) { return !stop.stop_requested() && out.emit(Message(std::move(line))); };
    std::array<char, 64 * 1024> buffer;
    for (;;) {
      if (waiter.wait({fd}) < 0) return;
      ssize_t got = ::read(fd, buffer.data(), buffer.size());
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got < 0) {
        logger_->error("reading standard input failed: {}", std::strerror(errno));
        break;
      }
      if (got == 0) break;
      if (!lines.feed({buffer.data(), static_cast<std::size_t>(got)}, emit_line)) return;
    }
    lines.finish(emit_line);
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  std::size_t max_line_bytes_;
};

}  // namespace

WEIR_PLUGIN(stdin_source) {
    .name = "stdin",
    .kind = Kind::source,
    .description = "Lines from standard input, until it ends",
    .options = {line_max_bytes},
    .example = plugin_example,
    .create = construct<Stdin>,
};

}  // namespace weir::weir_std
