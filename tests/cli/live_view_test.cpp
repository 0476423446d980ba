// The pieces behind `weir run`'s live view and /metrics: what they print from
// a report, and their threads beside a running pipeline (also under TSAN).

#include "live_view.hpp"
#include "metrics_server.hpp"
#include "test_stages.hpp"

#include <weir/config.hpp>

#include <httplib.h>
#include <spdlog/logger.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <mutex>
#include <regex>

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
  const std::string text = prometheus_text(r);
  CHECK_THAT(text, Catch::Contains("weir_stage_messages_total{stage=\"sink\",outcome=\"emitted\"} 10\n"));
  CHECK_THAT(text, Catch::Contains("weir_channel_depth{stage=\"sink\",lane=\"a\\\"b\\\\c\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("weir_edge_blocked_seconds_total{from=\"src\",to=\"sink\",lane=\"a\\\"b\\\\c\"} 1.5\n"));
  CHECK_THAT(text, Catch::Contains("weir_stage_starved_seconds_total{stage=\"sink\"} 0.25\n"));
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
  test::register_test_stages(registry);
  Pipeline pipeline(load_pipeline_string(R"(
pipeline: beside
stages:
  src: {plugin: seq, config: {count: 0}}
  mid: {plugin: pass, input: src, capacity: 4, replicas: 2}
  out: {plugin: collect, input: mid}
)",
                                         registry),
                    registry);
  MetricsServer server(Endpoint{"127.0.0.1", 0});
  REQUIRE(server.port() > 0);
  server.serve([&pipeline] { return pipeline.stats(); });
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
      CHECK_THAT(response->body, Catch::Contains("weir_stage_messages_total{stage=\"mid\",outcome=\"emitted\"}"));
    }
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
