#pragma once
// The offsets file of the file source: one line per file, `inode device
// offset path`. Written to a temporary name and renamed over the old one, so
// a crash leaves either the old offsets or the new, never half of each.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>

namespace weir::stdp {

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

inline void save_checkpoint(const std::filesystem::path& file, const Checkpoint& checkpoint) {
  std::filesystem::path temporary = file;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    for (const auto& [path, position] : checkpoint)
      out << position.inode << ' ' << position.device << ' ' << position.offset << ' ' << path << '\n';
    out.flush();
    if (!out) throw std::system_error(errno, std::generic_category(), "writing " + temporary.string());
  }
  std::filesystem::rename(temporary, file);
}

}  // namespace weir::stdp
