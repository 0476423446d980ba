// The pieces behind `weir run`'s live view and /metrics: what they print from
// a report, and their threads beside a running pipeline (also under TSAN).

#include "live_view.hpp"
#include "metrics_server.hpp"
#include "plugin_table.hpp"
#include "test_stages.hpp"

#include <weir/config.hpp>

#include <httplib.h>
#include <spdlog/logger.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <mutex>
#include <regex>
#include <thread>

using namespace weir;
using namespace weir::cli;

namespace {

RunReport two_stage_report(double blocked_ms, double starved_ms, std::size_t depth, std::uint64_t received) {
  RunReport r;
  r.pipeline = "p";
  StageReport src;
  src.name = "src";
  src.kind = "source";
  src.emitted = received;
  StageReport sink;
  sink.name = "sink";
  sink.kind = "sink";
  sink.received = received;
  sink.emitted = received;
  sink.starved_ms = starved_ms;
  r.stages = {src, sink};
  EdgeReport e;
  e.from = "src";
  e.to = "sink";
  e.capacity = 8;
  e.depth = depth;
  e.blocked_ms = blocked_ms;
  e.sent = e.delivered = received;
  r.edges = {e};
  return r;
}

// src (endless) -> mid (2 replicas, capacity 4) -> out, of the test stages.
std::unique_ptr<Pipeline> endless_pipeline(const std::string& name, PluginRegistry& registry) {
  test::register_test_stages(registry);
  return std::make_unique<Pipeline>(load_pipeline_string("pipeline: " + name + R"(
stages:
  src: {plugin: seq, config: {count: 0}}
  mid: {plugin: pass, input: src, capacity: 4, replicas: 2}
  out: {plugin: collect, input: mid}
)",
                                                         registry),
                                    registry);
}

std::string read_all(std::FILE* file) {
  std::rewind(file);
  std::string text;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text.append(buffer, n);
  return text;
}

}  // namespace

TEST_CASE("the metrics address HOST:PORT is parsed or refused with a reason", "[cli]") {
  CHECK(parse_endpoint("127.0.0.1:9464").host == "127.0.0.1");
  CHECK(parse_endpoint("127.0.0.1:9464").port == 9464);
  CHECK(parse_endpoint("[::1]:0").host == "::1");
  CHECK(parse_endpoint(":80").host == "0.0.0.0");
  CHECK_THROWS_WITH(parse_endpoint("localhost"), Catch::Contains("expected HOST:PORT"));
  CHECK_THROWS_WITH(parse_endpoint("h:65536"), Catch::Contains("0 to 65535"));
  CHECK_THROWS_WITH(parse_endpoint("h:"), Catch::Contains("0 to 65535"));
  CHECK_THROWS_WITH(parse_endpoint("h:12x"), Catch::Contains("0 to 65535"));
}

TEST_CASE("the exposition declares every family and escapes label values", "[cli]") {
  RunReport r = two_stage_report(1500, 250, 3, 10);
  r.edges[0].lane = "a\"b\\c";
  r.edges.push_back(r.edges[0]);  // a second edge into the same lane: one depth gauge
  r.edges[1].from = "other";
  r.pipeline = "p\"q";
  const std::string text = prometheus_text(r, {read_process_stats(), 2});
  CHECK_THAT(text, Catch::Contains("weir_stage_messages_total{pipeline=\"p\\\"q\",stage=\"sink\",outcome=\"emitted\"} 10\n"));
  CHECK_THAT(text, Catch::Contains("weir_channel_depth{pipeline=\"p\\\"q\",stage=\"sink\",lane=\"a\\\"b\\\\c\"} 3\n"));
  CHECK_THAT(text, Catch::Contains(
      "weir_edge_blocked_seconds_total{pipeline=\"p\\\"q\",from=\"src\",to=\"sink\",lane=\"a\\\"b\\\\c\"} 1.5\n"));
  CHECK_THAT(text, Catch::Contains("weir_stage_starved_seconds_total{pipeline=\"p\\\"q\",stage=\"sink\"} 0.25\n"));
  CHECK_THAT(text, Catch::Contains("\nprocess_threads{pipeline=\"p\\\"q\"} "));
  CHECK_THAT(text, Catch::Contains("\nweir_taps_open{pipeline=\"p\\\"q\"} 2\n"));
  const std::regex depth_line("\nweir_channel_depth\\{");
  CHECK(std::distance(std::sregex_iterator(text.begin(), text.end(), depth_line), std::sregex_iterator()) == 1);
  // Every sample's family has its HELP and TYPE before it.
  std::string declared;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    const std::string line = text.substr(start, end - start);
    if (line.rfind("# TYPE ", 0) == 0) declared = line.substr(7, line.find(' ', 7) - 7);
    if (line[0] != '#') CHECK(line.substr(0, declared.size()) == declared);
  }
}

TEST_CASE("histograms are cumulative up to +Inf, with the sum and count", "[cli]") {
  RunReport r = two_stage_report(0, 0, 0, 4);
  auto& h = r.stages[1].latency.histogram;
  h.counts[0] = 1;                   // <= 1 us
  h.counts[9] = 2;                   // <= 1 ms
  h.counts[h.bounds_s.size()] = 1;   // above 10 s
  h.sum_s = 12.5;
  const std::string text = prometheus_text(r);
  CHECK_THAT(text, Catch::Contains("# TYPE weir_stage_process_seconds histogram\n"));
  CHECK_THAT(text, Catch::Contains("weir_stage_process_seconds_bucket{pipeline=\"p\",stage=\"sink\",le=\"1e-06\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("weir_stage_process_seconds_bucket{pipeline=\"p\",stage=\"sink\",le=\"0.0005\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("weir_stage_process_seconds_bucket{pipeline=\"p\",stage=\"sink\",le=\"0.001\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("weir_stage_process_seconds_bucket{pipeline=\"p\",stage=\"sink\",le=\"10\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("weir_stage_process_seconds_bucket{pipeline=\"p\",stage=\"sink\",le=\"+Inf\"} 4\n"));
  CHECK_THAT(text, Catch::Contains("weir_stage_process_seconds_sum{pipeline=\"p\",stage=\"sink\"} 12.5\n"));
  CHECK_THAT(text, Catch::Contains("weir_stage_process_seconds_count{pipeline=\"p\",stage=\"sink\"} 4\n"));
  // A source has no input channel: no wait histogram.
  CHECK_THAT(text, !Catch::Contains("weir_stage_wait_seconds_count{pipeline=\"p\",stage=\"src\"}"));
  CHECK_THAT(text, Catch::Contains("weir_channel_wait_seconds_count{pipeline=\"p\",stage=\"sink\",lane=\"default\"} 0\n"));
}

TEST_CASE("the run report reads back from its JSON, as weir top reads it", "[cli]") {
  RunReport r = two_stage_report(1500, 250, 3, 10);
  r.edges[0].lane = "fast";
  r.stages[1].per_replica = {{4, 4, true, 0.5}, {6, 6, false, std::nullopt}};
  r.stages[1].latency = {12.5, 99.0, 10, {}};
  r.bottleneck = "sink";
  r.errors = {"one"};
  r.duration_s = 2.5;
  const RunReport back = RunReport::from_json(r.to_json());
  CHECK(back.to_json() == r.to_json());
  CHECK(back.edges[0].depth == 3);
  CHECK(back.stages[0].name == "src");  // the report's order, not sorted
  CHECK(render_live_frame(back, RunReport{}, 0, 80) == render_live_frame(r, RunReport{}, 0, 80));
  CHECK_THROWS_WITH(RunReport::from_json("{}"), Catch::Contains("not a weir run report"));
  CHECK_THROWS_WITH(RunReport::from_json("[1"), Catch::Contains("not a weir run report"));
  CHECK_THROWS_WITH(RunReport::from_json(R"({"pipeline": "p", "status": "resting", "stages": {}, "edges": []})"),
                    Catch::Contains("unknown status 'resting'"));
}

// The widest line of `text`, in terminal columns (UTF-8 code points).
std::size_t widest_line(const std::string& text) {
  std::size_t widest = 0, line = 0;
  for (const char c : text) {
    if (c == '\n') {
      widest = std::max(widest, line);
      line = 0;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++line;
    }
  }
  return std::max(widest, line);
}

TEST_CASE("durations pick their unit, three significant digits", "[cli]") {
  CHECK(format_seconds(0) == "0 s");
  CHECK(format_seconds(7e-7) == "700 ns");
  CHECK(format_seconds(1.6e-6) == "1.6 µs");
  CHECK(format_seconds(69.6e-6) == "69.6 µs");
  CHECK(format_seconds(0.0099615) == "9.96 ms");
  CHECK(format_seconds(0.9996) == "1 s");  // 999.6 ms would print as 1e+03 ms
  CHECK(format_seconds(0.842) == "842 ms");
  CHECK(format_seconds(24.5) == "24.5 s");
  CHECK(format_seconds(86400) == "86400 s");
}

TEST_CASE("the summary fits 80 columns, with units and blocked time labelled as a sum", "[cli]") {
  RunReport r = two_stage_report(842, 250, 3, 300);
  r.status = RunStatus::drained;
  r.duration_s = 0.91;
  r.stages[1].latency = {9961.5, 24117.2, 300, {}};
  r.stages[1].failed = 2;
  r.stages[1].filtered = 1234567;
  r.stages[1].per_replica.resize(40, ReplicaReport{123456, 123456, false, std::nullopt});
  r.stages[0].latency = {0, 0, 0, {}};
  r.edges[0].lane = "urgent";
  r.edges[0].sent = r.edges[0].delivered = 12345678901;
  r.bottleneck = "sink";
  const std::string table = r.to_table();
  INFO(table);
  CHECK(widest_line(table) <= 80);
  CHECK_THAT(table, Catch::StartsWith("pipeline 'p': drained in 910 ms"));
  CHECK_THAT(table, Catch::Contains("9.96 ms"));
  CHECK_THAT(table, Catch::Contains("24.1 ms"));
  CHECK_THAT(table, Catch::Contains("blocked (sum)"));
  CHECK_THAT(table, Catch::Contains("842 ms"));
  CHECK_THAT(table, Catch::Contains("filtered 1234567, failed 2"));
  CHECK_THAT(table, Catch::Contains("per replica: #0=123456"));
  CHECK_THAT(table, Catch::Contains("#39=123456"));
  SECTION("a stage name too long for its column stands on its own line") {
    r.stages[1].name = std::string(60, 'n');
    r.edges[0].to = r.stages[1].name;
    const std::string long_names = r.to_table();
    INFO(long_names);
    CHECK(widest_line(long_names) <= 80);
    CHECK_THAT(long_names, Catch::Contains("\n" + std::string(60, 'n') + "\n"));
  }
  SECTION("and narrower when asked") {
    r.edges[0].sent = r.edges[0].delivered = 300;
    const std::string narrow = r.to_table(60);
    INFO(narrow);
    CHECK(widest_line(narrow) <= 60);
  }
}

TEST_CASE("weir plugins' tables fit the width, wrapping the long columns", "[cli]") {
  TextTable table{{{"NAME", "KIND", "DESCRIPTION", "LIBRARY"},
                   {"generate", "source", std::string(30, 'x') + " words to wrap over several lines of the column",
                    "/a/very/long/path/to/the/library/libweir_source_generate.so"}},
                  {false, false, true, true},
                  ""};
  const auto at_80 = fitted_text_table(table, 80);
  REQUIRE(at_80);
  CHECK(widest_line(*at_80) <= 80);
  CHECK_THAT(*at_80, Catch::StartsWith("NAME      KIND    DESCRIPTION"));
  CHECK_THAT(*at_80, Catch::Contains("libweir_source_generate.so") || Catch::Contains("generate.so"));
  const auto wide = fitted_text_table(table, 400);
  REQUIRE(wide);
  CHECK(std::count(wide->begin(), wide->end(), '\n') == 2);  // one line a row when there is room
  CHECK_FALSE(fitted_text_table(table, 30));  // the fixed columns and two narrowest ones do not fit
  CHECK(wrapped_text("one two three four", 12, "  ") == "  one two\n  three four\n");
  const std::string path = "library: /" + std::string(90, 'p') + ".so";
  CHECK(wrapped_text(path, 80, "  ") == "  library:\n  /" + std::string(90, 'p') + ".so\n");  // a path stays whole
}

TEST_CASE("the live frame names blocked writers, starved readers and rates", "[cli]") {
  const RunReport before = two_stage_report(100, 100, 0, 100);
  SECTION("the writers waited since the last frame") {
    const std::string frame = render_live_frame(two_stage_report(150, 100, 4, 300), before, 0.5, 60);
    CHECK_THAT(frame, Catch::Contains("src -> sink [#####.....]      4/8       writers blocked"));
    CHECK_THAT(frame, Catch::Contains("sink") && Catch::Contains("400.0"));
  }
  SECTION("a full channel is blocked whatever the times say") {
    const std::string frame = render_live_frame(two_stage_report(100, 100, 8, 100), before, 0.5, 60);
    CHECK_THAT(frame, Catch::Contains("[##########]      8/8       writers blocked"));
  }
  SECTION("empty, and the readers waited") {
    const std::string frame = render_live_frame(two_stage_report(100, 180, 0, 100), before, 0.5, 60);
    CHECK_THAT(frame, Catch::Contains("0/8       readers starved"));
  }
  SECTION("the first frame has no rate yet; a long line is cut to the width") {
    const std::string frame = render_live_frame(two_stage_report(0, 0, 0, 0), RunReport{}, 0, 40);
    CHECK_THAT(frame, Catch::Contains("-"));
    std::size_t start = 0;
    for (std::size_t end; (end = frame.find('\n', start)) != std::string::npos; start = end + 1)
      CHECK(end - start < 40);
  }
}

TEST_CASE("the live view and /metrics run beside a pipeline and end with it", "[cli][tsan]") {
  test::Collected::instance().clear();
  PluginRegistry registry;
  auto owned = endless_pipeline("beside", registry);
  Pipeline& pipeline = *owned;
  MetricsServer server(Endpoint{"127.0.0.1", 0});
  REQUIRE(server.port() > 0);
  server.serve([&pipeline] { return pipeline.stats(); }, {},
               [&pipeline](std::string_view stage, Condition when) { return pipeline.tap(stage, std::move(when)); });
  std::FILE* screen = std::tmpfile();
  REQUIRE(screen);
  pipeline.start();
  {
    LiveView view(pipeline, screen, std::chrono::milliseconds(1));
    auto sink = std::make_shared<LiveViewLogSink>(screen);
    sink->attach(&view);
    spdlog::logger logger("beside", sink);
    httplib::Client client("127.0.0.1", server.port());
    for (int i = 0; i < 20; ++i) {
      logger.info("scrape {}", i);  // printed above the frame while the view thread redraws it
      auto response = client.Get("/metrics");
      REQUIRE(response);
      CHECK(response->status == 200);
      CHECK_THAT(response->body,
                 Catch::Contains("weir_stage_messages_total{pipeline=\"beside\",stage=\"mid\",outcome=\"emitted\"}"));
    }
    // A tap streams beside the scrapes, ends at its limit and detaches.
    auto tapped = client.Get("/tap?stage=mid&limit=3&when=id%3E0");
    REQUIRE(tapped);
    CHECK(tapped->status == 200);
    CHECK(std::count(tapped->body.begin(), tapped->body.end(), '\n') == 3);
    CHECK_THAT(tapped->body, Catch::StartsWith("{\"id\":"));
    auto unknown = client.Get("/tap?stage=nope");
    REQUIRE(unknown);
    CHECK(unknown->status == 404);
    CHECK_THAT(unknown->body, Catch::Contains("its stages: src, mid, out"));
    auto bad = client.Get("/tap?stage=mid&when=id%3E");
    REQUIRE(bad);
    CHECK(bad->status == 400);
    CHECK_THAT(bad->body, Catch::Contains("when: column 4"));
    auto live = client.Get("/report");
    REQUIRE(live);
    CHECK(RunReport::from_json(live->body).stage("mid") != nullptr);
    pipeline.stop();
    // As `weir run` does: the readers of stats() end before wait() writes the final state.
    while (!pipeline.wait_for(std::chrono::hours(1))) {
    }
    view.stop();
    server.stop();
    const RunReport report = pipeline.wait();
    view.finish(report);
    sink->attach(nullptr);
    CHECK(report.status == RunStatus::drained);
    CHECK(report.balanced());
    CHECK_FALSE(client.Get("/metrics"));  // stopped with the run
  }
  const std::string drawn = read_all(screen);
  std::fclose(screen);
  CHECK_THAT(drawn, Catch::Contains("weir: 'beside' drained"));
  CHECK_THAT(drawn, Catch::Contains("\x1b[J"));  // redrawn in place at least once
  CHECK_THAT(drawn, Catch::Contains("src -> mid"));
  CHECK_THAT(drawn, Catch::Contains("[beside] [info] scrape 19\nweir: 'beside' running"));
  test::Collected::instance().clear();
}

TEST_CASE("a tap copies what leaves a stage, drops rather than waits, and detaches", "[cli][tsan]") {
  test::Collected::instance().clear();
  PluginRegistry registry;
  auto owned = endless_pipeline("tapped", registry);
  Pipeline& pipeline = *owned;
  CHECK_THROWS_WITH(pipeline.tap("nope"), Catch::Contains("no stage named 'nope'"));
  CHECK_THROWS_AS(pipeline.tap("mid", {}, 0), std::invalid_argument);
  pipeline.start();
  {
    auto tap = pipeline.tap("mid", {}, 4);
    // Nobody reads: the buffer fills, and the stage goes on without it.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (tap->dropped() == 0 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(tap->dropped() > 0);
    for (int i = 0; i < 4; ++i) {
      auto copy = tap->next(std::chrono::seconds(10));
      REQUIRE(copy);
      CHECK(copy->id != 0);
      CHECK_FALSE(copy->ack);  // a copy holds no acknowledgement open
    }
    auto sink_tap = pipeline.tap("out", Condition::parse("id > 0"), 16);
    auto written = sink_tap->next(std::chrono::seconds(10));
    REQUIRE(written);
    CHECK(written->id > 0);
  }  // detached
  pipeline.stop();
  const RunReport report = pipeline.wait();
  CHECK(report.status == RunStatus::drained);
  CHECK(report.balanced());
  CHECK(report.stage("out")->received == report.stage("src")->emitted);
  test::Collected::instance().clear();
}

TEST_CASE("/health answers while the server runs and /ready says whether the pipeline takes work", "[cli]") {
  MetricsServer server(Endpoint{"127.0.0.1", 0});
  std::mutex mutex;
  std::string not_ready = "starting";
  server.serve([] { return RunReport{}; },
               [&]() {
                 std::lock_guard lock(mutex);
                 return not_ready;
               });
  httplib::Client client("127.0.0.1", server.port());
  auto health = client.Get("/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto ready = client.Get("/ready");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(ready->body == "not ready: starting\n");
  {
    std::lock_guard lock(mutex);
    not_ready.clear();
  }
  ready = client.Get("/ready");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  {
    std::lock_guard lock(mutex);
    not_ready = "stopping";
  }
  ready = client.Get("/ready");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK(ready->body == "not ready: stopping\n");
  auto missing = client.Get("/nothing");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  server.stop();
  CHECK_FALSE(client.Get("/health"));
}

TEST_CASE("stats() from another thread while wait() ends the run", "[cli][tsan]") {
  test::Collected::instance().clear();
  PluginRegistry registry;
  test::register_test_stages(registry);
  Pipeline pipeline(load_pipeline_string(R"(
pipeline: racing
stages:
  src: {plugin: seq, config: {count: 2000}}
  out: {plugin: collect, input: src, capacity: 4}
)",
                                         registry),
                    registry);
  std::FILE* screen = std::tmpfile();
  REQUIRE(screen);
  pipeline.start();
  LiveView view(pipeline, screen, std::chrono::milliseconds(0));  // redraws without pause
  const RunReport report = pipeline.wait();
  view.finish(report);
  std::fclose(screen);
  CHECK(report.status == RunStatus::drained);
  CHECK(pipeline.stats().stage("out")->received == 2000);
  test::Collected::instance().clear();
}
