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

const weir::Option<std::string> fault{.name = "fault",
                                      .description = "What goes wrong: none, throw_std, throw_weir, throw_int, "
                                                     "throw_own, block, segv or abort",
                                      .default_value = "none"};
const weir::Option<std::string> hook{
    .name = "hook",
    .description = "Where it goes wrong: constructor, start, work (run, process or write), flush or stop",
    .default_value = "work"};
const weir::Option<std::int64_t> after{.name = "after",
                                       .description = "In work: messages handled (sources: emitted) before it goes wrong",
                                       .default_value = "0",
                                       .min = 0};
const weir::Option<std::int64_t> count{.name = "count",
                                       .description = "Sources: messages to emit; 0 emits until stopped",
                                       .default_value = "0",
                                       .min = 0};
const weir::Option<bool> ignore_stop{
    .name = "ignore_stop",
    .description = "Sources: ignore the stop token, and once emit() returns false wait forever",
    .default_value = "false"};

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
      : fault_(options[fault]), hook_(options[hook]), after_(options[after]),
        stage_(context.stage), logger_(context.logger) {
    // The context's logger is always there, when validating too.
    logger_->debug("test_fault: {} in {}", options[fault], options[hook]);
    const auto one_of = [](const std::string& value, std::initializer_list<const char*> names) {
      for (const char* name : names)
        if (value == name) return true;
      return false;
    };
    if (!one_of(fault_, {"none", "throw_std", "throw_weir", "throw_int", "throw_own", "block", "segv", "abort"}))
      weir::reject_option(fault.name, "'" + fault_ + "' is not a fault", "none, throw_std, throw_weir, throw_int, "
                                                                       "throw_own, block, segv or abort");
    if (!one_of(hook_, {"constructor", "start", "work", "flush", "stop"}))
      weir::reject_option(hook.name, "'" + hook_ + "' is not a hook", "constructor, start, work, flush or stop");
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
      : fault_(options, context), count_(options[count]), ignore_stop_(options[ignore_stop]) {}
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

WEIR_PLUGIN(test_fault_source) {
    .name = "test_fault",
    .kind = weir::Kind::source,
    .description = "Misbehaves on request (test library)",
    .options = {fault, hook, after, count, ignore_stop},
    .example = "ticks:\n  plugin: test_fault\n  config: {count: 10}\n",
    .create = weir::construct<FaultSource>,
};
WEIR_PLUGIN(test_fault_processor) {
    .name = "test_fault",
    .kind = weir::Kind::processor,
    .description = "Misbehaves on request (test library)",
    .options = {fault, hook, after, count, ignore_stop},
    .example = fault_example,
    .create = weir::construct<FaultProcessor>,
};
WEIR_PLUGIN(test_fault_sink) {
    .name = "test_fault",
    .kind = weir::Kind::sink,
    .description = "Misbehaves on request (test library)",
    .options = {fault, hook, after, count, ignore_stop},
    .example = "out:\n  plugin: test_fault\n  input: upstream\n  config: {fault: block}\n",
    .create = weir::construct<FaultSink>,
};
