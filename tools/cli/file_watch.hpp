#pragma once
// `weir run --watch`: watches the pipeline file with inotify (no polling) and
// raises SIGHUP in this process when it has been written or replaced, so a
// change takes the same path as `kill -HUP`: validate, then drain and reload.

#include <weir_std/file_descriptor.hpp>

#include <string>
#include <thread>

namespace weir::cli {

class FileWatch {
 public:
  // Watches the file's folder, which sees both a write in place (an editor
  // that saves over the file, `>`), and a new file renamed over it (editors
  // that save atomically). Throws std::runtime_error when inotify cannot be set up.
  explicit FileWatch(const std::string& file);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

 private:
  void loop();

  std::string name_;  // the file's name in its folder
  weir_std::FileDescriptor inotify_;
  weir_std::FileDescriptor wake_;  // an eventfd: the destructor ends the loop through it
  std::thread thread_;
};

}  // namespace weir::cli
