// file (sink): appends raw or JSON lines to a file, with a flush and fsync
// policy and rotation by size (path → path.1 → path.2 …).

#include <weir_std/file_descriptor.hpp>
#include <weir_std/message_json.hpp>
#include <weir_std/shared_by_stage.hpp>

#include <weir/plugin.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace weir::weir_std {
namespace {

enum class FlushPolicy { message, batch, stop };

const Option<std::filesystem::path> path{
    .name = "path", .description = "The file to append to", .required = true, .example = "out/messages.jsonl"};
const Option<FlushPolicy> flush_policy{
    .name = "flush",
    .description = "When buffered lines reach the file: after every `message`, every `batch`, or only at `stop` "
                   "(and whenever 1 MiB is buffered)",
    .default_value = "batch",
    .choices = {{"message", FlushPolicy::message}, {"batch", FlushPolicy::batch}, {"stop", FlushPolicy::stop}}};
const Option<bool> fsync{.name = "fsync",
                         .description = "fsync after every flush, so written lines survive a machine crash (slow)",
                         .default_value = "false"};
const Option<Size> rotate_bytes{
    .name = "rotate_bytes",
    .description = "Rotate before the file would exceed this size: path becomes path.1, path.1 becomes path.2 …; "
                   "0 never rotates",
    .default_value = "0",
    .example = "100MiB"};
const Option<std::int64_t> rotate_keep{.name = "rotate_keep",
                                       .description = "Rotated files kept (path.1 … path.N); older ones are deleted",
                                       .default_value = "5",
                                       .min = 1};
const Option<bool> create_dirs{
    .name = "create_dirs", .description = "Create missing parent folders of `path`", .default_value = "true"};

constexpr std::size_t buffer_limit = 1 << 20;

// One open file per path in the process, shared by every replica (and any
// stage) writing there, so rotation and sizes stay consistent.
class OutputFile {
 public:
  OutputFile(std::filesystem::path path, std::uint64_t rotate_bytes, int rotate_keep)
      : path_(std::move(path)), rotate_bytes_(rotate_bytes), rotate_keep_(rotate_keep) {
    open();
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

  void append(std::string_view bytes, bool sync) {
    std::lock_guard lock(mutex_);
    if (rotate_bytes_ != 0 && size_ > 0 && size_ + bytes.size() > rotate_bytes_) rotate();
    while (!bytes.empty()) {
      ssize_t written = ::write(fd_.get(), bytes.data(), bytes.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        throw RetryableError(fmt::format("writing {} failed: {}", path_.string(), std::strerror(errno)));
      }
      bytes.remove_prefix(static_cast<std::size_t>(written));
      size_ += static_cast<std::uint64_t>(written);
    }
    if (sync && ::fsync(fd_.get()) != 0)
      throw RetryableError(fmt::format("fsync of {} failed: {}", path_.string(), std::strerror(errno)));
  }

 private:
  void open() {
    fd_.reset(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (!fd_) throw std::system_error(errno, std::generic_category(), "cannot open " + path_.string());
    struct stat info {};
    size_ = ::fstat(fd_.get(), &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
  }

  void rotate() {
    auto numbered = [&](int n) { return std::filesystem::path(path_.string() + "." + std::to_string(n)); };
    std::error_code ignored;
    std::filesystem::remove(numbered(rotate_keep_), ignored);
    for (int n = rotate_keep_ - 1; n >= 1; --n) std::filesystem::rename(numbered(n), numbered(n + 1), ignored);
    fd_.reset();
    std::filesystem::rename(path_, numbered(1), ignored);
    try {
      open();
    } catch (const std::system_error& e) {
      throw RetryableError(fmt::format("rotating {}: {}", path_.string(), e.what()));
    }
  }

  std::mutex mutex_;
  std::filesystem::path path_;
  std::uint64_t rotate_bytes_;
  int rotate_keep_;
  FileDescriptor fd_;
  std::uint64_t size_ = 0;
};

// The file is created and opened by start(), never by the constructor:
// validating a pipeline touches no file.
class FileSink final : public Sink {
 public:
  FileSink(const Options& options, const StageContext&)
      : json_(options[line_format] == LineFormat::json),
        fsync_(options[fsync]),
        policy_(options[flush_policy]),
        path_(options[path]),
        create_dirs_(options[create_dirs]),
        rotate_bytes_(options[rotate_bytes].bytes),
        rotate_keep_(static_cast<int>(options[rotate_keep])) {}

  void start() override {
    std::error_code error;
    if (create_dirs_ && path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path(), error);
    auto absolute = std::filesystem::weakly_canonical(path_, error);
    if (error) absolute = path_;
    try {
      file_ = shared_by_key<OutputFile>(absolute.string(), [&] {
        return std::make_shared<OutputFile>(absolute, rotate_bytes_, rotate_keep_);
      });
    } catch (const std::system_error& e) {
      reject_option(path.name, e.what(), "a file this process may create or append to");
    }
  }

  void write(const Message& message) override {
    const std::size_t earlier = held_.size();
    append_line(buffer_, message, json_);
    hold(message);
    if (policy_ != FlushPolicy::stop || buffer_.size() >= buffer_limit) write_out(earlier);
  }

  void write_batch(std::span<const Message> batch) override {
    std::size_t earlier = held_.size();
    for (const Message& message : batch) {
      append_line(buffer_, message, json_);
      hold(message);
      if (policy_ == FlushPolicy::message || buffer_.size() >= buffer_limit) {
        write_out(earlier);
        earlier = 0;  // all held so far is written; what is held next is this batch's
      }
    }
    if (policy_ == FlushPolicy::batch) write_out(earlier);
  }

  void flush() override { write_out(held_.size()); }
  void stop() override { write_out(held_.size()); }

 private:
  // An acknowledged message is finished only once its line is in the file
  // (with `fsync`, on the disk), so its acknowledgement waits here until then.
  void hold(const Message& message) {
    if (message.ack) held_.push_back(message.ack);
  }

  // `earlier`: how many held acknowledgements belong to messages of earlier
  // calls, which the runtime considers written.
  void write_out(std::size_t earlier) {
    if (buffer_.empty() || !file_) return;
    // Cleared even when the write fails: the runtime then writes the batch
    // again message by message, and keeping the bytes would double them.
    std::string pending = std::move(buffer_);
    buffer_.clear();
    try {
      file_->append(pending, fsync_);
    } catch (const StageError& e) {
      // The lines of earlier calls are lost with the buffer: say so to their
      // sources. This call's messages are the runtime's to retry.
      for (std::size_t i = 0; i < earlier && i < held_.size(); ++i) held_[i]->fail(AckFailure::failed, e.what());
      held_.clear();
      throw;
    }
    held_.clear();  // written: the acknowledgements may fire
  }

  bool json_;
  bool fsync_;
  FlushPolicy policy_;
  std::filesystem::path path_;
  bool create_dirs_;
  std::uint64_t rotate_bytes_;
  int rotate_keep_;
  std::shared_ptr<OutputFile> file_;
  std::string buffer_;
  std::vector<std::shared_ptr<Acknowledgement>> held_;
};

}  // namespace

WEIR_PLUGIN(file_sink) {
    .name = "file",
    .kind = Kind::sink,
    .description =
        "Appends each message to a file as a raw line or a JSON line; flush and fsync policy; rotation by size",
    .options = {path, line_format, flush_policy, fsync, rotate_bytes, rotate_keep, create_dirs},
    .example = plugin_example,
    .create = construct<FileSink>,
};

}  // namespace weir::weir_std
