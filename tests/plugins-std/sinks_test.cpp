// The standard sinks, written to directly.

#include "harness.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <sstream>
#include <thread>

#include <sys/resource.h>

using namespace weir::test;
using weir::Kind;

namespace {

std::vector<weir::Message> sample_batch() {
  return {message("first", {{"kind", "email_send"}}, 1), message("second \"quoted\"", {}, 2)};
}

}  // namespace

TEST_CASE("stdout: raw and JSON lines", "[plugins][stdout]") {
  TempDir dir;
  auto raw = make_stage("stdout", Kind::sink, "{}");
  auto json = make_stage("stdout", Kind::sink, "{format: json}");
  CapturedStdout captured(dir / "out.txt");
  auto batch = sample_batch();
  as<weir::Sink>(raw).write_batch(batch);
  as<weir::Sink>(json).write(batch[0]);
  std::string text = captured.text();
  CHECK(text ==
        "first\nsecond \"quoted\"\n"
        R"({"id":1,"priority":0,"attributes":{"kind":"email_send"},"payload":"first"})"
        "\n");
}

TEST_CASE("count: counts batches and single writes and logs the total", "[plugins][count]") {
  std::ostringstream log;
  auto logger = std::make_shared<spdlog::logger>("counter", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  auto context = context_for("count");
  context.logger = logger;
  auto stage = plugin("count", Kind::sink).create(options_for("count", Kind::sink, "{log_every: 2}"), context);
  auto batch = sample_batch();
  as<weir::Sink>(stage).write_batch(batch);
  as<weir::Sink>(stage).write(batch[0]);
  stage.stage->stop();
  logger->flush();
  CHECK_THAT(log.str(), Catch::Contains("counted 2 messages so far") && Catch::Contains("counted 3 messages ("));
}

TEST_CASE("null: accepts everything", "[plugins][null]") {
  auto stage = make_stage("null", Kind::sink, "");
  auto batch = sample_batch();
  as<weir::Sink>(stage).write_batch(batch);
  as<weir::Sink>(stage).write(batch[1]);
  stage.stage->flush();
  stage.stage->stop();
}

TEST_CASE("file sink: appends raw or JSON lines, creating folders", "[plugins][file]") {
  TempDir dir;
  auto path = dir / "deep/er/out.jsonl";
  {
    auto stage = make_stage("file", Kind::sink, "{format: json, path: " + quoted(path) + "}");
    stage.stage->start();  // the file is opened by start()
    auto batch = sample_batch();
    as<weir::Sink>(stage).write_batch(batch);
    stage.stage->stop();
  }
  {
    auto raw = make_stage("file", Kind::sink, "{path: " + quoted(path) + "}");
    raw.stage->start();  // the file is opened by start()
    as<weir::Sink>(raw).write(message("appended"));
    raw.stage->stop();
  }
  std::istringstream lines(read_file(path));
  std::string line;
  std::getline(lines, line);
  auto first = nlohmann::json::parse(line);
  CHECK(first["attributes"]["kind"] == "email_send");
  std::getline(lines, line);
  CHECK(nlohmann::json::parse(line)["payload"] == "second \"quoted\"");
  std::getline(lines, line);
  CHECK(line == "appended");
}

// Dead letters and JSON output replaced bytes that are not UTF-8 with
// U+FFFD, so a dead-lettered line could not be replayed as it came (issue 16).
TEST_CASE("file sink: bytes that are not UTF-8 are kept losslessly (base64) and replay exactly",
          "[plugins][file]") {
  TempDir dir;
  auto path = dir / "dead-letters.jsonl";
  const std::string bytes = std::string("latin-1 caf\xe9, a cut \xe2\x82 and NUL ") + '\0' + " \xff\xfe";
  {
    auto stage = make_stage("file", Kind::sink, "{format: json, path: " + quoted(path) + "}");
    stage.stage->start();  // the file is opened by start()
    as<weir::Sink>(stage).write(message(bytes, {{"kind", "text"}, {"raw", "\x80\x81"}}));
    as<weir::Sink>(stage).write(message("plain \xc3\xa9t\xc3\xa9", {{"kind", "text"}}));
    stage.stage->stop();
  }
  std::istringstream lines(read_file(path));
  std::string first_line, second_line;
  std::getline(lines, first_line);
  std::getline(lines, second_line);
  const auto first = nlohmann::json::parse(first_line);
  CHECK_FALSE(first.contains("payload"));
  CHECK(first["payload_base64"].is_string());
  CHECK(first["attributes"]["kind"] == "text");
  CHECK_FALSE(first["attributes"].contains("raw"));
  CHECK(first["attributes_base64"]["raw"] == "gIE=");
  CHECK(nlohmann::json::parse(second_line)["payload"] == "plain \xc3\xa9t\xc3\xa9");  // valid UTF-8 stays text

  // The replay the docs describe: each line through `json` with
  // payload_from: payload gives the payload back byte for byte.
  auto replay = make_stage("json", Kind::processor, "{payload_from: payload, fields: [priority]}");
  auto out = process(replay, message(first_line));
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == bytes);
  out = process(replay, message(second_line));
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "plain \xc3\xa9t\xc3\xa9");
}

TEST_CASE("file sink: `flush: stop` holds lines until flush, `batch` writes each batch", "[plugins][file]") {
  TempDir dir;
  auto held = dir / "held.txt";
  auto stage = make_stage("file", Kind::sink, "{flush: stop, path: " + quoted(held) + "}");
  stage.stage->start();  // the file is opened by start()
  as<weir::Sink>(stage).write(message("one"));
  CHECK(read_file(held).empty());
  stage.stage->flush();
  CHECK(read_file(held) == "one\n");

  auto eager = dir / "eager.txt";
  auto batch_stage = make_stage("file", Kind::sink, "{fsync: true, path: " + quoted(eager) + "}");
  batch_stage.stage->start();  // the file is opened by start()
  auto batch = sample_batch();
  as<weir::Sink>(batch_stage).write_batch(batch);
  CHECK(read_file(eager) == "first\nsecond \"quoted\"\n");
}

namespace {

// Remembers which messages were failed, by payload.
struct FailureLog final : weir::Acknowledgement {
  explicit FailureLog(std::string name, std::vector<std::string>& log) : name_(std::move(name)), log_(&log) {}
  void fail(weir::AckFailure, std::string_view) noexcept override { log_->push_back(name_); }
  std::string name_;
  std::vector<std::string>* log_;
};

}  // namespace

TEST_CASE("file sink: a write that fails after part of a batch was written fails only the earlier calls' messages",
          "[plugins][file]") {
  // The file may not grow past 1.5 MiB (writes past it fail with EFBIG), so a
  // batch of 2.5 MiB under `flush: stop` writes at its first 1 MiB and fails
  // at its second.
  TempDir dir;
  auto path = dir / "limited.txt";
  auto stage = make_stage("file", Kind::sink, "{flush: stop, path: " + quoted(path) + "}");
  stage.stage->start();
  std::vector<std::string> failed;
  auto acked = [&failed](std::string name, std::string payload) {
    auto m = message(std::move(payload));
    m.ack = std::make_shared<FailureLog>(std::move(name), failed);
    return m;
  };
  as<weir::Sink>(stage).write(acked("earlier", "a line of an earlier call"));
  std::vector<weir::Message> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(acked("batch-" + std::to_string(i), std::string(256 * 1024, 'x')));
  rlimit before{};
  ::getrlimit(RLIMIT_FSIZE, &before);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = before;
  limited.rlim_cur = 3 * 512 * 1024;
  ::setrlimit(RLIMIT_FSIZE, &limited);
  bool threw = false;
  try {
    as<weir::Sink>(stage).write_batch(batch);
  } catch (const weir::StageError&) {
    threw = true;
  }
  ::setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, old_handler);
  CHECK(threw);
  // The earlier call's line went out with the first write; this batch's
  // messages are the runtime's to retry, so none of them is failed here.
  INFO("failed: " << failed.size());
  CHECK(failed.empty());
}

TEST_CASE("file sink: rotates by size and keeps N old files", "[plugins][file]") {
  TempDir dir;
  auto path = dir / "log.txt";
  auto stage = make_stage("file", Kind::sink, "{rotate_bytes: 10, rotate_keep: 2, flush: message, path: " + quoted(path) + "}");
  stage.stage->start();  // the file is opened by start()
  for (const char* line : {"aaaa", "bbbb", "cccc", "dddd", "eeee"}) as<weir::Sink>(stage).write(message(line));
  stage.stage->stop();
  CHECK(read_file(path) == "eeee\n");
  CHECK(read_file(dir / "log.txt.1") == "cccc\ndddd\n");
  CHECK(read_file(dir / "log.txt.2") == "aaaa\nbbbb\n");
  CHECK_FALSE(std::filesystem::exists(dir / "log.txt.3"));
}

TEST_CASE("file sink: replicas share one file without tearing lines", "[plugins][file]") {
  TempDir dir;
  auto path = dir / "shared.txt";
  const std::string config = "{rotate_bytes: 4096, rotate_keep: 50, path: " + quoted(path) + "}";
  auto a = make_stage("file", Kind::sink, config, 0, 2);
  a.stage->start();  // the file is opened by start()
  auto b = make_stage("file", Kind::sink, config, 1, 2);
  b.stage->start();  // the file is opened by start()
  auto write = [](weir::StageInstance& stage, char letter) {
    std::vector<weir::Message> batch(10, message(std::string(30, letter)));
    for (int i = 0; i < 50; ++i) as<weir::Sink>(stage).write_batch(batch);
    stage.stage->stop();
  };
  std::jthread one([&] { write(a, 'a'); });
  std::jthread two([&] { write(b, 'b'); });
  one.join();
  two.join();
  std::size_t lines = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    std::istringstream in(read_file(entry.path()));
    for (std::string line; std::getline(in, line); ++lines)
      REQUIRE((line == std::string(30, 'a') || line == std::string(30, 'b')));
  }
  CHECK(lines == 1000);
}

TEST_CASE("file sink: an unwritable path is refused by start(), naming the option", "[plugins][file]") {
  TempDir dir;
  append_file(dir / "plain", "x");
  auto stage = make_stage("file", Kind::sink, "{path: " + quoted(dir / "plain/inside.txt") + "}");
  CHECK_THROWS_WITH(stage.stage->start(), Catch::Contains("option 'path'"));
  // Constructing opens and creates nothing: a path that could be made is not.
  auto later = make_stage("file", Kind::sink, "{path: " + quoted(dir / "new/out.txt") + "}");
  CHECK_FALSE(std::filesystem::exists(dir / "new"));
}
