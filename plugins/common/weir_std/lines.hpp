#pragma once
// Splits a byte stream into lines, keeping a partial line until its newline
// arrives. Each line is handed over with how many input bytes it consumed, so
// a file source can checkpoint exactly after the last line it emitted.
//
// Every input byte is looked at once (memchr over the new bytes only), and
// what is kept is at most one partial line of `max_line_bytes`: a line of any
// length costs linear time and memory bounded by max_line_bytes. A longer line
// is cut into pieces of exactly max_line_bytes; a line whose length is an
// exact multiple of it gives no empty piece after the last one.

#include <weir/options.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace weir::weir_std {

// The option of a source that reads lines of text (file, stdin), declared
// once so both spell and document it alike. (socket's option of the same name
// also cuts frames and datagrams, and says so.)
inline const Option<Size> line_max_bytes{.name = "max_line_bytes",
                                         .description = "Longer lines are cut into pieces of this size",
                                         .default_value = "1MiB",
                                         .min = 1};

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes > 0 ? max_line_bytes : 1) {}

  // on_line(std::string line, std::size_t consumed) -> bool; false stops
  // early, and the splitter is then to be reset() or dropped (what it held
  // is no longer consistent with the input). Returns false when on_line did.
  template <class OnLine>
  bool feed(std::string_view bytes, OnLine&& on_line) {
    while (!bytes.empty()) {
      // A full pending piece waits for one more byte: a newline right after
      // it ends the line (consumed with it); anything else starts the next piece.
      if (pending_.size() == max_line_bytes_) {
        const bool newline = bytes.front() == '\n';
        if (newline) {
          bytes.remove_prefix(1);
          if (pending_.back() == '\r') pending_.pop_back();
        }
        if (!hand_over(on_line, max_line_bytes_ + (newline ? 1 : 0))) return false;
        continue;
      }
      const std::size_t room = max_line_bytes_ - pending_.size();
      const std::size_t window = std::min(room, bytes.size());
      const void* found = std::memchr(bytes.data(), '\n', window);
      if (!found) {
        grow_for(window);
        pending_.append(bytes.data(), window);
        bytes.remove_prefix(window);
        continue;
      }
      const auto length = static_cast<std::size_t>(static_cast<const char*>(found) - bytes.data());
      grow_for(length);
      pending_.append(bytes.data(), length);
      bytes.remove_prefix(length + 1);
      const std::size_t consumed = pending_.size() + 1;
      if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
      if (!hand_over(on_line, consumed)) return false;
    }
    return true;
  }

  // Hands over an unterminated last line (end of input).
  template <class OnLine>
  bool finish(OnLine&& on_line) {
    if (pending_.empty()) return true;
    return hand_over(on_line, pending_.size());
  }

  void reset() noexcept { pending_.clear(); }
  std::size_t pending_bytes() const noexcept { return pending_.size(); }

 private:
  // Doubling, as std::string would, but never past max_line_bytes.
  void grow_for(std::size_t more) {
    const std::size_t needed = pending_.size() + more;
    if (needed <= pending_.capacity()) return;
    pending_.reserve(std::min(max_line_bytes_, std::max(needed, 2 * pending_.capacity())));
  }

  // The pending line moves out whole, so a huge line is never copied.
  template <class OnLine>
  bool hand_over(OnLine& on_line, std::size_t consumed) {
    std::string line = std::move(pending_);
    pending_ = std::string();
    return on_line(std::move(line), consumed);
  }

  std::size_t max_line_bytes_;
  std::string pending_;
};

}  // namespace weir::weir_std
