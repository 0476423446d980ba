// file (sink): appends raw or JSON lines to a file, with a flush and fsync
// policy and rotation by size (path → path.1 → path.2 …).

#include <weir_std/message_json.hpp>
#include <weir_std/option_checks.hpp>
#include <weir_std/shared_by_stage.hpp>

#include <weir/plugin.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace weir::stdp {
namespace {

constexpr const char* example_yaml =
#include "example.yaml.inc"
    ;

std::span<const OptionSpec> file_sink_options() {
  static const std::vector<OptionSpec> specs = {
      {.name = "path", .type = OptionType::string, .description = "The file to append to",
       .required = true, .example = "out/messages.jsonl"},
      {.name = "format", .type = OptionType::enumeration,
       .description = "`raw` writes the payload; `json` writes id, priority, attributes and payload as one "
                      "JSON object (a value that is not UTF-8 as NAME_base64, base64-encoded)",
       .default_value = "raw", .allowed = {"raw", "json"}},
      {.name = "flush", .type = OptionType::enumeration,
       .description = "When buffered lines reach the file: after every `message`, every `batch`, or only at "
                      "`stop` (and whenever 1 MiB is buffered)",
       .default_value = "batch", .allowed = {"message", "batch", "stop"}},
      {.name = "fsync", .type = OptionType::boolean,
       .description = "fsync after every flush, so written lines survive a machine crash (slow)",
       .default_value = "false"},
      {.name = "rotate_bytes", .type = OptionType::integer,
       .description = "Rotate before the file would exceed this size: path becomes path.1, path.1 becomes "
                      "path.2 …; 0 never rotates",
       .default_value = "0", .min = 0, .example = "104857600"},
      {.name = "rotate_keep", .type = OptionType::integer,
       .description = "Rotated files kept (path.1 … path.N); older ones are deleted", .default_value = "5",
       .min = 1},
      {.name = "create_dirs", .type = OptionType::boolean,
       .description = "Create missing parent folders of `path`", .default_value = "true"},
  };
  return specs;
}

constexpr std::size_t buffer_limit = 1 << 20;

// One open file per path in the process, shared by every replica (and any
// stage) writing there, so rotation and sizes stay consistent.
class OutputFile {
 public:
  OutputFile(std::filesystem::path path, std::uint64_t rotate_bytes, int rotate_keep)
      : path_(std::move(path)), rotate_bytes_(rotate_bytes), rotate_keep_(rotate_keep) {
    open();
  }
  ~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

  void append(std::string_view bytes, bool sync) {
    std::lock_guard lock(mutex_);
    if (rotate_bytes_ != 0 && size_ > 0 && size_ + bytes.size() > rotate_bytes_) rotate();
    while (!bytes.empty()) {
      ssize_t written = ::write(fd_, bytes.data(), bytes.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        throw RetryableError(fmt::format("writing {} failed: {}", path_.string(), std::strerror(errno)));
      }
      bytes.remove_prefix(static_cast<std::size_t>(written));
      size_ += static_cast<std::uint64_t>(written);
    }
    if (sync && ::fsync(fd_) != 0)
      throw RetryableError(fmt::format("fsync of {} failed: {}", path_.string(), std::strerror(errno)));
  }

 private:
  void open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path_.string());
    struct stat info {};
    size_ = ::fstat(fd_, &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
  }

  void rotate() {
    auto numbered = [&](int n) { return std::filesystem::path(path_.string() + "." + std::to_string(n)); };
    std::error_code ignored;
    std::filesystem::remove(numbered(rotate_keep_), ignored);
    for (int n = rotate_keep_ - 1; n >= 1; --n) std::filesystem::rename(numbered(n), numbered(n + 1), ignored);
    ::close(fd_);
    fd_ = -1;
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
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

class FileSink final : public Sink {
 public:
  enum class FlushPolicy { message, batch, stop };

  FileSink(const Options& options, const StageContext& context)
      : json_(options.string("format") == "json"),
        fsync_(options.boolean("fsync")),
        policy_(flush_policy(options.string("flush"))) {
    std::filesystem::path path = options.string("path");
    if (path.empty()) reject_option(context, "path", "it is empty", "the path of a file to append to");
    std::error_code error;
    if (options.boolean("create_dirs") && path.has_parent_path())
      std::filesystem::create_directories(path.parent_path(), error);
    auto absolute = std::filesystem::weakly_canonical(path, error);
    if (error) absolute = path;
    auto rotate_bytes = static_cast<std::uint64_t>(options.integer("rotate_bytes"));
    auto rotate_keep = static_cast<int>(options.integer("rotate_keep"));
    try {
      file_ = shared_by_key<OutputFile>(absolute.string(), [&] {
        return std::make_shared<OutputFile>(absolute, rotate_bytes, rotate_keep);
      });
    } catch (const std::system_error& e) {
      reject_option(context, "path", e.what(), "a file this process may create or append to");
    }
  }

  void write(const Message& message) override {
    const std::size_t earlier = held_.size();
    append_line(buffer_, message, json_);
    hold(message);
    if (policy_ != FlushPolicy::stop || buffer_.size() >= buffer_limit) write_out(earlier);
  }

  void write_batch(std::span<const Message> batch) override {
    const std::size_t earlier = held_.size();
    for (const Message& message : batch) {
      append_line(buffer_, message, json_);
      hold(message);
      if (policy_ == FlushPolicy::message || buffer_.size() >= buffer_limit) write_out(earlier);
    }
    if (policy_ == FlushPolicy::batch) write_out(earlier);
  }

  void flush() override { write_out(held_.size()); }
  void stop() override { write_out(held_.size()); }

 private:
  static FlushPolicy flush_policy(const std::string& name) {
    if (name == "message") return FlushPolicy::message;
    if (name == "stop") return FlushPolicy::stop;
    return FlushPolicy::batch;
  }

  // An acknowledged message is finished only once its line is in the file
  // (with `fsync`, on the disk), so its acknowledgement waits here until then.
  void hold(const Message& message) {
    if (message.ack) held_.push_back(message.ack);
  }

  // `earlier`: how many held acknowledgements belong to messages of earlier
  // calls, which the runtime considers written.
  void write_out(std::size_t earlier) {
    if (buffer_.empty()) return;
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
  std::shared_ptr<OutputFile> file_;
  std::string buffer_;
  std::vector<std::shared_ptr<Acknowledgement>> held_;
};

}  // namespace
}  // namespace weir::stdp

WEIR_PLUGIN(file_sink, sink, "file",
            "Appends each message to a file as a raw line or a JSON line; flush and fsync policy; rotation by size",
            weir::stdp::FileSink, weir::stdp::file_sink_options, weir::stdp::example_yaml)
