// The file and stdin sources: reading, checkpoints, following with rotation
// and truncation, and stopping while parked.

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

using namespace weir::test;
using weir::Kind;
using namespace std::chrono_literals;

namespace {

// Like the runtime: a message the pipeline refuses (a forced stop) settles as
// abandoned; the accepted ones are finished before the source is stopped.
std::vector<std::string> read_all(const std::string& config, std::size_t refuse_after = 0) {
  auto stage = make_stage("file", Kind::source, config);
  stage.stage->start();  // reads the checkpoint
  Collector out;
  if (refuse_after)
    out.on_emit = [&](const weir::Message& message) {
      if (out.messages.size() < refuse_after) return true;
      if (message.ack) message.ack->fail(weir::AckFailure::abandoned, "refused");
      return false;
    };
  as<weir::Source>(stage).run(out, {});
  for (auto& message : out.messages) message.ack.reset();
  stage.stage->stop();
  return out.payloads();
}

// Collects from a source running on another thread; waiting for lines parks
// on a condition variable (the generous limit only guards against a hang).
class SharedCollector final : public weir::Emitter {
 public:
  bool emit(weir::Message message) override {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(message.payload));
    arrived_.notify_all();
    return true;
  }
  std::vector<std::string> wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, 60s, [&] { return lines_.size() >= count; });
    return lines_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::string> lines_;
};

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("file source: reads every matching file in order, including an unterminated last line",
          "[plugins][file_source]") {
  TempDir dir;
  append_file(dir / "a.log", "a1\na2\r\n");
  append_file(dir / "b.log", "b1\nb2");
  append_file(dir / "c.txt", "not matched\n");
  auto stage = make_stage("file", Kind::source, "{path: " + quoted(dir / "*.log") + ", path_attribute: from}");
  Collector out;
  as<weir::Source>(stage).run(out, {});
  CHECK(out.payloads() == Lines{"a1", "a2", "b1", "b2"});
  CHECK(out.messages[2].attributes.get("from") == (dir / "b.log").string());
}

// Before issue 16 a line of exactly max_line_bytes gave an extra empty
// message, and huge lines took quadratic time.
TEST_CASE("file source: long lines are cut into pieces of max_line_bytes, with no empty piece after an exact "
          "multiple", "[plugins][file_source]") {
  TempDir dir;
  append_file(dir / "a.log", "abcd\nefghijkl\nx\nabc\r\n" + std::string(10, 'y'));
  CHECK(read_all("{path: " + quoted(dir / "a.log") + ", max_line_bytes: 4}") ==
        Lines{"abcd", "efgh", "ijkl", "x", "abc", "yyyy", "yyyy", "yy"});

  // Lines far longer than one read, at and around multiples of the limit.
  const std::size_t limit = 1 << 20;
  const std::string exact(3 * limit, 'e');
  const std::string over(5 * limit + 7, 'o');
  append_file(dir / "big.log", exact + "\n" + over + "\nend\n");
  const Lines pieces = read_all("{path: " + quoted(dir / "big.log") + ", max_line_bytes: " +
                                std::to_string(limit) + ", checkpoint: " + quoted(dir / "offsets") + "}");
  REQUIRE(pieces.size() == 3 + 6 + 1);
  for (std::size_t i = 0; i < 8; ++i) CHECK(pieces[i] == std::string(limit, i < 3 ? 'e' : 'o'));
  CHECK(pieces[8] == std::string(7, 'o'));
  CHECK(pieces[9] == "end");
  // The offsets handed on add up to the file: a restart reads nothing again.
  CHECK(read_all("{path: " + quoted(dir / "big.log") + ", max_line_bytes: " + std::to_string(limit) +
                 ", checkpoint: " + quoted(dir / "offsets") + "}")
            .empty());
}

TEST_CASE("file source: a checkpoint resumes after the last emitted line", "[plugins][file_source]") {
  TempDir dir;
  auto log = dir / "app.log";
  append_file(log, "1\n2\n3\n4\n");
  const std::string config = "{path: " + quoted(log) + ", checkpoint: " + quoted(dir / "offsets") + "}";
  // The pipeline refuses the second line (a forced stop): it was not taken,
  // so the next run starts with it.
  CHECK(read_all(config, 2) == Lines{"1", "2"});
  CHECK(read_all(config) == Lines{"2", "3", "4"});
  append_file(log, "5\n");
  CHECK(read_all(config) == Lines{"5"});
  CHECK(read_all(config).empty());

  // A different file under the same name (rotated while stopped) starts over.
  std::filesystem::rename(log, dir / "app.log.1");
  append_file(log, "new\n");
  CHECK(read_all(config) == Lines{"new"});
}

TEST_CASE("file source: the checkpoint moves past a line only when it and every line before are finished",
          "[plugins][file_source]") {
  TempDir dir;
  auto log = dir / "app.log";
  append_file(log, "1\n2\n3\n4\n5\n");
  const std::string config = "{path: " + quoted(log) + ", checkpoint: " + quoted(dir / "offsets") + "}";
  {
    auto stage = make_stage("file", Kind::source, config);
    stage.stage->start();  // reads the checkpoint, starts its keeper
    Collector out;
    as<weir::Source>(stage).run(out, {});
    REQUIRE(out.messages.size() == 5);
    for (const auto& message : out.messages) REQUIRE(message.ack);
    // Finished out of order: 1, 3 and 5; 4 failed (the pipeline counted it);
    // 2 is still held when the source stops, as after a crash.
    out.messages[0].ack.reset();
    out.messages[2].ack.reset();
    out.messages[4].ack.reset();
    out.messages[3].ack->fail(weir::AckFailure::failed, "a stage gave up");
    out.messages[3].ack.reset();
    stage.stage->stop();
  }
  // Only line 1 is behind the mark: 2 was unfinished, so 2..5 come again.
  CHECK(read_all(config) == Lines{"2", "3", "4", "5"});
  CHECK(read_all(config).empty());
}

TEST_CASE("file source: a checkpoint folder that is missing is created, one that cannot be written is refused",
          "[plugins][file_source]") {
  TempDir dir;
  auto log = dir / "app.log";
  append_file(log, "1\n");
  CHECK(read_all("{path: " + quoted(log) + ", checkpoint: " + quoted(dir / "new" / "deeper" / "offsets") + "}") ==
        Lines{"1"});
  CHECK(std::filesystem::exists(dir / "new" / "deeper" / "offsets"));
  // A folder that cannot be made (a file is in the way), even as root.
  // Refused by start(): the constructor (which validation runs) creates nothing.
  auto stage = make_stage("file", Kind::source, "{path: " + quoted(log) + ", checkpoint: " + quoted(log / "offsets") + "}");
  CHECK_THROWS_WITH(stage.stage->start(),
                    Catch::Contains("option 'checkpoint'") && Catch::Contains("cannot create folder"));
}

TEST_CASE("file source: start_at end skips what is there at start-up", "[plugins][file_source]") {
  TempDir dir;
  append_file(dir / "app.log", "old\n");
  CHECK(read_all("{start_at: end, path: " + quoted(dir / "app.log") + "}").empty());
}

TEST_CASE("file source: follow sees appends, new files, rotation and truncation, and stops at once",
          "[plugins][file_source]") {
  TempDir dir;
  auto log = dir / "app.log";
  append_file(log, "before\n");
  auto stage = make_stage("file", Kind::source, "{follow: true, path: " + quoted(dir / "*.log") + "}");
  SharedCollector out;
  std::stop_source stop;
  std::jthread runner([&] { as<weir::Source>(stage).run(out, stop.get_token()); });

  CHECK(out.wait_for(1) == Lines{"before"});
  append_file(log, "appended\npartial");
  CHECK(out.wait_for(2) == Lines{"before", "appended"});
  append_file(log, " line\n");
  CHECK(out.wait_for(3).back() == "partial line");

  append_file(dir / "other.log", "other\n");
  CHECK(out.wait_for(4).back() == "other");

  // Rotation: the old file moves away (and is no longer matched), a new one
  // takes its name.
  append_file(log, "last of old\n");
  std::filesystem::rename(log, dir / "app.log.1");
  append_file(log, "first of new\n");
  auto lines = out.wait_for(6);
  REQUIRE(lines.size() == 6);
  CHECK(lines[4] == "last of old");
  CHECK(lines[5] == "first of new");

  // Truncation in place: reading starts again from the top.
  { std::ofstream truncate(log, std::ios::trunc); }
  append_file(log, "x\n");
  CHECK(out.wait_for(7).back() == "x");

  stop.request_stop();
  runner.join();  // parked on inotify: the stop request must wake it
}

TEST_CASE("file source: bad paths and checkpoints are rejected naming the option", "[plugins][file_source]") {
  TempDir dir;
  CHECK_THROWS_WITH(make_stage("file", Kind::source, "{path: " + quoted(dir / "missing.log") + "}"),
                    Catch::Contains("option 'path'") && Catch::Contains("missing.log"));
  CHECK_THROWS_WITH(make_stage("file", Kind::source, "{follow: true, path: " + quoted(dir / "*/x.log") + "}"),
                    Catch::Contains("option 'path'") && Catch::Contains("wildcards"));
  CHECK_THROWS_WITH(make_stage("file", Kind::source, "{follow: true, path: " + quoted(dir / "nope/x.log") + "}"),
                    Catch::Contains("option 'path'") && Catch::Contains("does not exist"));
  append_file(dir / "app.log", "x\n");
  append_file(dir / "offsets", "this is not a checkpoint\n");
  // The checkpoint is read by start(), not by the constructor (validation opens nothing).
  auto stage = make_stage("file", Kind::source,
                          "{path: " + quoted(dir / "app.log") + ", checkpoint: " + quoted(dir / "offsets") + "}");
  CHECK_THROWS_WITH(stage.stage->start(), Catch::Contains("option 'checkpoint'") && Catch::Contains(":1:"));
}

namespace {

// Puts the read end of a pipe on descriptor 0 for the lifetime of the object.
class PipedStdin {
 public:
  PipedStdin() {
    REQUIRE(::pipe(fds_) == 0);
    saved_ = ::dup(0);
    ::dup2(fds_[0], 0);
    ::close(fds_[0]);
  }
  ~PipedStdin() {
    close_writer();
    ::dup2(saved_, 0);
    ::close(saved_);
  }
  void write(const std::string& text) { REQUIRE(::write(fds_[1], text.data(), text.size()) == static_cast<ssize_t>(text.size())); }
  void close_writer() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
  int saved_ = -1;
};

}  // namespace

TEST_CASE("stdin: lines until end of input", "[plugins][stdin]") {
  PipedStdin input;
  input.write("one\ntwo\r\nthree");
  input.close_writer();
  auto stage = make_stage("stdin", Kind::source, "{max_line_bytes: 4}");
  Collector out;
  as<weir::Source>(stage).run(out, {});
  CHECK(out.payloads() == Lines{"one", "two", "thre", "e"});  // long lines are cut at max_line_bytes
}

TEST_CASE("stdin: a stop request ends the wait for input", "[plugins][stdin]") {
  PipedStdin input;
  input.write("first\n");
  auto stage = make_stage("stdin", Kind::source, "");
  SharedCollector out;
  std::stop_source stop;
  std::jthread runner([&] { as<weir::Source>(stage).run(out, stop.get_token()); });
  CHECK(out.wait_for(1) == Lines{"first"});
  stop.request_stop();
  runner.join();  // the writer is still open: only the stop can end the run
}
