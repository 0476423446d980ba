#pragma once
// Waiting that parks the thread and wakes as soon as a stop is requested:
// timed waits on a condition variable bound to a stop token, and readiness of
// file descriptors through poll() with an eventfd the stop request signals.

#include <weir/message.hpp>
#include <weir_std/file_descriptor.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>
#include <system_error>
#include <vector>

namespace weir::weir_std {

// Parks until `deadline`; false when `stop` was requested first.
inline bool wait_until(std::stop_token stop, Clock::time_point deadline) {
  std::mutex mutex;
  std::condition_variable_any wakeup;
  std::unique_lock lock(mutex);
  wakeup.wait_until(lock, stop, deadline, [] { return false; });
  return !stop.stop_requested();
}

// An eventfd that becomes readable when a stop is requested: add it to a
// poll() or epoll set beside the descriptors a thread waits on, and the
// thread leaves its wait at once when the pipeline stops.
class StopEvent {
 public:
  explicit StopEvent(std::stop_token stop)
      : event_(open_eventfd(EFD_CLOEXEC | EFD_NONBLOCK)), on_stop_(std::move(stop), [fd = event_.get()] {
          std::uint64_t one = 1;
          [[maybe_unused]] auto written = ::write(fd, &one, sizeof one);
        }) {}
  StopEvent(const StopEvent&) = delete;
  StopEvent& operator=(const StopEvent&) = delete;

  int fd() const noexcept { return event_.get(); }

 private:
  // Order matters both ways: the descriptor exists before the callback is
  // registered (it may run at once, in on_stop_'s constructor), and outlives
  // it: on_stop_'s destructor waits for a callback running on another
  // thread, only then does the descriptor close.
  FileDescriptor event_;
  std::stop_callback<std::function<void()>> on_stop_;
};

// poll() on some descriptors plus the stop's eventfd, so a thread blocked on
// input leaves at once when the pipeline stops.
class StopAwarePoll {
 public:
  explicit StopAwarePoll(std::stop_token stop) : stop_(std::move(stop)) {}

  // The index in `fds` of the first descriptor that is readable (or hung up),
  // or -1 once stop was requested.
  int wait(const std::vector<int>& fds) {
    std::vector<pollfd> polled;
    for (int fd : fds) polled.push_back({fd, POLLIN, 0});
    polled.push_back({stop_.fd(), POLLIN, 0});
    for (;;) {
      int ready = ::poll(polled.data(), polled.size(), -1);
      if (ready < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "poll");
      }
      if (polled.back().revents != 0) return -1;
      for (std::size_t i = 0; i + 1 < polled.size(); ++i)
        if (polled[i].revents != 0) return static_cast<int>(i);
    }
  }

 private:
  StopEvent stop_;
};

}  // namespace weir::weir_std
