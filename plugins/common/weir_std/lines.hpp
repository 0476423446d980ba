#pragma once
// Splits a byte stream into lines, keeping a partial line until its newline
// arrives. Each line is handed over with how many input bytes it consumed, so
// a file source can checkpoint exactly after the last line it emitted.

#include <string>
#include <string_view>

namespace weir::stdp {

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // on_line(std::string line, std::size_t consumed) -> bool; false stops early
  // (the rest stays pending). Returns false when on_line did.
  template <class OnLine>
  bool feed(std::string_view bytes, OnLine&& on_line) {
    pending_.append(bytes.data(), bytes.size());
    std::size_t start = 0;
    bool keep_going = true;
    while (keep_going) {
      std::size_t newline = pending_.find('\n', start);
      if (newline == std::string::npos) {
        // An over-long line is cut rather than buffered without bound.
        if (pending_.size() - start < max_line_bytes_) break;
        newline = start + max_line_bytes_;
        keep_going = on_line(pending_.substr(start, max_line_bytes_), max_line_bytes_);
        start = newline;
        continue;
      }
      std::size_t end = newline;
      if (end > start && pending_[end - 1] == '\r') --end;
      keep_going = on_line(pending_.substr(start, end - start), newline + 1 - start);
      start = newline + 1;
    }
    pending_.erase(0, start);
    return keep_going;
  }

  // Hands over an unterminated last line (end of input).
  template <class OnLine>
  bool finish(OnLine&& on_line) {
    if (pending_.empty()) return true;
    std::string rest = std::move(pending_);
    pending_.clear();
    std::size_t consumed = rest.size();
    return on_line(std::move(rest), consumed);
  }

  void reset() noexcept { pending_.clear(); }
  std::size_t pending_bytes() const noexcept { return pending_.size(); }

 private:
  std::size_t max_line_bytes_;
  std::string pending_;
};

}  // namespace weir::stdp
