#include "embed/host_stages.hpp"

#include <weir/version.hpp>

#include <fmt/format.h>

#include <charconv>
#include <span>

namespace weir::detail {

bool RequestTable::settle(std::uint64_t id, RequestOutcome&& outcome) noexcept {
  Map::accessor entry;
  if (!pending.find(entry, id)) return false;
  OneshotSender<RequestOutcome> sender = std::move(entry->second);
  pending.erase(entry);
  entry.release();
  // A caller that gave up its PendingReply gets nothing, which is fine.
  sender.send(std::move(outcome));
  return true;
}

void RequestTable::settle_all_stopped() noexcept {
  // By id rather than by iterating the map: iteration is not safe against
  // concurrent settling (acknowledgements of copies the host still holds),
  // lookups are. A request numbered later either finds its input closed and
  // settles itself, or went in before the close and was drained.
  const std::uint64_t end = next_id.load(std::memory_order_acquire);
  for (std::uint64_t id = 1; id < end; ++id) {
    Map::const_accessor probe;
    if (!pending.find(probe, id)) continue;
    probe.release();
    try {
      settle(id, RequestOutcome{std::nullopt, RequestError::Reason::stopped,
                                fmt::format("request {} got no reply: the pipeline stopped first", id)});
    } catch (...) {
      settle(id, RequestOutcome{});  // out of memory for the text: the reason alone
    }
  }
}

namespace {

// Rides on every copy of a request (Message::ack): the runtime tells it when
// a stage failed the request for good, and its destruction — the last copy
// gone — settles a request that no reply stage took.
class RequestAcknowledgement final : public Acknowledgement {
 public:
  RequestAcknowledgement(std::shared_ptr<RequestTable> table, std::uint64_t id)
      : table_(std::move(table)), id_(id) {}
  ~RequestAcknowledgement() override {
    // A copy abandoned by a forced stop (the host's, or drain_timeout's) might
    // have been answered but for the stop: `stopped`, whichever forced it.
    const bool stopped = table_->stopping.load(std::memory_order_acquire) ||
                         abandoned_.load(std::memory_order_acquire);
    settle(stopped ? RequestError::Reason::stopped : RequestError::Reason::lost,
           stopped ? "the pipeline was forced to stop first"
                   : "it ended without reaching a host_reply stage (every copy was filtered, dropped, "
                     "dead-lettered, routed elsewhere or routed nowhere)");
  }
  // Only a stage's failure answers the request now; a dropped or abandoned
  // copy leaves the others a chance, and the destructor settles it otherwise.
  void fail(AckFailure why, std::string_view reason) noexcept override {
    if (why == AckFailure::failed) settle(RequestError::Reason::failed, reason);
    if (why == AckFailure::abandoned) abandoned_.store(true, std::memory_order_release);
  }

 private:
  void settle(RequestError::Reason reason, std::string_view why) noexcept {
    try {
      table_->settle(id_, RequestOutcome{std::nullopt, reason, fmt::format("request {} got no reply: {}", id_, why)});
    } catch (...) {
      table_->settle(id_, RequestOutcome{std::nullopt, reason, {}});
    }
  }

  std::shared_ptr<RequestTable> table_;
  std::uint64_t id_;
  std::atomic<bool> abandoned_{false};  // copies may be abandoned on several threads
};

class HostInputSource final : public Source {
 public:
  explicit HostInputSource(std::shared_ptr<HostInputState> state) : state_(std::move(state)) {}
  void run(Emitter& out, std::stop_token stop) override {
    // Any stop (the pipeline's close-and-drain, or a forced stop) closes the
    // input: later sends fail, and what was accepted before still goes in.
    std::stop_callback close_on_stop(stop, [this]() noexcept { state_->channel.close(); });
    while (auto message = state_->channel.recv()) {
      state_->taken.fetch_add(1, std::memory_order_relaxed);
      if (!out.emit(std::move(*message))) return;
    }
  }

 private:
  std::shared_ptr<HostInputState> state_;
};

class HostOutputSink final : public Sink {
 public:
  explicit HostOutputSink(std::shared_ptr<HostOutputState> state) : state_(std::move(state)) {
    state_->channel.add_writer();
  }
  ~HostOutputSink() override { leave(); }
  HostOutputSink(const HostOutputSink&) = delete;
  HostOutputSink& operator=(const HostOutputSink&) = delete;

  void write(const Message& message) override {
    Message copy = message;
    // Handed to the host, the message is finished with as far as the
    // pipeline goes; the host keeps no request pending by holding it.
    copy.ack.reset();
    if (!state_->channel.send(std::move(copy)))
      throw PermanentError(fmt::format("host_output '{}': the output was closed by a forced stop", state_->stage));
  }
  void stop() override { leave(); }

 private:
  void leave() noexcept {
    if (!left_) {
      left_ = true;
      state_->channel.release_writer();
    }
  }
  std::shared_ptr<HostOutputState> state_;
  bool left_ = false;
};

class HostReplySink final : public Sink {
 public:
  explicit HostReplySink(std::shared_ptr<RequestTable> requests) : requests_(std::move(requests)) {}
  void write(const Message& message) override {
    std::uint64_t id = 0;
    if (const std::string* text = message.attributes.find(request_attribute)) {
      const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), id);
      if (error != std::errc() || end != text->data() + text->size()) id = 0;
    }
    RequestTable::Map::const_accessor probe;
    if (id == 0 || !requests_->pending.find(probe, id)) {
      requests_->unsolicited.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    probe.release();
    Message reply = message;
    reply.ack.reset();
    // Another copy may have answered since the probe: then this one is late.
    if (!requests_->settle(id, RequestOutcome{std::move(reply), RequestError::Reason::stopped, {}}))
      requests_->unsolicited.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  std::shared_ptr<RequestTable> requests_;
};

template <const char* Name>
std::unique_ptr<Stage> refuse(const Options&, const StageContext& context) {
  throw PluginError(fmt::format("stage '{}': a {} stage is fed or read by a host program; it runs only in a "
                                "weir::HostPipeline, not in `weir run`",
                                context.stage, Name));
}

constexpr char input_name[] = "host_input";
constexpr char output_name[] = "host_output";
constexpr char reply_name[] = "host_reply";

const PluginDescriptor host_descriptors[] = {
    {.name = input_name,
     .kind = Kind::source,
     .description = "Messages the host program sends through HostPipeline::input(stage) (one replica)",
     .example = "requests: {plugin: host_input, capacity: 64}",
     .create = &refuse<input_name>},
    {.name = output_name,
     .kind = Kind::sink,
     .description = "Messages the host program reads through HostPipeline::output(stage)",
     .example = "results: {plugin: host_output, input: work}",
     .create = &refuse<output_name>},
    {.name = reply_name,
     .kind = Kind::sink,
     .description = "Answers requests made with InputHandle::request: each message settles its request",
     .example = "answers: {plugin: host_reply, input: work}",
     .create = &refuse<reply_name>},
};

}  // namespace

std::shared_ptr<Acknowledgement> request_acknowledgement(std::shared_ptr<RequestTable> table,
                                                         std::uint64_t id) {
  return std::make_shared<RequestAcknowledgement>(std::move(table), id);
}

void add_host_plugins(PluginRegistry& registry) {
  for (const PluginDescriptor& descriptor : host_descriptors)
    if (!registry.find(descriptor.name, descriptor.kind)) registry.add(descriptor);
}

bool is_host_plugin(std::string_view plugin) noexcept {
  return plugin == host_input_plugin || plugin == host_output_plugin || plugin == host_reply_plugin;
}

StageMaker host_input_stage(std::shared_ptr<HostInputState> state) {
  return [state = std::move(state)](const StageContext&) { return std::make_unique<HostInputSource>(state); };
}

StageMaker host_output_stage(std::shared_ptr<HostOutputState> state) {
  return [state = std::move(state)](const StageContext&) { return std::make_unique<HostOutputSink>(state); };
}

StageMaker host_reply_stage(std::shared_ptr<RequestTable> requests) {
  return [requests = std::move(requests)](const StageContext&) { return std::make_unique<HostReplySink>(requests); };
}

}  // namespace weir::detail
