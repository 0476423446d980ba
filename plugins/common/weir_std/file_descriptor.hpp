#pragma once
// The one owner of a file descriptor in weir's plugins and command: it
// closes the descriptor when destroyed or reset, moves and never copies, so
// no path (an exception, an early return, a rotation) leaks one or closes
// one twice.

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace weir::weir_std {

class FileDescriptor {
 public:
  FileDescriptor() noexcept = default;
  // Takes `fd` (may be -1: owns nothing, as when the call that made it failed).
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

  // Closes the descriptor owned so far, if any, and owns `fd` instead.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A new eventfd (counter 0) with `flags` (EFD_CLOEXEC, EFD_NONBLOCK, ...);
// std::system_error when the system refuses one.
inline FileDescriptor open_eventfd(int flags) {
  FileDescriptor event(::eventfd(0, flags));
  if (!event) throw std::system_error(errno, std::generic_category(), "eventfd");
  return event;
}

}  // namespace weir::weir_std
