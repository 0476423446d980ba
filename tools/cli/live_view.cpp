// The live view: snapshots of Pipeline::stats() turned into a small frame,
// redrawn in place with ANSI cursor moves.

#include "live_view.hpp"
#include "terminal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unistd.h>

namespace weir::cli {
namespace {

// What a stage has taken in: for a source, what it produced.
std::uint64_t throughput(const StageReport& s) { return s.kind == "source" ? s.emitted : s.received; }

const StageReport* find_stage(const RunReport& report, const std::string& name) {
  for (const auto& s : report.stages)
    if (s.name == name) return &s;
  return nullptr;
}

// A channel as the user sees it: one lane of a stage's input, with every
// edge that feeds it (fan-in edges share the lane's ring).
struct ChannelRow {
  std::string label;
  std::size_t depth = 0;
  std::size_t capacity = 0;
  double blocked_ms = 0;
  std::uint64_t delivered = 0;
  std::string to;
};

std::vector<ChannelRow> channels(const RunReport& report) {
  std::vector<ChannelRow> rows;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (const auto& e : report.edges) {
    auto [it, added] = index.emplace(std::pair{e.to, e.lane}, rows.size());
    if (added) {
      rows.push_back({e.from, e.depth, e.capacity, 0, 0, e.to});
    } else {
      rows[it->second].label += fmt::format(",{}", e.from);
    }
    auto& row = rows[it->second];
    row.blocked_ms += e.blocked_ms;
    row.delivered += e.delivered;
  }
  for (auto& row : rows) {
    row.label = fmt::format("{} -> {}", row.label, row.to);
  }
  for (const auto& [key, i] : index)
    if (!key.second.empty()) rows[i].label = fmt::format("{} [{}]", rows[i].label, key.second);
  return rows;
}

std::string bar(std::size_t depth, std::size_t capacity, int width) {
  const auto filled = capacity == 0 ? 0
                                    : static_cast<int>((static_cast<double>(std::min(depth, capacity)) * width +
                                                        static_cast<double>(capacity) - 1) /
                                                       static_cast<double>(capacity));
  return fmt::format("[{:#<{}}{:.<{}}]", "", filled, "", width - filled);
}

std::string fitted(std::string line, int width) {
  if (width > 1 && line.size() >= static_cast<std::size_t>(width)) line.resize(static_cast<std::size_t>(width - 1));
  line += '\n';
  return line;
}

}  // namespace



std::string render_live_frame(const RunReport& now, const RunReport& previous, double seconds, int width) {
  std::size_t name_width = 5;
  for (const auto& s : now.stages) name_width = std::max(name_width, s.name.size());
  std::string out;
  out += fitted(fmt::format("weir: '{}' {} {:.1f}s{}", now.pipeline, to_string(now.status), now.duration_s,
                            now.status == RunStatus::running ? "  (Ctrl-C drains, twice forces)" : ""),
                width);
  out += fitted(fmt::format("{:<{}} {:>4} {:>10} {:>11} {:>11}  {}", "stage", name_width, "rep", "msg/s", "in", "out",
                            "other"),
                width);
  for (const auto& s : now.stages) {
    const StageReport* before = find_stage(previous, s.name);
    std::string rate = "-";
    if (before && seconds > 0)
      rate = fmt::format("{:.1f}", static_cast<double>(throughput(s) - throughput(*before)) / seconds);
    std::string other;
    const std::pair<const char*, std::uint64_t> extra[] = {{"filtered", s.filtered}, {"dead", s.dead_lettered},
                                                           {"failed", s.failed},     {"dropped", s.dropped},
                                                           {"abandoned", s.abandoned}};
    for (const auto& [what, count] : extra)
      if (count) other += fmt::format("{}{} {}", other.empty() ? "" : ", ", what, count);
    const std::string taken = s.kind == "source" ? "-" : std::to_string(s.received);
    out += fitted(fmt::format("{:<{}} {:>4} {:>10} {:>11} {:>11}  {}", s.name, name_width, s.replicas, rate, taken,
                              s.emitted, other),
                  width);
  }
  const auto rows = channels(now);
  const auto before_rows = channels(previous);
  if (rows.empty()) return out;
  std::size_t label_width = 7;
  for (const auto& row : rows) label_width = std::max(label_width, row.label.size());
  label_width = std::min<std::size_t>(label_width, static_cast<std::size_t>(std::max(10, width / 3)));
  const int bar_width = std::clamp(width - static_cast<int>(label_width) - 40, 10, 40);
  out += fitted(fmt::format("{:<{}} {:<{}} {:>6}/{:<6}  {}", "channel", label_width, "fill", bar_width + 2, "depth",
                            "cap", "state"),
                width);
  for (const auto& row : rows) {
    const ChannelRow* before = nullptr;
    for (const auto& b : before_rows)
      if (b.label == row.label) before = &b;
    const StageReport* reader = find_stage(now, row.to);
    const StageReport* reader_before = find_stage(previous, row.to);
    // "Blocked" and "starved" describe the last refresh interval, so they
    // come from the growth of the waiting times, backed by the depth.
    const bool blocked = (before && row.blocked_ms > before->blocked_ms) || (row.capacity && row.depth >= row.capacity);
    const bool starved =
        row.depth == 0 && reader && reader_before && reader->starved_ms > reader_before->starved_ms;
    std::string state = blocked ? "writers blocked" : starved ? "readers starved" : "";
    if (state.empty()) state = before && row.delivered > before->delivered ? "flowing" : "idle";
    if (now.status != RunStatus::running) state = "closed";
    std::string label = row.label.size() > label_width ? row.label.substr(0, label_width) : row.label;
    out += fitted(fmt::format("{:<{}} {} {:>6}/{:<6}  {}", label, label_width, bar(row.depth, row.capacity, bar_width),
                              row.depth, row.capacity, state),
                  width);
  }
  return out;
}

LiveView::LiveView(const Pipeline& pipeline, std::FILE* out, std::chrono::milliseconds period)
    : pipeline_(pipeline), out_(out), period_(period) {
  thread_ = std::thread([this] { loop(); });
}

LiveView::~LiveView() { stop(); }

void LiveView::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LiveView::finish(const RunReport& final_report) {
  stop();
  draw(final_report);
}

void LiveView::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    draw(pipeline_.stats());
    lock.lock();
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

std::string erase_frame(int lines) { return lines ? fmt::format("\x1b[{}A\r\x1b[J", lines) : std::string(); }

void LiveView::print_above(std::string_view text) {
  std::lock_guard lock(screen_mutex_);
  std::string out = erase_frame(lines_drawn_);
  out += text;
  out += body_;
  std::fwrite(out.data(), 1, out.size(), out_);
  std::fflush(out_);
}

void LiveView::draw(const RunReport& now) {
  const auto time = std::chrono::steady_clock::now();
  const double seconds = lines_drawn_ ? std::chrono::duration<double>(time - previous_time_).count() : 0.0;
  std::string body = render_live_frame(now, previous_, seconds, terminal_width(out_));
  {
    std::lock_guard lock(screen_mutex_);
    std::string frame = erase_frame(lines_drawn_);
    frame += body;
    body_ = std::move(body);
    lines_drawn_ = static_cast<int>(std::count(body_.begin(), body_.end(), '\n'));
    std::fwrite(frame.data(), 1, frame.size(), out_);
    std::fflush(out_);
  }
  previous_ = now;
  previous_time_ = time;
}

void LiveViewLogSink::attach(LiveView* view) {
  std::lock_guard lock(mutex_);
  view_ = view;
}

void LiveViewLogSink::sink_it_(const spdlog::details::log_msg& message) {
  spdlog::memory_buf_t text;
  formatter_->format(message, text);
  if (view_) {
    view_->print_above(std::string_view(text.data(), text.size()));
  } else {
    std::fwrite(text.data(), 1, text.size(), out_);
  }
}

bool live_view_wanted(bool progress, bool no_progress) {
  if (no_progress) return false;
  return progress || isatty(STDERR_FILENO);
}

}  // namespace weir::cli
