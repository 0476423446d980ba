#include "replica_loop.hpp"

#include "retry_policy.hpp"
#include "routing.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace weir::runtime {

namespace {

constexpr std::size_t max_batch = 64;
// A processor replica whose messages take longer than this takes one at a
// time, so its peers get their share and urgent lanes are not stuck behind a
// batch; so does a sink replica with lanes (see Consumer::loop).
constexpr auto slow_message = std::chrono::microseconds(20);
class SourceEmitter final : public Emitter {
 public:
  SourceEmitter(RunState& run, StageRuntime& stage, Sender& sender, Replica& replica)
      : run_(run), stage_(stage), sender_(sender), replica_(replica) {}
  bool emit(Message message) override {
    if (run_.stop_forced.load(std::memory_order_relaxed)) {
      fail_copy(message, AckFailure::abandoned, abandoned_reason);
      return false;
    }
    if (message.ack) message.ack = std::make_shared<CountedAck>(std::move(message.ack), stage_.ack_books);
    const auto now = Clock::now();
    sender_.stamp(message, now);
    replica_.emitted.add();
    sender_.route(std::move(message), now);
    return !run_.stop_forced.load(std::memory_order_relaxed);
  }
  void count_dropped(std::uint64_t messages) noexcept override { replica_.dropped.add(messages); }

 private:
  RunState& run_;
  StageRuntime& stage_;
  Sender& sender_;
  Replica& replica_;
};

// A processor's outputs wait here until process() returns, so a failed
// attempt sends nothing and a retry cannot duplicate.
class CollectingEmitter final : public Emitter {
 public:
  explicit CollectingEmitter(RunState& run) : run_(run) {}
  bool emit(Message message) override {
    outputs.push_back(std::move(message));
    return !run_.stop_forced.load(std::memory_order_relaxed);
  }
  LineVector<Message> outputs;

 private:
  RunState& run_;
};

// The replica's loop over its input queue, shared by processors and sinks.
class Consumer {
 public:
  Consumer(RunState& run, StageRuntime& stage, Replica& replica)
      : run_(run),
        stage_(stage),
        replica_(replica),
        sender_(run, stage, replica),
        retry_policy_(run, stage, replica, sender_) {
    batch_.reserve(max_batch);
  }

  // Takes batches until the queue is closed and drained, scale() asks one
  // replica of the stage to leave and this one takes the request, or the stop
  // is forced. With `whole_batches` (sinks), handle() gets every message
  // of a batch at once; otherwise (processors) one at a time, and a forced
  // stop leaves the rest of the batch to be counted as abandoned (in hand) rather than
  // waiting for all of it to be processed.
  template <bool whole_batches, class Handle>
  void loop(Handle&& handle) {
    Queue& queue = *stage_.queue;
    LineVector<Envelope*> accepted;
    accepted.reserve(max_batch);
    // Asked between batches and while parked: the message in hand is
    // finished first, and nothing queued is taken only to be handed back.
    const auto asked_to_leave = [this]() noexcept { return claim_leave_request(); };
    // One clock reading ends a batch and starts the wait for the next.
    auto parked = Clock::now();
    for (;;) {
      batch_.clear();
      const std::size_t n = queue.recv_batch(batch_, replica_.batch_limit, asked_to_leave);
      const auto taken = taken_ = Clock::now();
      replica_.starved_ns.add(ns_between(parked, taken));
      if (n == 0) return;
      accepted.clear();
      // The whole batch is received (taken by this replica) before any of it
      // is handled: what the replica holds is then always received minus
      // handled, so a replica left stuck in plugin code holds a known number
      // of messages (see Pipeline::Impl::abandon_stuck) without anyone
      // reading its batch. A batch taken once the stop is forced goes back
      // to the books of its channel: abandoned there, as if never taken.
      const bool forced_before = run_.stop_forced.load(std::memory_order_relaxed);
      for (auto& item : batch_) {
        Envelope& envelope = item.value;
        if (forced_before) {
          stage_.inputs[envelope.edge]->abandoned.fetch_add(1, std::memory_order_relaxed);
          fail_copy(envelope.message, AckFailure::abandoned, abandoned_reason);
          continue;
        }
        replica_.delivered[envelope.edge].add();
        replica_.received.add();
        replica_.lane_wait[item.lane].record(ns_between(envelope.queued, taken));
      }
      bool in_hand = false;  // a message of this batch has been handled: the rest waits on it
      for (auto& item : batch_) {
        Envelope& envelope = item.value;
        if (forced_before) continue;
        // A sink writes its batch whole; a processor finishes the message in
        // hand and sets the rest aside once the stop is forced.
        if (!whole_batches && in_hand && run_.stop_forced.load(std::memory_order_relaxed)) {
          replica_.set_aside.add();  // received, then abandoned in hand
          fail_copy(envelope.message, AckFailure::abandoned, abandoned_reason);
          continue;
        }
        in_hand = true;
        if constexpr (whole_batches) {
          accepted.push_back(&envelope);
        } else {
          handle(envelope);
        }
      }
      if constexpr (whole_batches) {
        if (!accepted.empty()) handle(accepted);
      }
      const auto done = Clock::now();
      const auto per_message = (done - taken) / n;
      parked = done;
      if constexpr (whole_batches) {
        // A sink pays mostly per write (a request, a flush), not per
        // message: it takes what is queued, up to a full batch, however slow
        // its writes. Only with lanes does a slow write take one at a time,
        // so urgent messages never wait behind a batch of others.
        replica_.batch_limit = stage_.lane_conditions.size() > 1 && per_message > slow_message ? 1 : max_batch;
      } else {
        replica_.batch_limit = per_message > slow_message ? 1 : max_batch;
      }
      // Done with these messages: let them go now, not at the next batch, so
      // an acknowledgement they carry fires as soon as they are handled.
      batch_.clear();
      if (run_.stop_forced.load(std::memory_order_relaxed)) return;
    }
  }

  Sender& sender() noexcept { return sender_; }
  // When the batch being handled was received.
  Clock::time_point taken() const noexcept { return taken_; }
  RetryPolicy& retry_policy() noexcept { return retry_policy_; }

 private:
  // Takes one of the stage's outstanding leave requests, if there is one.
  // seq_cst: scale() adds requests with a seq_cst write and then wakes the
  // parked receivers (see Lanes::recv_batch). When nothing is asked, a plain
  // load of a line that only scale() writes.
  bool claim_leave_request() noexcept {
    auto& requests = stage_.leave_requests;
    for (unsigned n = requests.load(std::memory_order_seq_cst); n != 0;)
      if (requests.compare_exchange_weak(n, n - 1, std::memory_order_seq_cst)) {
        replica_.scaled_away.store(true, std::memory_order_relaxed);
        return true;
      }
    return false;
  }

  RunState& run_;
  StageRuntime& stage_;
  Replica& replica_;
  Sender sender_;
  RetryPolicy retry_policy_;
  std::vector<Queue::Item> batch_;
  Clock::time_point taken_{};
};

void run_source(RunState& run, StageRuntime& stage, Replica& replica) {
  auto& source = static_cast<Source&>(*replica.instance.stage);
  replica.hook.store("run", std::memory_order_relaxed);
  Sender sender(run, stage, replica);
  SourceEmitter emitter(run, stage, sender, replica);
  if (auto error = attempt([&] { source.run(emitter, replica.stop.get_token()); }))
    run.record_error(fmt::format("stage '{}' replica {}: source failed: {}", stage.spec->name, replica.index,
                                 error->message));
}

void run_processor(RunState& run, StageRuntime& stage, Replica& replica) {
  auto& processor = static_cast<Processor&>(*replica.instance.stage);
  replica.hook.store("process", std::memory_order_relaxed);
  Consumer consumer(run, stage, replica);
  CollectingEmitter collector(run);
  // A retry or a dead letter needs the message as it came, not as a failed
  // attempt left it.
  const bool keep_original = stage.spec->on_error.retries > 0 || stage.dead_letter.target;
  consumer.loop<false>([&](Envelope& envelope) {
    const auto started = Clock::now();
    // Null unless the source acknowledges: then copying it costs nothing.
    const std::shared_ptr<Acknowledgement> input_ack = envelope.message.ack;
    const bool ok = consumer.retry_policy().run(envelope.message, [&](Message& original) {
      collector.outputs.clear();
      if (keep_original) {
        Message work = original;
        processor.process(work, collector);
      } else {
        processor.process(original, collector);
      }
    });
    const auto finished = Clock::now();
    replica.latency.record(ns_between(started, finished));
    if (!ok) return;
    if (collector.outputs.empty()) {
      replica.filtered.add();
      envelope.message.ack.reset();
      return;
    }
    replica.emitted.add();
    // An output stands for its input until it is finished too, whether the
    // processor passed the input on or built new messages from it.
    if (input_ack)
      for (Message& output : collector.outputs)
        if (!output.ack) output.ack = input_ack;
    for (Message& output : collector.outputs) {
      consumer.sender().stamp(output, finished);
      consumer.sender().route(std::move(output), finished);
    }
    // The input and its outputs are finished with: their acknowledgements
    // must not wait in the collector and the batch for the next message,
    // which may never come.
    collector.outputs.clear();
    envelope.message.ack.reset();
  });
}

void run_sink(RunState& run, StageRuntime& stage, Replica& replica) {
  auto& sink = static_cast<Sink&>(*replica.instance.stage);
  replica.hook.store("write", std::memory_order_relaxed);
  Consumer consumer(run, stage, replica);
  LineVector<Message> messages;
  messages.reserve(max_batch);
  consumer.loop<true>([&](LineVector<Envelope*>& envelopes) {
    messages.clear();
    for (Envelope* envelope : envelopes) messages.push_back(std::move(envelope->message));
    // What leaves a sink is what it is given to write.
    // Unless a tap copied the batch, nothing but moving it came between its
    // reception and the write: one clock reading serves both.
    auto started = consumer.taken();
    if (stage.tap->tapped()) {
      for (const Message& message : messages) stage.tap->offer(message);
      started = Clock::now();
    }
    if (!attempt([&] { sink.write_batch(std::span<const Message>(messages)); })) {
      replica.written.add(messages.size());
    } else {
      // Find the culprits one message at a time, each under the policy.
      for (Message& message : messages)
        if (consumer.retry_policy().run(message, [&](Message& m) { sink.write(m); })) replica.written.add();
    }
    replica.latency.record(ns_between(started, Clock::now()));
    messages.clear();
  });
}

}  // namespace

void run_replica(RunState& run, StageRuntime& stage, Replica& replica) {
  switch (stage.spec->kind) {
    case Kind::source: run_source(run, stage, replica); break;
    case Kind::processor: run_processor(run, stage, replica); break;
    case Kind::sink: run_sink(run, stage, replica); break;
  }
  Stage& instance = *replica.instance.stage;
  replica.hook.store("flush", std::memory_order_relaxed);
  if (auto error = attempt([&] { instance.flush(); }))
    run.record_error(fmt::format("stage '{}' replica {}: flush failed: {}", stage.spec->name, replica.index,
                                 error->message));
  // A source stops (commits what was acknowledged, closes) only once every
  // stage has drained: see stop_replica().
  if (stage.spec->kind != Kind::source) stop_replica(run, stage, replica);
}

void stop_replica(RunState& run, StageRuntime& stage, Replica& replica) {
  Stage& instance = *replica.instance.stage;
  replica.hook.store("stop", std::memory_order_relaxed);
  if (auto error = attempt([&] { instance.stop(); }))
    run.record_error(fmt::format("stage '{}' replica {}: stop failed: {}", stage.spec->name, replica.index,
                                 error->message));
}

}  // namespace weir::runtime
