#pragma once
// A repeated error is logged the first time, then at most once per interval
// with how many were left out: a failing disk or a broker that is down must
// not flood the log (117,108 lines in 1.1 s was the lesson).

#include <weir/message.hpp>  // weir::Clock

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace weir::weir_std {

class RateLimited {
 public:
  explicit RateLimited(std::chrono::nanoseconds interval = std::chrono::seconds(10)) noexcept
      : interval_(interval) {}

  // Calls log(left_out) when this occurrence is to be logged, where left_out
  // counts the occurrences since the last logged one that were not. Thread-safe.
  template <class Log>
  void operator()(Log&& log) {
    std::uint64_t left_out = 0;
    {
      std::lock_guard lock(mutex_);
      const auto now = Clock::now();
      if (logged_once_ && now - last_ < interval_) {
        ++left_out_;
        return;
      }
      logged_once_ = true;
      last_ = now;
      left_out = left_out_;
      left_out_ = 0;
    }
    log(left_out);
  }

 private:
  std::mutex mutex_;
  std::chrono::nanoseconds interval_;
  bool logged_once_ = false;
  Clock::time_point last_{};
  std::uint64_t left_out_ = 0;
};

// The end of a rate-limited line: how many were left out since the last one.
inline std::string left_out_text(std::uint64_t left_out) {
  return left_out == 0 ? std::string() : " (" + std::to_string(left_out) + " more since the last such line)";
}

}  // namespace weir::weir_std
