// HostPipeline: a weir::Pipeline whose host_* stages are bound to handles,
// with the bookkeeping that makes every request end in a reply or an error.

#include "embed/builder_impl.hpp"
#include "embed/host_stages.hpp"

#include <weir/host.hpp>
#include <weir/pipeline.hpp>

#include <fmt/format.h>

#include <map>
#include <mutex>

namespace weir {

using detail::HostInputState;
using detail::HostOutputState;
using detail::RequestOutcome;
using detail::RequestTable;

// ---- Handles ---------------------------------------------------------------------

Message PendingReply::unwrap(std::optional<RequestOutcome> outcome) {
  if (!outcome)
    throw RequestError(RequestError::Reason::stopped,
                       fmt::format("request {} got no reply: it was already taken, or the pipeline is gone", id_));
  if (outcome->reply) return std::move(*outcome->reply);
  throw RequestError(outcome->reason,
                     outcome->error.empty() ? fmt::format("request {} got no reply", id_) : outcome->error);
}

Message PendingReply::get() { return unwrap(receiver_.recv()); }

std::optional<Message> PendingReply::get_for(std::chrono::nanoseconds timeout) {
  auto result = receiver_.recv_for(timeout);
  if (result.status == RecvStatus::timeout) return std::nullopt;
  return unwrap(std::move(result.value));
}

bool InputHandle::send(Message message) { return state_->channel.send(std::move(message)); }

SendStatus InputHandle::try_send(Message&& message) noexcept { return state_->channel.try_send(std::move(message)); }

SendStatus InputHandle::send_for(Message&& message, std::chrono::nanoseconds timeout) {
  return state_->channel.send_for(std::move(message), timeout);
}

PendingReply InputHandle::request(Message message) {
  if (!requests_)
    throw std::logic_error(fmt::format("input '{}': the pipeline has no host_reply stage to answer requests",
                                       state_->stage));
  const std::uint64_t id = requests_->next_id.fetch_add(1, std::memory_order_acq_rel);
  auto [reply_to, reply] = make_oneshot<RequestOutcome>();
  requests_->pending.emplace(id, std::move(reply_to));
  message.attributes.set(std::string(request_attribute), std::to_string(id));
  message.ack = detail::request_acknowledgement(requests_, id);
  if (!state_->channel.send(std::move(message)))
    requests_->settle(id, RequestOutcome{std::nullopt, RequestError::Reason::stopped,
                                         fmt::format("request {} got no reply: input '{}' is closed", id,
                                                     state_->stage)});
  return PendingReply(id, std::move(reply));
}

void InputHandle::close() noexcept { state_->channel.close(); }
bool InputHandle::is_closed() const noexcept { return state_->channel.is_closed(); }
const std::string& InputHandle::stage() const noexcept { return state_->stage; }

std::optional<Message> OutputHandle::recv() { return state_->channel.recv(); }
RecvResult<Message> OutputHandle::recv_for(std::chrono::nanoseconds timeout) { return state_->channel.recv_for(timeout); }
RecvResult<Message> OutputHandle::try_recv() noexcept { return state_->channel.try_recv(); }
const std::string& OutputHandle::stage() const noexcept { return state_->stage; }

// ---- HostPipeline ------------------------------------------------------------------

struct HostPipeline::Impl {
  // Declared first, destroyed last: plugin libraries outlive every stage.
  std::unique_ptr<PluginRegistry> registry;
  std::shared_ptr<RequestTable> requests = std::make_shared<RequestTable>();
  std::map<std::string, std::shared_ptr<HostInputState>, std::less<>> inputs;
  std::map<std::string, std::shared_ptr<HostOutputState>, std::less<>> outputs;
  bool answers_requests = false;
  std::unique_ptr<Pipeline> pipeline;

  // Serializes the control methods (start, scale, stop, wait); not held while
  // waiting for the run. stats() and replicas() never take it.
  mutable std::mutex control;
  bool started = false;
  // Guards final_report, which finish() sets under `control`; stats() takes
  // only this one, so a report never waits for a control call (a scale()
  // making a replica in plugin code, a slow constructor).
  mutable std::mutex final_mutex;
  std::optional<RunReport> final_report;

  void close_inputs() noexcept {
    for (auto& [name, input] : inputs) input->channel.close();
  }
  // Wakes host_output sinks parked on a full channel nobody reads.
  void close_outputs() noexcept {
    for (auto& [name, output] : outputs) output->channel.close();
  }
  void force() noexcept {
    requests->stopping.store(true, std::memory_order_release);
    close_inputs();
    pipeline->force_stop();
    close_outputs();
  }
  // After the run has ended (or been forced): joins it, settles what is left.
  RunReport finish();
};

RunReport HostPipeline::Impl::finish() {
  std::lock_guard final_lock(final_mutex);
  if (final_report) return *final_report;
  RunReport report = pipeline->wait();
  // Anything unanswered now never will be.
  requests->stopping.store(true, std::memory_order_release);
  close_inputs();
  for (auto& [name, input] : inputs) {
    // Accepted by the handle but never taken in by the stage (a forced stop):
    // abandoned, like what is left in the pipeline's own channels.
    std::uint64_t left = 0;
    while (input->channel.try_recv()) ++left;
    for (StageReport& stage : report.stages)
      if (stage.name == name) {
        const std::uint64_t taken = input->taken.load(std::memory_order_relaxed);
        stage.abandoned += left + (taken > stage.emitted ? taken - stage.emitted : 0);
      }
  }
  requests->settle_all_stopped();
  close_outputs();
  final_report = report;
  return report;
}

HostPipeline::HostPipeline(PipelineBuilder builder) : impl_(std::make_unique<Impl>()) {
  builder.build();
  auto& built = *builder.impl_;
  impl_->registry = std::move(built.registry);
  PipelineSpec spec = std::move(built.spec);
  for (StageSpec& stage : spec.stages) {
    if (stage.factory) continue;
    if (stage.plugin == host_input_plugin && stage.kind == Kind::source) {
      auto state = std::make_shared<HostInputState>(stage.name, stage.capacity);
      impl_->inputs.emplace(stage.name, state);
      stage.factory = detail::host_input_stage(std::move(state));
    } else if (stage.plugin == host_output_plugin && stage.kind == Kind::sink) {
      auto state = std::make_shared<HostOutputState>(stage.name, stage.capacity);
      impl_->outputs.emplace(stage.name, state);
      stage.factory = detail::host_output_stage(std::move(state));
    } else if (stage.plugin == host_reply_plugin && stage.kind == Kind::sink) {
      impl_->answers_requests = true;
      stage.factory = detail::host_reply_stage(impl_->requests);
    }
  }
  impl_->pipeline = std::make_unique<Pipeline>(std::move(spec), *impl_->registry);
}

HostPipeline HostPipeline::load_file(const std::filesystem::path& file, const std::vector<Override>& overrides) {
  return HostPipeline(PipelineBuilder::from_file(file, overrides));
}

HostPipeline HostPipeline::load_string(const std::string& yaml, const std::vector<Override>& overrides,
                                       const std::string& name, const std::filesystem::path& base_dir) {
  return HostPipeline(PipelineBuilder::from_string(yaml, overrides, name, base_dir));
}

HostPipeline::~HostPipeline() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->control);
    if (impl_->started && !impl_->final_report) {
      impl_->force();
      impl_->finish();
    }
    impl_->close_inputs();
    impl_->requests->stopping.store(true, std::memory_order_release);
  }
  // Stages first (joined already), then the libraries they came from.
  impl_->pipeline.reset();
  impl_->requests->settle_all_stopped();
  impl_->registry.reset();
}

HostPipeline::HostPipeline(HostPipeline&&) noexcept = default;

InputHandle HostPipeline::input(std::string_view stage) const {
  auto it = impl_->inputs.find(stage);
  if (it == impl_->inputs.end())
    throw std::invalid_argument(fmt::format("pipeline '{}' has no host_input stage '{}'", spec().name, stage));
  return InputHandle(it->second, impl_->answers_requests ? impl_->requests : nullptr);
}

OutputHandle HostPipeline::output(std::string_view stage) const {
  auto it = impl_->outputs.find(stage);
  if (it == impl_->outputs.end())
    throw std::invalid_argument(fmt::format("pipeline '{}' has no host_output stage '{}'", spec().name, stage));
  return OutputHandle(it->second);
}

void HostPipeline::start() {
  std::lock_guard lock(impl_->control);
  impl_->pipeline->start();
  impl_->started = true;
}

void HostPipeline::scale(std::string_view stage, unsigned replicas) {
  if (impl_->inputs.count(stage))
    throw std::invalid_argument(fmt::format("stage '{}' is a host_input stage: it keeps its one replica", stage));
  std::lock_guard lock(impl_->control);
  impl_->pipeline->scale(stage, replicas);
}

unsigned HostPipeline::replicas(std::string_view stage) const {
  // Not under `control` either: Pipeline::replicas reads one atomic.
  return impl_->pipeline->replicas(stage);
}

RunReport HostPipeline::stats() const {
  std::lock_guard lock(impl_->final_mutex);
  if (impl_->final_report) return *impl_->final_report;
  return impl_->pipeline->stats();
}

RunReport HostPipeline::stop(std::chrono::nanoseconds deadline) {
  {
    std::lock_guard lock(impl_->control);
    if (impl_->final_report) return *impl_->final_report;
    if (!impl_->started) throw std::logic_error("weir::HostPipeline::stop before start");
    impl_->close_inputs();
    impl_->pipeline->stop();
  }
  const bool drained = impl_->pipeline->wait_for(deadline);
  std::lock_guard lock(impl_->control);
  if (!drained && !impl_->final_report) impl_->force();
  return impl_->finish();
}

RunReport HostPipeline::force_stop() { return stop(std::chrono::nanoseconds(0)); }

RunReport HostPipeline::wait() {
  {
    std::lock_guard lock(impl_->control);
    if (impl_->final_report) return *impl_->final_report;
    if (!impl_->started) throw std::logic_error("weir::HostPipeline::wait before start");
  }
  while (!impl_->pipeline->wait_for(std::chrono::hours(24))) {
  }
  std::lock_guard lock(impl_->control);
  return impl_->finish();
}

bool HostPipeline::wait_for(std::chrono::nanoseconds timeout) {
  {
    std::lock_guard lock(impl_->control);
    if (impl_->final_report) return true;
    if (!impl_->started) throw std::logic_error("weir::HostPipeline::wait_for before start");
  }
  return impl_->pipeline->wait_for(timeout);
}

const PipelineSpec& HostPipeline::spec() const noexcept { return impl_->pipeline->spec(); }

}  // namespace weir
