// Where weir's logs go (docs/embedding.md, "Logging"): by default standard
// error, never standard output; a host's own spdlog sink or logger; or off.
// Built and run by ctest (embed:doc-example:logging_example), which also
// checks that nothing reaches standard output but the program's own lines.

#include "expect.hpp"

#include <weir/host.hpp>
#include <weir/logging.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <string>

namespace {

// A run in which a stage fails a message: weir logs a warning about it.
void run_failing_pipeline() {
  weir::PipelineBuilder b("noisy");
  b.host_input("in");
  b.sink("broken", [](const weir::Message&) { throw weir::PermanentError("this sink fails everything"); })
      .input("in");
  weir::HostPipeline pipeline(std::move(b));
  weir::InputHandle in = pipeline.input("in");
  pipeline.start();
  in.send(weir::Message("x"));
  pipeline.stop(std::chrono::seconds(10));
}

}  // namespace

// Runs `work` with standard output going to a temporary file; returns what
// reached it.
template <class Work>
std::string standard_output_of(Work&& work) {
  std::fflush(stdout);
  FILE* capture = std::tmpfile();
  const int saved = dup(STDOUT_FILENO);
  dup2(fileno(capture), STDOUT_FILENO);
  work();
  std::fflush(stdout);
  dup2(saved, STDOUT_FILENO);
  close(saved);
  std::string text;
  std::rewind(capture);
  for (int c; (c = std::fgetc(capture)) != EOF;) text.push_back(static_cast<char>(c));
  std::fclose(capture);
  return text;
}

int main() {
  // By default the warning goes to standard error: nothing on standard output.
  const std::string stdout_text = standard_output_of(run_failing_pipeline);
  example::expect(stdout_text.empty(), "weir wrote nothing to standard output by default");

  // doc:begin logging
  // Into the host's own sink (here a string stream; a file sink, syslog, ...).
  std::ostringstream lines;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines);
  weir::set_log_sink(sink);
  run_failing_pipeline();

  // Or through the host's own logger, with its level and pattern:
  auto mine = std::make_shared<spdlog::logger>("my-app", sink);
  mine->set_level(spdlog::level::err);  // warnings are not wanted here
  weir::set_logger(mine);

  weir::set_logger(nullptr);  // or nothing at all
  // doc:end logging
  run_failing_pipeline();

  std::printf("the host's sink got: %s", lines.str().c_str());
  example::expect(lines.str().find("this sink fails everything") != std::string::npos, "the warning reached the host's sink");
  example::expect(lines.str().find("[broken]") != std::string::npos, "named after the stage");
  return example::exit_code();
}
