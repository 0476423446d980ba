// Reading with a result instead of an optional, and waiting for the end with
// a bound (docs/embedding.md, "Reading"): RecvResult<Message>, RecvStatus,
// wait_for's bool. Built and run by ctest (embed:doc-example:handles_example).

#include "expect.hpp"

#include <weir/host.hpp>

#include <cstdio>

int main() {
  // doc:begin handles
  weir::PipelineBuilder b("handles");
  b.host_input("in").capacity(4);
  b.host_output("out").input("in").capacity(4);
  weir::HostPipeline pipeline(std::move(b));
  weir::InputHandle in = pipeline.input("in");
  weir::OutputHandle out = pipeline.output("out");
  pipeline.start();

  // A RecvResult: `status` (RecvStatus ok, empty, closed or timeout) and
  // `value`, a std::optional<Message> engaged exactly when status is ok.
  weir::RecvResult<weir::Message> nothing = out.try_recv();  // empty: nothing sent yet
  in.send(weir::Message("hello"));
  weir::RecvResult<weir::Message> got = out.recv_for(std::chrono::seconds(10));
  if (got.status == weir::RecvStatus::ok) std::printf("got %s\n", got.value->payload.c_str());
  if (got) { /* the same test: a RecvResult is true when ok */ }

  in.close();  // the input ends: the run can drain and end by itself
  const bool ended = pipeline.wait_for(std::chrono::seconds(10));  // true once the run has ended
  weir::RecvResult<weir::Message> end = out.recv_for(std::chrono::seconds(1));  // closed: drained
  const weir::RunReport report = pipeline.wait();  // returns at once once wait_for said true
  // doc:end handles

  example::expect(nothing.status == weir::RecvStatus::empty && !nothing.value, "empty before anything was sent");
  example::expect(got && got.value->payload == "hello", "the message came out");
  example::expect(ended, "the run ended once the input was closed");
  example::expect(end.status == weir::RecvStatus::closed, "then the output is closed");
  example::expect(report.status == weir::RunStatus::drained, "drained");
  return example::exit_code();
}
