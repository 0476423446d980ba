// The run report in C++ (docs/embedding.md, "The run report"): what stats()
// returns while running and after the run, the per-replica entries of
// replicas scaled away, outputs versus unrouted, balanced() and to_json().
// Built and run by ctest (embed:doc-example:report_example).

#include "expect.hpp"

#include <weir/host.hpp>

#include <cstdio>
#include <string>

int main() {
  // doc:begin report
  weir::PipelineBuilder b("report");
  b.host_input("in");
  b.processor("split",
              [](weir::Message& m, weir::Emitter& out) {
                out.emit(weir::Message(m.payload + "/a"));  // two outputs per input
                out.emit(weir::Message(m.payload + "/b"));
              })
      .input("in")
      .replicas(3);
  b.sink("only_a", [](const weir::Message&) {}).input("split").when("payload contains \"/a\"");
  weir::HostPipeline pipeline(std::move(b));
  weir::InputHandle in = pipeline.input("in");
  pipeline.start();
  for (int i = 0; i < 10; ++i) in.send(weir::Message(std::to_string(i)));
  pipeline.scale("split", 1);  // two replicas leave; their entries stay in the report

  const weir::RunReport live = pipeline.stats();  // a snapshot: status `running`
  const weir::RunReport report = pipeline.stop(std::chrono::seconds(10));

  const weir::StageReport& split = *report.stage("split");  // nullptr for a name not in the pipeline
  // received: inputs taken; emitted: inputs handled with success; outputs:
  // messages sent on to consumers; unrouted: outputs that no consumer took
  // (only_a's `when:` refused every "/b", and nothing reads split.unmatched).
  std::printf("split: received %llu, emitted %llu, outputs %llu, unrouted %llu\n",
              static_cast<unsigned long long>(split.received), static_cast<unsigned long long>(split.emitted),
              static_cast<unsigned long long>(split.outputs), static_cast<unsigned long long>(split.unrouted));
  for (const weir::ReplicaReport& r : split.per_replica)  // every replica that ran, scaled away or not
    std::printf("  replica: received %llu%s, left %.3f s after the start\n",
                static_cast<unsigned long long>(r.received), r.scaled_away ? " (scaled away)" : "",
                r.left_s.value_or(-1.0));  // left_s is empty while the replica runs
  for (const weir::EdgeReport& e : report.edges)  // sent = delivered + dropped + abandoned
    std::printf("edge %s -> %s: sent %llu, delivered %llu\n", e.from.c_str(), e.to.c_str(),
                static_cast<unsigned long long>(e.sent), static_cast<unsigned long long>(e.delivered));
  std::printf("%s, balanced: %s\n", std::string(weir::to_string(report.status)).c_str(),
              report.balanced() ? "yes" : "no");
  const std::string json = report.to_json();  // the JSON `weir run --report` writes
  // After the run, stats() returns this same final report.
  const weir::RunReport after = pipeline.stats();
  // doc:end report

  example::expect(live.status == weir::RunStatus::running, "a live snapshot says running");
  example::expect(report.status == weir::RunStatus::drained, "drained");
  example::expect(report.balanced(), "balanced");
  example::expect(split.received == 10 && split.emitted == 10, "ten inputs handled");
  example::expect(split.outputs == 10 && split.unrouted == 10, "ten outputs sent on, ten unrouted");
  example::expect(split.per_replica.size() == 3, "three replica entries");
  unsigned away = 0;
  for (const weir::ReplicaReport& r : split.per_replica) away += r.scaled_away;
  example::expect(away == 2, "two scaled away");
  example::expect(json.find("\"per_replica\"") != std::string::npos, "the JSON has per_replica");
  example::expect(after.status == report.status && after.duration_s == report.duration_s, "stats() after the run is the report");
  return example::exit_code();
}
