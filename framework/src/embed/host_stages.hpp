#pragma once
// The stages behind a host program's handles: host_input (a source fed from
// a channel), host_output (a sink writing to a channel) and host_reply (a sink
// answering requests), and the table of pending requests they share.

#include <weir/channel.hpp>
#include <weir/host.hpp>
#include <weir/registry.hpp>

#include <tbb/concurrent_hash_map.h>

#include <atomic>
#include <memory>
#include <cstdint>
#include <string>

namespace weir::detail {

struct HostInputState {
  HostInputState(std::string stage_name, std::size_t capacity) : stage(std::move(stage_name)), channel(capacity) {}
  std::string stage;
  Channel<Message> channel;
  // Taken out of the channel by the stage. A forced stop can refuse the one
  // in hand before the runtime counts it: taken - emitted is that message.
  std::atomic<std::uint64_t> taken{0};
};

struct HostOutputState {
  // Starts with no writer: each sink replica adds itself and the last one to
  // leave closes the channel, so readers learn the end without anyone waiting
  // on the pipeline.
  HostOutputState(std::string stage_name, std::size_t capacity) : stage(std::move(stage_name)), channel(capacity, 0) {}
  std::string stage;
  Channel<Message> channel;
};

// Requests on their way through the pipeline, by id. A request is settled
// once: by the reply stage that takes it first, by a stage failing it, by its
// last copy ending elsewhere, or by the run ending. Whoever erases the entry
// sends the outcome; everybody else finds nothing.
struct RequestTable {
  // std::allocator, not TBB's: nodes go back to malloc, which the sanitizers
  // see, so a node freed by one thread and reused by another is not a race.
  using Map = tbb::concurrent_hash_map<std::uint64_t, OneshotSender<RequestOutcome>, tbb::tbb_hash_compare<std::uint64_t>,
                                       std::allocator<std::pair<const std::uint64_t, OneshotSender<RequestOutcome>>>>;

  Map pending;
  std::atomic<std::uint64_t> next_id{1};
  std::atomic<bool> stopping{false};  // set before a forced stop: abandoned requests are `stopped`
  std::atomic<std::uint64_t> unsolicited{0};  // messages at a reply stage with no pending request

  // Sends `outcome` to the request's caller if it is still pending; true if it was.
  bool settle(std::uint64_t id, RequestOutcome&& outcome) noexcept;
  // Every request still pending gets `stopped`.
  void settle_all_stopped() noexcept;
};

// The PluginDescriptors that make host_input, host_output and host_reply
// known to a registry (so YAML can name them); their factories refuse to run
// outside a HostPipeline, which binds each such stage to its handle instead.
void add_host_plugins(PluginRegistry& registry);
bool is_host_plugin(std::string_view plugin) noexcept;

// The Message::ack of a request: settles it as failed or lost.
std::shared_ptr<Acknowledgement> request_acknowledgement(std::shared_ptr<RequestTable> table,
                                                         std::uint64_t id);

StageMaker host_input_stage(std::shared_ptr<HostInputState> state);
StageMaker host_output_stage(std::shared_ptr<HostOutputState> state);
StageMaker host_reply_stage(std::shared_ptr<RequestTable> requests);

}  // namespace weir::detail
