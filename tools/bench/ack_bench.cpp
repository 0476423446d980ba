// The per-message cost of end-to-end acknowledgement (docs/performance.md).
// The same pipelines run with a source that attaches an acknowledgement to
// every message (what the `file` source with a checkpoint and the `nats`
// source do: a TrackedAcknowledgement whose destructor records the message
// as finished) and with one that attaches none, alternating, and the
// medians are compared.
//
// usage: ack_bench [MESSAGES] [RUNS]   (default 1,000,000 and 5)

#include <weir/host.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

// What a real acknowledging source does when a message is finished, less its
// I/O: note it (the file source moves a low-water mark under a mutex; the
// nats source publishes +ACK), here one atomic add.
class FinishedAck final : public weir::TrackedAcknowledgement {
 public:
  explicit FinishedAck(std::atomic<std::uint64_t>& finished) noexcept : finished_(finished) {}
  ~FinishedAck() override { finished_.fetch_add(failure() ? 0 : 1, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t>& finished_;
};

class NumberedSource final : public weir::Source {
 public:
  NumberedSource(std::uint64_t count, bool acknowledge, std::atomic<std::uint64_t>* finished)
      : count_(count), acknowledge_(acknowledge), finished_(finished) {}
  void run(weir::Emitter& out, std::stop_token stop) override {
    for (std::uint64_t i = 0; i < count_ && !stop.stop_requested(); ++i) {
      weir::Message message("x");
      if (acknowledge_) message.ack = std::make_shared<FinishedAck>(*finished_);
      if (!out.emit(std::move(message))) return;
    }
  }

 private:
  std::uint64_t count_;
  bool acknowledge_;
  std::atomic<std::uint64_t>* finished_;
};

struct Shape {
  const char* name;
  bool with_filter;
};

// Seconds from start() to the drained end; checks the books.
double run_once(const Shape& shape, std::uint64_t count, bool acknowledge) {
  std::atomic<std::uint64_t> finished{0};
  weir::PipelineBuilder builder(shape.name);
  builder.stage<NumberedSource>("numbers", count, acknowledge, &finished);
  std::string last = "numbers";
  if (shape.with_filter) {
    builder.plugin("keep", "filter", "{when: 'payload == \"x\"'}").input("numbers");
    last = "keep";
  }
  builder.plugin("out", "count").input(last);
  weir::HostPipeline pipeline(std::move(builder));
  const auto started = std::chrono::steady_clock::now();
  pipeline.start();
  const weir::RunReport report = pipeline.wait();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (report.status != weir::RunStatus::drained || !report.balanced() ||
      (acknowledge && finished.load() != count)) {
    std::fprintf(stderr, "ack_bench: %s (%s) did not drain with balanced books (%llu of %llu acknowledged)\n",
                 shape.name, acknowledge ? "acknowledging" : "plain",
                 static_cast<unsigned long long>(finished.load()), static_cast<unsigned long long>(count));
    std::exit(1);
  }
  return seconds;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  spdlog::set_level(spdlog::level::warn);  // the count sink's summary of every run
  const Shape shapes[] = {{"source -> count", false}, {"source -> filter -> count", true}};
  std::printf("%llu messages, %d runs each, alternating; seconds from start to drained\n",
              static_cast<unsigned long long>(count), runs);
  std::printf("%-28s %10s %10s %8s %12s\n", "pipeline", "plain", "acked", "ratio", "ns/message");
  for (const Shape& shape : shapes) {
    std::vector<double> plain, acked;
    for (int i = 0; i < runs; ++i) {  // alternating, so a slow phase of the machine hits both
      plain.push_back(run_once(shape, count, false));
      acked.push_back(run_once(shape, count, true));
    }
    const double p = median(plain), a = median(acked);
    std::printf("%-28s %9.3fs %9.3fs %8.2f %12.1f\n", shape.name, p, a, a / p,
                (a - p) * 1e9 / static_cast<double>(count));
    std::printf("  runs plain:");
    for (double v : plain) std::printf(" %.3f", v);
    std::printf("\n  runs acked:");
    for (double v : acked) std::printf(" %.3f", v);
    std::printf("\n");
  }
  return 0;
}
