// Plugins that misbehave on request, one per kind, for the fault-injection
// tests (tests/cli/faults_test.py): each throws (a std::exception, a weir
// error, an int, a type of its own), blocks forever or crashes the process
// (SIGSEGV, SIGABRT) in the hook the pipeline names.
#include "test_stages.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace {

struct OwnError {
  int code = 42;
};

constexpr const char* fault_example = "broken:\n  plugin: test_fault\n  input: upstream\n  config: {fault: throw_int, hook: work}\n";

std::span<const weir::OptionSpec> fault_options() {
  static const std::vector<weir::OptionSpec> specs = {
      {.name = "fault", .type = weir::OptionType::enumeration, .description = "What goes wrong",
       .default_value = "none",
       .allowed = {"none", "throw_std", "throw_weir", "throw_int", "throw_own", "block", "segv", "abort"}},
      {.name = "hook", .type = weir::OptionType::enumeration,
       .description = "Where it goes wrong: work is run (source), process (processor) or write (sink)",
       .default_value = "work", .allowed = {"constructor", "start", "work", "flush", "stop"}},
      {.name = "after", .type = weir::OptionType::integer,
       .description = "In work: messages handled (sources: emitted) before it goes wrong", .default_value = "0",
       .min = 0},
      {.name = "count", .type = weir::OptionType::integer,
       .description = "Sources: messages to emit; 0 emits until stopped", .default_value = "0", .min = 0},
      {.name = "ignore_stop", .type = weir::OptionType::boolean,
       .description = "Sources: ignore the stop token, and once emit() returns false wait forever",
       .default_value = "false"},
  };
  return specs;
}

// Never returns: what a plugin stuck on a lock, a socket or a device looks
// like. Says so first, so a test can act once it is stuck.
[[noreturn]] void block_forever(const std::shared_ptr<spdlog::logger>& logger, const char* where) {
  logger->warn("test_fault: blocking forever in {}", where);
  static std::mutex mutex;
  static std::condition_variable never;
  std::unique_lock lock(mutex);
  for (;;) never.wait(lock);
}

class Fault {
 public:
  Fault(const weir::Options& options, const weir::StageContext& context)
      : fault_(options.string("fault")), hook_(options.string("hook")), after_(options.integer("after")),
        stage_(context.stage), logger_(context.logger) {
    at("constructor");
  }

  // Goes wrong if `hook` is the one named.
  void at(const std::string& hook) {
    if (hook != hook_ || fault_ == "none") return;
    const std::string what = "test_fault: " + fault_ + " in " + hook + " of stage " + stage_;
    if (fault_ == "throw_std") throw std::runtime_error(what);
    if (fault_ == "throw_weir") throw weir::RetryableError(what);
    if (fault_ == "throw_int") throw 7;
    if (fault_ == "throw_own") throw OwnError{};
    if (fault_ == "block") block_forever(logger_, hook.c_str());
    if (fault_ == "segv") {
      volatile int* nowhere = nullptr;
      *nowhere = 1;
    }
    if (fault_ == "abort") std::abort();
  }
  // In work: after `after` messages.
  void work() {
    if (handled_++ >= after_) at("work");
  }

 private:
  std::string fault_, hook_;
  std::int64_t after_;
  std::int64_t handled_ = 0;
  std::string stage_;

 public:
  std::shared_ptr<spdlog::logger> logger_;
};

class FaultSource final : public weir::Source {
 public:
  FaultSource(const weir::Options& options, const weir::StageContext& context)
      : fault_(options, context), count_(options.integer("count")), ignore_stop_(options.boolean("ignore_stop")) {}
  void start() override { fault_.at("start"); }
  void run(weir::Emitter& out, std::stop_token stop) override {
    for (std::int64_t i = 0; count_ == 0 || i < count_; ++i) {
      if (stop.stop_requested() && !ignore_stop_) return;
      fault_.work();
      if (!out.emit(weir::Message(std::to_string(i)))) {
        if (ignore_stop_) block_forever(fault_.logger_, "run, ignoring emit() returning false");
        return;
      }
    }
  }
  void flush() override { fault_.at("flush"); }
  void stop() override { fault_.at("stop"); }

 private:
  Fault fault_;
  std::int64_t count_;
  bool ignore_stop_;
};

class FaultProcessor final : public weir::Processor {
 public:
  FaultProcessor(const weir::Options& options, const weir::StageContext& context) : fault_(options, context) {}
  void start() override { fault_.at("start"); }
  void process(weir::Message& message, weir::Emitter& out) override {
    fault_.work();
    out.emit(std::move(message));
  }
  void flush() override { fault_.at("flush"); }
  void stop() override { fault_.at("stop"); }

 private:
  Fault fault_;
};

class FaultSink final : public weir::Sink {
 public:
  FaultSink(const weir::Options& options, const weir::StageContext& context) : fault_(options, context) {}
  void start() override { fault_.at("start"); }
  void write(const weir::Message&) override { fault_.work(); }
  void flush() override { fault_.at("flush"); }
  void stop() override { fault_.at("stop"); }

 private:
  Fault fault_;
};

}  // namespace

WEIR_PLUGIN(test_fault_source, source, "test_fault", "Misbehaves on request (test library)", FaultSource,
            fault_options, "ticks:\n  plugin: test_fault\n  config: {count: 10}\n")
WEIR_PLUGIN(test_fault_processor, processor, "test_fault", "Misbehaves on request (test library)", FaultProcessor,
            fault_options, fault_example)
WEIR_PLUGIN(test_fault_sink, sink, "test_fault", "Misbehaves on request (test library)", FaultSink, fault_options,
            "out:\n  plugin: test_fault\n  input: upstream\n  config: {fault: block}\n")
