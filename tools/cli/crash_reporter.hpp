#pragma once
// A crash inside the process (a plugin's null pointer, abort(), a stack
// overflow) is reported before the process dies: which stage replica was
// running, the signal, and a report with what is known.
//
// Plugins run in the weir process: a crash in one is a crash of weir. The
// handler does only what is async-signal-safe (a message made of text
// prepared in advance, written with write(2)), then wakes a helper thread
// created beforehand, which builds and writes the report with ordinary code
// while the crashed thread waits, at most `report_timeout`. Then the signal's
// default action ends the process, so the exit status says which signal it
// was (128+N in a shell: 134 SIGABRT, 139 SIGSEGV) and a core dump, if
// enabled, shows the crash itself.

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace weir::cli {

class CrashReporter {
 public:
  static constexpr std::chrono::seconds report_timeout{5};

  // `report` runs on the helper thread with the crash described in one line
  // ("SIGSEGV (segmentation fault) in stage 'x' replica 0"). One reporter at
  // a time per process.
  explicit CrashReporter(std::function<void(const std::string& crash)> report);
  ~CrashReporter();
  CrashReporter(const CrashReporter&) = delete;
  CrashReporter& operator=(const CrashReporter&) = delete;

 private:
  void helper();

  std::function<void(const std::string&)> report_;
  std::thread thread_;
};

}  // namespace weir::cli
