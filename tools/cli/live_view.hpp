#pragma once
// The live view of `weir run` on a terminal: a frame on stderr, redrawn in
// place a few times a second, with each stage's rate and totals and each
// channel lane's fill and whether its writers are blocked or its readers
// starved.

#include <weir/pipeline.hpp>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

namespace weir::cli {

// One frame, from two snapshots `seconds` apart (`previous` may be empty: the
// first frame has no rates). `width` is the terminal's.
std::string render_live_frame(const RunReport& now, const RunReport& previous, double seconds, int width);

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

 private:
  void loop();
  void draw(const RunReport& now);

  const Pipeline& pipeline_;
  std::FILE* out_;
  std::chrono::milliseconds period_;
  RunReport previous_;
  std::chrono::steady_clock::time_point previous_time_;
  int lines_drawn_ = 0;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// Whether the live view is on: --progress / --no-progress, else whether
// stderr is a terminal.
bool live_view_wanted(bool progress, bool no_progress);

}  // namespace weir::cli
