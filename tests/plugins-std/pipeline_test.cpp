// Every standard plugin at work in a real pipeline: its example stage, fed
// and drained by stand-ins, runs to a drained end with balanced books.

#include "harness.hpp"

#include <weir/config.hpp>
#include <weir/pipeline.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

using namespace weir::test;

TEST_CASE("pipelines: each plugin's example stage runs drained with balanced books", "[plugins][pipeline]") {
  for (const weir::PluginEntry* entry : registry().all()) {
    INFO(weir::to_string(entry->kind()) << " " << entry->name());
    if (needs_a_server(*entry) || runs_only_on_a_network(*entry)) continue;  // see the compliance test
    // The socket source listens until it is stopped: tests/integration/socket_syslog.py runs it.
    if (entry->kind() == weir::Kind::source && entry->name() == "socket") continue;
    TempDir dir;
    // Input for the sources that read it: a log file, and an empty stdin.
    std::filesystem::create_directories(dir / "logs");
    append_file(dir / "logs/app.log", "2026-11-22T01:00:00Z error disk full\nnot a log line\n");
    int saved_stdin = ::dup(0);
    int empty = ::open("/dev/null", O_RDONLY);
    ::dup2(empty, 0);
    ::close(empty);
    CapturedStdout quiet(dir / "stdout.txt");

    std::string yaml = pipeline_around_example(*entry, dir, 20);
    INFO(yaml);
    weir::RunReport report;
    {
      weir::Pipeline pipeline(weir::load_pipeline_string(yaml, registry()), registry());
      pipeline.start();
      report = pipeline.wait();
    }
    ::dup2(saved_stdin, 0);
    ::close(saved_stdin);
    quiet.text();  // Catch reports to standard output: restore it first
    CHECK(weir::to_string(report.status) == "drained");
    CHECK(report.errors.empty());
    CHECK(report.balanced());
    for (const auto& stage : report.stages) {
      INFO("stage " << stage.name);
      // A source takes no inputs; what it produced is counted as emitted.
      if (stage.kind != "source")
        CHECK(stage.received == stage.emitted + stage.filtered + stage.dead_lettered + stage.failed);
      CHECK(stage.abandoned == 0);
    }
  }
}
