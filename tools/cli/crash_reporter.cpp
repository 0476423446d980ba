#include "crash_reporter.hpp"

#include <weir/pipeline.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <unistd.h>

namespace weir::cli {
namespace {

struct Fatal {
  int signal;
  const char* text;
};
constexpr Fatal fatal_signals[] = {
    {SIGSEGV, "SIGSEGV (segmentation fault)"}, {SIGBUS, "SIGBUS (bus error)"},
    {SIGILL, "SIGILL (illegal instruction)"},  {SIGFPE, "SIGFPE (arithmetic error)"},
    {SIGABRT, "SIGABRT (aborted)"},
};

// The handler's world: file descriptors and text set up in advance.
int wake_pipe[2] = {-1, -1};  // handler -> helper: one byte per crash; 0 asks the helper to leave
int done_pipe[2] = {-1, -1};  // helper -> handler: the report is written
std::atomic<bool> crashing{false};
// What the helper reads once woken: written by the handler before the wake-up.
// Lock-free atomics, which a signal handler may use.
std::atomic<const char*> crash_signal_text{nullptr};
std::atomic<const char*> crash_stage{nullptr};
static_assert(std::atomic<const char*>::is_always_lock_free, "the crash handler needs lock-free atomics");

// Appends `text` to `buffer` (async-signal-safe: no allocation, no locale).
void append(char* buffer, std::size_t size, std::size_t& used, const char* text) noexcept {
  while (*text && used + 1 < size) buffer[used++] = *text++;
  buffer[used] = '\0';
}

void write_all(int fd, const char* text, std::size_t length) noexcept {
  while (length > 0) {
    const ssize_t n = ::write(fd, text, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    length -= static_cast<std::size_t>(n);
  }
}

void on_fatal_signal(int signal) {
  const int saved_errno = errno;
  const bool first = !crashing.exchange(true);
  const char* signal_text = "a fatal signal";
  for (const Fatal& f : fatal_signals)
    if (f.signal == signal) signal_text = f.text;
  const char* stage = current_stage_label();
  if (first) {
    char line[512];
    std::size_t used = 0;
    append(line, sizeof line, used, "weir: fatal: ");
    append(line, sizeof line, used, signal_text);
    append(line, sizeof line, used, stage ? " in " : " outside any stage's plugin code");
    if (stage) append(line, sizeof line, used, stage);
    append(line, sizeof line, used, "; plugins run inside the weir process, so this ends it; writing the report\n");
    write_all(STDERR_FILENO, line, used);
    crash_signal_text = signal_text;
    crash_stage = stage;
    const char wake = 1;
    write_all(wake_pipe[1], &wake, 1);
  }
  // The first crash waits for its report; a second one (another thread, or
  // the helper itself) waits too, so the report is not cut short, unless the
  // helper is the one that crashed: then nobody will answer, and the wait
  // runs out.
  pollfd done{done_pipe[0], POLLIN, 0};
  const int timeout_ms = static_cast<int>(std::chrono::milliseconds(CrashReporter::report_timeout).count());
  while (::poll(&done, 1, timeout_ms) < 0 && errno == EINTR) {
  }
  // Default action on return: the signal is blocked while its handler runs,
  // so this one is delivered the moment the handler returns.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(signal, &default_action, nullptr);
  errno = saved_errno;
  ::raise(signal);
}

}  // namespace

CrashReporter::CrashReporter(std::function<void(const std::string&)> report) : report_(std::move(report)) {
  if (::pipe2(wake_pipe, O_CLOEXEC) != 0 || ::pipe2(done_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("crash reporter: pipe: ") + std::strerror(errno));
  thread_ = std::thread([this] { helper(); });
  struct sigaction action {};
  action.sa_handler = &on_fatal_signal;
  sigemptyset(&action.sa_mask);
  // SA_ONSTACK: replica threads have an alternate stack, so a stack overflow
  // in plugin code still gets its message.
  action.sa_flags = SA_ONSTACK;
  for (const Fatal& f : fatal_signals) sigaction(f.signal, &action, nullptr);
}

CrashReporter::~CrashReporter() {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  for (const Fatal& f : fatal_signals) sigaction(f.signal, &default_action, nullptr);
  const char leave = 0;
  write_all(wake_pipe[1], &leave, 1);
  thread_.join();
  for (int* fds : {wake_pipe, done_pipe}) {
    ::close(fds[0]);
    ::close(fds[1]);
    fds[0] = fds[1] = -1;
  }
}

void CrashReporter::helper() {
  char byte = 0;
  for (;;) {
    const ssize_t n = ::read(wake_pipe[0], &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == 0) return;
    const char* stage = crash_stage.load();
    std::string crash = crash_signal_text.load();
    crash += stage ? std::string(" in ") + stage : " outside any stage's plugin code";
    try {
      report_(crash);
    } catch (...) {
      static constexpr char failed[] = "weir: the crash report could not be written\n";
      write_all(STDERR_FILENO, failed, sizeof failed - 1);
    }
    const char done = 1;
    write_all(done_pipe[1], &done, 1);
  }
}

}  // namespace weir::cli
