#pragma once
// The live view of `weir run` on a terminal: a frame on stderr, redrawn in
// place a few times a second, with each stage's rate and totals and each
// channel lane's fill and whether its writers are blocked or its readers
// starved.

#include <weir/pipeline.hpp>

#include <spdlog/sinks/base_sink.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace weir::cli {

// One frame, from two snapshots `seconds` apart (`previous` may be empty: the
// first frame has no rates). `width` is the terminal's.
std::string render_live_frame(const RunReport& now, const RunReport& previous, double seconds, int width);

// ANSI: back to the top of a frame of `lines` lines on screen, clearing it
// and everything below (nothing for 0 lines).
std::string erase_frame(int lines);

class LiveView {
 public:
  // Starts drawing on `out` (a terminal) every `period`.
  LiveView(const Pipeline& pipeline, std::FILE* out,
           std::chrono::milliseconds period = std::chrono::milliseconds(250));
  // Ends the drawing thread at once, without a last frame.
  ~LiveView();
  LiveView(const LiveView&) = delete;
  LiveView& operator=(const LiveView&) = delete;

  // Ends the drawing thread: no stats() call is made after it returns.
  void stop();
  // Stops, then draws the last frame from the final report, which stays on
  // the screen above whatever is written next.
  void finish(const RunReport& final_report);
  // Writes `text` (whole lines: a log record) above the frame, which is
  // redrawn below it, so log lines and the view do not overwrite each other.
  void print_above(std::string_view text);

 private:
  void loop();
  void draw(const RunReport& now);

  const Pipeline& pipeline_;
  std::FILE* out_;
  std::mutex screen_mutex_;  // the frame on screen: drawing and print_above
  std::string body_;         // the frame last drawn
  std::chrono::milliseconds period_;
  RunReport previous_;
  std::chrono::steady_clock::time_point previous_time_;
  int lines_drawn_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// Routes log records through the live view while one is attached (set on
// the default logger before stage loggers are cloned from it); without one
// they go straight to `out`.
class LiveViewLogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit LiveViewLogSink(std::FILE* out) : out_(out) {}
  void attach(LiveView* view);

 private:
  void sink_it_(const spdlog::details::log_msg& message) override;
  void flush_() override { std::fflush(out_); }

  std::FILE* out_;
  LiveView* view_ = nullptr;  // guarded by the base's mutex
};

// Whether the live view is on: --progress / --no-progress, else whether
// stderr is a terminal.
bool live_view_wanted(bool progress, bool no_progress);

}  // namespace weir::cli
