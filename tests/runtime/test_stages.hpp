#pragma once
// In-process stages for the runtime tests, declared with the same WEIR_PLUGIN
// descriptor a plugin library exports and registered with PluginRegistry::add.

#include <weir/pipeline.hpp>
#include <weir/plugin.hpp>
#include <weir/registry.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace weir::test {

// What the `collect` sinks saw, by sink name: every message, in arrival order.
class Collected {
 public:
  static Collected& instance() {
    static Collected collected;
    return collected;
  }
  // Kept without the acknowledgement: a record is not a copy in flight.
  void add(const std::string& sink, const Message& m) {
    std::lock_guard lock(mutex_);
    messages_[sink].push_back(m);
    messages_[sink].back().ack.reset();
  }
  std::vector<Message> take(const std::string& sink) {
    std::lock_guard lock(mutex_);
    return std::exchange(messages_[sink], {});
  }
  void clear() {
    std::lock_guard lock(mutex_);
    messages_.clear();
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<Message>> messages_;
};

// `seq`: `count` messages per replica (0: until stopped); payload "<replica>:<n>";
// attribute `kind` cycles through `kinds`; attribute `n` is the sequence number.
class SeqSource final : public Source {
 public:
  SeqSource(const Options& o, const StageContext& c)
      : count_(o[count]), kinds_(o[kinds]), replica_(c.replica) {}
  void run(Emitter& out, std::stop_token stop) override {
    for (std::int64_t n = 0; (count_ == 0 || n < count_) && !stop.stop_requested(); ++n) {
      Message m(std::to_string(replica_) + ":" + std::to_string(n));
      m.attributes.set("kind", kinds_[static_cast<std::size_t>(n) % kinds_.size()]);
      m.attributes.set("n", std::to_string(n));
      m.attributes.set("replica", std::to_string(replica_));
      if (!out.emit(std::move(m))) return;
    }
  }
  static inline const Option<std::int64_t> count{
      .name = "count", .description = "per replica; 0: endless", .default_value = "100"};
  static inline const Option<std::vector<std::string>> kinds{
      .name = "kinds", .description = "kind attribute values", .default_value = "[a]"};

 private:
  std::int64_t count_;
  std::vector<std::string> kinds_;
  unsigned replica_;
};

// `pass`: emits each message `fanout` times; drops every `filter_every`-th;
// throws on every `fail_every`-th (retryable if `retryable`, and then only on
// the first `fail_attempts` attempts of that message); sleeps `work_us`.
class PassProcessor final : public Processor {
 public:
  PassProcessor(const Options& o, const StageContext&)
      : fanout_(o[fanout]),
        filter_every_(o[filter_every]),
        fail_every_(o[fail_every]),
        fail_attempts_(o[fail_attempts]),
        retryable_(o[retryable]),
        work_us_(o[work_us]) {}
  void start() override { starts().fetch_add(1); }
  // How many times any `pass` stage's start() hook ran.
  static std::atomic<int>& starts() {
    static std::atomic<int> n{0};
    return n;
  }
  void process(Message& m, Emitter& out) override {
    const auto n = std::stoll(m.attributes.get("n", "0"));
    if (work_us_) std::this_thread::sleep_for(std::chrono::microseconds(work_us_));
    if (fail_every_ && n % fail_every_ == 0) {
      std::lock_guard lock(mutex_);
      if (fail_attempts_ == 0 || attempts_[m.id]++ < fail_attempts_) {
        if (retryable_) throw RetryableError("planned failure of " + std::to_string(n));
        throw PermanentError("planned failure of " + std::to_string(n));
      }
    }
    if (filter_every_ && n % filter_every_ == 0) return;
    for (std::int64_t i = 1; i < fanout_; ++i) out.emit(m);
    out.emit(std::move(m));
  }
  static inline const Option<std::int64_t> fanout{.name = "fanout", .description = "copies", .default_value = "1"};
  static inline const Option<std::int64_t> filter_every{.name = "filter_every", .description = "drop every nth", .default_value = "0"};
  static inline const Option<std::int64_t> fail_every{.name = "fail_every", .description = "fail every nth", .default_value = "0"};
  static inline const Option<std::int64_t> fail_attempts{
      .name = "fail_attempts", .description = "0: always", .default_value = "0"};
  static inline const Option<bool> retryable{.name = "retryable", .description = "failures are retryable", .default_value = "false"};
  static inline const Option<std::int64_t> work_us{.name = "work_us", .description = "microseconds per message", .default_value = "0"};

 private:
  std::int64_t fanout_, filter_every_, fail_every_, fail_attempts_;
  bool retryable_;
  std::int64_t work_us_;
  std::mutex mutex_;
  std::map<std::uint64_t, std::int64_t> attempts_;
};

// `collect`: records every message under its stage name; sleeps `work_us`
// per message.
class CollectSink final : public Sink {
 public:
  CollectSink(const Options& o, const StageContext& c) : name_(c.stage), work_us_(o[work_us]) {}
  void write(const Message& m) override {
    if (work_us_) std::this_thread::sleep_for(std::chrono::microseconds(work_us_));
    Collected::instance().add(name_, m);
  }
  static inline const Option<std::int64_t> work_us{.name = "work_us", .description = "microseconds per message", .default_value = "0"};

 private:
  std::string name_;
  std::int64_t work_us_;
};

// `gate`: a sink that blocks in write() until released; for forced stops.
class GateSink final : public Sink {
 public:
  GateSink(const Options&, const StageContext&) {}
  void write(const Message&) override {
    std::unique_lock lock(mutex());
    ++entered();
    cv().wait(lock, [] { return open(); });
  }
  // How many writes have reached the gate (the runtime has counted their batch).
  static int& entered() {
    static int n = 0;
    return n;
  }
  static int entered_count() {
    std::lock_guard lock(mutex());
    return entered();
  }
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::condition_variable& cv() {
    static std::condition_variable c;
    return c;
  }
  static bool& open() {
    static bool o = false;
    return o;
  }
  static void set(bool value) {
    {
      std::lock_guard lock(mutex());
      open() = value;
    }
    cv().notify_all();
  }
};

// How each acknowledgement of an `ack_seq` source settled, by the message's
// `n`: a list, so settling twice shows as two entries.
class AckLedger {
 public:
  enum class Outcome { acked, failed, dropped, abandoned };
  static AckLedger& instance() {
    static AckLedger ledger;
    return ledger;
  }
  void settle(std::int64_t n, Outcome outcome) {
    std::lock_guard lock(mutex_);
    outcomes_[n].push_back(outcome);
  }
  std::map<std::int64_t, std::vector<Outcome>> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(outcomes_, {});
  }
  std::size_t settled() {
    std::lock_guard lock(mutex_);
    return outcomes_.size();
  }

 private:
  std::mutex mutex_;
  std::map<std::int64_t, std::vector<Outcome>> outcomes_;
};

class LedgerAck final : public TrackedAcknowledgement {
 public:
  explicit LedgerAck(std::int64_t n) : n_(n) {}
  ~LedgerAck() override {
    const auto failure = this->failure();
    AckLedger::instance().settle(n_, !failure                                ? AckLedger::Outcome::acked
                                     : *failure == AckFailure::failed  ? AckLedger::Outcome::failed
                                     : *failure == AckFailure::dropped ? AckLedger::Outcome::dropped
                                                                       : AckLedger::Outcome::abandoned);
  }

 private:
  std::int64_t n_;
};

// `ack_seq`: like `seq` (one replica), each message carrying a LedgerAck.
class AckSeqSource final : public Source {
 public:
  AckSeqSource(const Options& o, const StageContext&) : count_(o[count]) {}
  void run(Emitter& out, std::stop_token stop) override {
    for (std::int64_t n = 0; (count_ == 0 || n < count_) && !stop.stop_requested(); ++n) {
      Message m(std::to_string(n));
      m.attributes.set("n", std::to_string(n));
      m.ack = std::make_shared<LedgerAck>(n);
      if (!out.emit(std::move(m))) return;
    }
  }
  static inline const Option<std::int64_t> count{.name = "count", .description = "0: endless", .default_value = "100"};

 private:
  std::int64_t count_;
};

// `hold`: a buffering sink: it keeps every acknowledgement until flush(), and
// records how many had settled anywhere when its flush began.
class HoldSink final : public Sink {
 public:
  HoldSink(const Options&, const StageContext&) {}
  void write(const Message& m) override {
    if (m.ack) held_.push_back(m.ack);
  }
  void flush() override {
    settled_at_flush().store(AckLedger::instance().settled());
    held_.clear();
  }
  static std::atomic<std::size_t>& settled_at_flush() {
    static std::atomic<std::size_t> n{0};
    return n;
  }

 private:
  std::vector<std::shared_ptr<Acknowledgement>> held_;
};

// With a `gate` sink fed by an endless source on a channel of capacity 8:
// waits until the gate holds the sink's first batch and the source is parked
// on the full channel (sent = queued 8 + 1 in hand), asks for a drain, and
// opens the gate (on `opener`) once drain_timeout has forced the stop.
inline void stop_at_the_gate(Pipeline& p, std::thread& opener) {
  auto parked = [&p] {
    const auto e = p.stats().edges.at(0);
    return GateSink::entered_count() > 0 && e.sent - e.delivered >= 9;
  };
  while (!parked()) p.wait_for(std::chrono::milliseconds(2));
  p.stop();
  opener = std::thread([&p] {
    while (p.stats().status != RunStatus::forced) p.wait_for(std::chrono::milliseconds(5));
    GateSink::set(true);
  });
}

void register_test_stages(PluginRegistry& registry);

}  // namespace weir::test
