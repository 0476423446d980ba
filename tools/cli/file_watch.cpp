#include "file_watch.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <poll.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace weir::cli {

FileWatch::FileWatch(const std::string& file) {
  const std::filesystem::path path = std::filesystem::absolute(file);
  name_ = path.filename().string();
  inotify_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!inotify_ || !wake_ ||
      ::inotify_add_watch(inotify_.get(), path.parent_path().c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    const int error = errno;
    throw std::runtime_error(fmt::format("--watch {}: cannot watch it: {}", file, std::strerror(error)));
  }
  thread_ = std::thread([this] { loop(); });
}

FileWatch::~FileWatch() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

void FileWatch::loop() {
  alignas(inotify_event) std::array<char, 16 * 1024> buffer;
  for (;;) {
    std::array<pollfd, 2> fds{pollfd{inotify_.get(), POLLIN, 0}, pollfd{wake_.get(), POLLIN, 0}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("--watch: waiting for changes failed: {}; no longer watching", std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    // Read every event queued: one save can give several (a close after
    // each write, a rename), and they make one reload.
    bool changed = false;
    for (;;) {
      const ssize_t n = ::read(inotify_.get(), buffer.data(), buffer.size());
      if (n <= 0) break;
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + at);
        if (event->len > 0 && name_ == event->name) changed = true;
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
    if (changed) {
      spdlog::info("--watch: {} changed", name_);
      ::kill(::getpid(), SIGHUP);
    }
  }
}

}  // namespace weir::cli
