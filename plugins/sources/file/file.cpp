// file (source): lines from a file or a glob of files. With `follow` it keeps
// reading like `tail -F`: new lines, new files, rotation (a new file under the
// same name) and truncation, parked on inotify while nothing changes.
// With a checkpoint, every line is acknowledged end to end, and the offsets
// file moves past a line only once the pipeline has finished with it
// (checkpoint_keeper.hpp), so a restart after a crash loses no line.

#include "checkpoint_keeper.hpp"

#include <weir_std/file_descriptor.hpp>
#include <weir_std/lines.hpp>
#include <weir_std/option_checks.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>

#include <fcntl.h>
#include <glob.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <list>
#include <optional>
#include <set>

namespace weir::weir_std {
namespace {

enum class StartAt { beginning, end };

const Option<std::filesystem::path> path{
    .name = "path",
    .description = "A file, or a glob pattern (`logs/*.log`); with `follow`, wildcards only in the file name",
    .required = true,
    .example = "logs/app.log"};
const Option<bool> follow_files{.name = "follow",
                                .description = "Keep reading like `tail -F`: new lines, new matching files, rotation "
                                               "and truncation; ends only when the pipeline stops",
                                .default_value = "false"};
const Option<StartAt> start_at{
    .name = "start_at",
    .description = "Where to start in a file the checkpoint does not know, if it exists at start-up (files that "
                   "appear later are read from the beginning)",
    .default_value = "beginning",
    .choices = {{"beginning", StartAt::beginning}, {"end", StartAt::end}}};
const Option<std::filesystem::path> checkpoint{
    .name = "checkpoint",
    .description = "A file that keeps each file's offset after the last line the pipeline has finished with (every "
                   "sink wrote it durably, or it was filtered, failed or dead-lettered), so a restart, even after "
                   "kill -9, resumes there without losing a line; written atomically and fsync'ed; its folder is "
                   "created (by start()). Unset keeps none. With replicas, each replica adds `.N`",
    .example = "state/app.offsets"};
const Option<Value::Duration> checkpoint_interval{
    .name = "checkpoint_interval",
    .description = "The least time between two saves of the checkpoint; 0 saves as soon as lines are finished "
                   "(each save waits for its fsync)",
    .default_value = "0s",
    .min = 0};
const Option<std::int64_t> max_in_flight{
    .name = "max_in_flight",
    .description = "With a checkpoint: at most this many lines are read ahead of the saved checkpoint, so at most "
                   "this many are read again after a crash; reading waits when it is reached",
    .default_value = "8192",
    .min = 1};
const Option<std::string> path_attribute{
    .name = "path_attribute",
    .description = "An attribute that carries the file each line came from; empty adds none",
    .default_value = "''",
    .example = "file"};

bool has_wildcards(std::string_view text) { return text.find_first_of("*?[") != std::string_view::npos; }

// Why `path` cannot be read as lines, or null when it can. A directory opens
// and reads as an error (EISDIR), so it is named before any read.
const char* unreadable(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return std::strerror(errno);
  if (S_ISDIR(info.st_mode)) return "it is a directory";
  if (::access(path.c_str(), R_OK) != 0) return std::strerror(errno);
  return nullptr;
}

std::vector<std::string> expand(const std::string& pattern) {
  glob_t found{};
  std::vector<std::string> out;
  if (::glob(pattern.c_str(), GLOB_ERR, nullptr, &found) == 0)
    for (std::size_t i = 0; i < found.gl_pathc; ++i) out.emplace_back(found.gl_pathv[i]);
  ::globfree(&found);
  return out;
}

// One open file being read.
struct Tracked {
  std::string path;
  FileDescriptor fd;
  FilePosition position;  // offset: just after the last line handed on
  LineSplitter lines;
  CheckpointKeeper::Ledger* ledger = nullptr;  // with a checkpoint
};

class FileSource final : public Source {
 public:
  // Checks what can be checked without opening anything (the file exists and
  // may be read, the folder to follow exists); the checkpoint is read by
  // start().
  FileSource(const Options& options, const StageContext& context)
      : context_(context),
        logger_(logger_for(context)),
        pattern_(options[path].string()),
        follow_(options[follow_files]),
        start_at_end_(options[start_at] == StartAt::end),
        checkpoint_interval_(options[checkpoint_interval]),
        max_in_flight_(static_cast<std::uint64_t>(options[max_in_flight])),
        max_line_bytes_(static_cast<std::size_t>(options[line_max_bytes].bytes)),
        path_attribute_(options[path_attribute]) {
    std::filesystem::path pattern(pattern_);
    folder_ = pattern.has_parent_path() ? pattern.parent_path() : std::filesystem::path(".");
    if (follow_ && has_wildcards(folder_.string()))
      reject_option(path.name, fmt::format("'{}' has wildcards in its folder part", pattern_),
                    "wildcards only in the file name when following (logs/*.log)");
    if (follow_ && !std::filesystem::is_directory(folder_))
      reject_option(path.name, fmt::format("folder '{}' does not exist", folder_.string()),
                    "an existing folder to watch");
    if (!follow_ && !has_wildcards(pattern_)) {
      if (const char* problem = unreadable(pattern_))
        reject_option(path.name, fmt::format("cannot read '{}': {}", pattern_, problem), "a readable file");
    }
    if (auto file = options.get(checkpoint))
      checkpoint_file_ = context.replicas > 1 ? file->string() + "." + std::to_string(context.replica) : file->string();
  }

  // The checkpoint is read, its folder made and its keeper started here, not
  // in the constructor: validation constructs stages and must touch nothing.
  void start() override {
    if (!checkpoint_file_) return;
    try {
      checkpoint_ = load_checkpoint(*checkpoint_file_);
    } catch (const std::exception& e) {
      reject_option(checkpoint.name, e.what(), "a checkpoint file written by this source, or a new path");
    }
    try {
      prepare_checkpoint_folder(*checkpoint_file_);
    } catch (const std::exception& e) {
      reject_option(checkpoint.name, e.what(), "a path in a folder this process may write in");
    }
    keeper_ = std::make_unique<CheckpointKeeper>(*checkpoint_file_, checkpoint_, max_in_flight_,
                                                 checkpoint_interval_, logger_);
  }

  void run(Emitter& out, std::stop_token stop) override {
    out_ = &out;
    stop_ = stop;
    scan(true);
    if (follow_)
      follow();
    else
      for (auto& file : files_)
        if (!read_available(file, true)) break;
  }

  // The runtime calls it once the pipeline has drained: every line's
  // acknowledgement has settled, so the last save covers all that finished.
  void stop() override {
    if (keeper_) keeper_->close();
  }

 private:
  // Opens matching files not yet tracked and notices rotation and truncation.
  void scan(bool at_start) {
    std::vector<std::string> paths = expand(pattern_);
    std::size_t index = 0;
    for (const std::string& path : paths) {
      // Replicas split the files between them rather than read each twice.
      if (index++ % context_.replicas != context_.replica) continue;
      struct stat info {};
      if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
        // Counted in the report (`warnings`; `weir run --strict` fails on it),
        // once per path, however often a following source scans.
        if (skipped_.insert(path).second)
          logger_->warn("cannot read {}: {}; skipped", path,
                        S_ISDIR(info.st_mode) ? "it is a directory" : "it is not a regular file");
        continue;
      }
      auto tracked = std::find_if(files_.begin(), files_.end(), [&](const Tracked& t) { return t.path == path; });
      if (tracked != files_.end()) {
        if (tracked->position.inode == info.st_ino && tracked->position.device == info.st_dev) {
          if (static_cast<std::uint64_t>(info.st_size) < tracked->position.offset) {
            logger_->info("{} was truncated; reading it again from the start", path);
            ::lseek(tracked->fd.get(), 0, SEEK_SET);
            tracked->position.offset = 0;
            tracked->lines.reset();
            if (keeper_) tracked->ledger = keeper_->open(path, tracked->position);
          }
          continue;
        }
        // Rotated: what the writer added to the old file before moving it
        // is read first, then the new file from its start.
        logger_->info("{} was replaced (rotation); finishing the old file, then reading the new one", path);
        read_available(*tracked, true);
        files_.erase(tracked);
        open(path, info, false);
        continue;
      }
      open(path, info, at_start);
    }
    if (at_start && paths.empty()) logger_->warn("no file matches '{}' yet", pattern_);
  }

  void open(const std::string& path, const struct stat& info, bool existed_at_start) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      if (skipped_.insert(path).second) logger_->warn("cannot read {}: {}; skipped", path, std::strerror(errno));
      return;
    }
    Tracked file{path, std::move(fd), {static_cast<std::uint64_t>(info.st_ino), static_cast<std::uint64_t>(info.st_dev), 0},
                 LineSplitter(max_line_bytes_)};
    auto known = checkpoint_.find(path);
    auto size = static_cast<std::uint64_t>(info.st_size);
    if (known != checkpoint_.end() && known->second.inode == file.position.inode &&
        known->second.device == file.position.device && known->second.offset <= size)
      file.position.offset = known->second.offset;
    else if (existed_at_start && start_at_end_)
      file.position.offset = size;
    ::lseek(file.fd.get(), static_cast<off_t>(file.position.offset), SEEK_SET);
    if (keeper_) file.ledger = keeper_->open(path, file.position);
    files_.push_back(std::move(file));
  }

  // Reads to the current end of `file`, emitting complete lines (and, when
  // `final`, an unterminated last one). False when the source must stop.
  bool read_available(Tracked& file, bool final) {
    std::array<char, 64 * 1024> buffer;
    auto emit_line = [&](std::string line, std::size_t consumed) {
      if (stop_.stop_requested()) return false;
      Message message(std::move(line));
      if (keeper_ && !(message.ack = keeper_->track(*file.ledger, file.position.offset + consumed, stop_)))
        return false;
      if (!path_attribute_.empty()) message.attributes.set(path_attribute_, file.path);
      // Counted as read even if the emit fails: its acknowledgement then
      // settles as abandoned and the checkpoint stays before it.
      file.position.offset += consumed;
      return out_->emit(std::move(message));
    };
    for (;;) {
      ssize_t got = ::read(file.fd.get(), buffer.data(), buffer.size());
      if (got < 0 && errno == EINTR) continue;
      // Lines lost in the middle of a file: the run fails (exit 1), never
      // ends as if the file had been read.
      if (got < 0) throw PermanentError(fmt::format("reading {} failed: {}", file.path, std::strerror(errno)));
      if (got == 0) break;
      if (!file.lines.feed({buffer.data(), static_cast<std::size_t>(got)}, emit_line)) return false;
    }
    // Not final (following a live file): a missing newline means the writer
    // is mid-line, so the rest waits for it.
    return final ? file.lines.finish(emit_line) : true;
  }

  void follow() {
    FileDescriptor inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (inotify.get() < 0) throw PermanentError(fmt::format("inotify_init1: {}", std::strerror(errno)));
    constexpr std::uint32_t events =
        IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB;
    if (::inotify_add_watch(inotify.get(), folder_.c_str(), events) < 0)
      throw PermanentError(fmt::format("cannot watch {}: {}", folder_.string(), std::strerror(errno)));
    StopAwarePoll waiter(stop_);
    // The watch exists before the first read, so a line written after a
    // read reached the end always wakes the poll below.
    for (;;) {
      scan(false);
      for (auto& file : files_)
        if (!read_available(file, false)) return;
      if (waiter.wait({inotify.get()}) < 0) return;
      std::array<char, 16 * 1024> events_buffer;
      while (::read(inotify.get(), events_buffer.data(), events_buffer.size()) > 0) {
      }
    }
  }

  StageContext context_;
  std::shared_ptr<spdlog::logger> logger_;
  std::string pattern_;
  std::filesystem::path folder_;
  bool follow_;
  bool start_at_end_;
  Value::Duration checkpoint_interval_;
  std::uint64_t max_in_flight_;
  std::size_t max_line_bytes_;
  std::string path_attribute_;
  std::optional<std::filesystem::path> checkpoint_file_;
  Checkpoint checkpoint_;  // as loaded at start-up
  std::unique_ptr<CheckpointKeeper> keeper_;
  std::list<Tracked> files_;  // a list: rotation erases while others stay put
  std::set<std::string> skipped_;  // matched but unreadable, warned about once
  Emitter* out_ = nullptr;
  std::stop_token stop_;
};

}  // namespace

WEIR_PLUGIN(file_source) {
    .name = "file",
    .kind = Kind::source,
    .description = "Lines from a file or a glob of files; `follow` keeps reading like tail -F (rotation included); "
                   "a checkpoint file of offsets lets a restart resume",
    .options = {path, follow_files, start_at, checkpoint, checkpoint_interval, max_in_flight, line_max_bytes,
                path_attribute},
    .example = plugin_example,
    .create = construct<FileSource>,
};

}  // namespace weir::weir_std
