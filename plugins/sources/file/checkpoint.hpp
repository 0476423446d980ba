#pragma once
// The offsets file of the file source: one line per file, `inode device
// offset path`. Written to a temporary name and renamed over the old one, so
// a crash leaves either the old offsets or the new, never half of each.

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

namespace weir::weir_std {

struct FilePosition {
  std::uint64_t inode = 0;
  std::uint64_t device = 0;
  std::uint64_t offset = 0;
};

using Checkpoint = std::map<std::string, FilePosition>;

// Throws std::runtime_error naming the line when the file is not ours.
inline Checkpoint load_checkpoint(const std::filesystem::path& file) {
  Checkpoint checkpoint;
  std::ifstream in(file);
  if (!in) return checkpoint;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    FilePosition position;
    std::string path;
    if (!(fields >> position.inode >> position.device >> position.offset) || !std::getline(fields >> std::ws, path) ||
        path.empty())
      throw std::runtime_error(file.string() + ":" + std::to_string(number) +
                               ": not a checkpoint line (inode device offset path)");
    checkpoint[path] = position;
  }
  return checkpoint;
}

namespace detail {

inline void write_all(int fd, std::string_view bytes, const std::filesystem::path& file) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "writing " + file.string());
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

inline void sync_or_throw(int fd, const std::filesystem::path& file) {
  if (::fsync(fd) != 0) throw std::system_error(errno, std::generic_category(), "fsync of " + file.string());
}

inline std::filesystem::path folder_of(const std::filesystem::path& file) {
  return file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
}

}  // namespace detail

// Durable and atomic: the temporary file is written and fsync'ed, renamed over
// the old one, and the folder fsync'ed so the rename itself survives a crash
// of the machine.
inline void save_checkpoint(const std::filesystem::path& file, const Checkpoint& checkpoint) {
  std::string text;
  for (const auto& [path, position] : checkpoint)
    text += std::to_string(position.inode) + ' ' + std::to_string(position.device) + ' ' +
            std::to_string(position.offset) + ' ' + path + '\n';
  std::filesystem::path temporary = file;
  temporary += ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + temporary.string());
  try {
    detail::write_all(fd, text, temporary);
    detail::sync_or_throw(fd, temporary);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  std::filesystem::rename(temporary, file);
  const std::filesystem::path folder = detail::folder_of(file);
  const int folder_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder_fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + folder.string());
  const int synced = ::fsync(folder_fd);
  const int error = errno;
  ::close(folder_fd);
  if (synced != 0) throw std::system_error(error, std::generic_category(), "fsync of " + folder.string());
}

// At start-up: the checkpoint's folder exists (created if missing) and a file
// can be created in it. Throws std::system_error saying what failed.
inline void prepare_checkpoint_folder(const std::filesystem::path& file) {
  const std::filesystem::path folder = detail::folder_of(file);
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  if (error) throw std::system_error(error, "cannot create folder " + folder.string());
  std::filesystem::path probe = file;
  probe += ".tmp";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot write in " + folder.string());
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace weir::weir_std
