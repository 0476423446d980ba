#pragma once
// weir::HostPipeline: a pipeline running inside a host program, which feeds
// it (InputHandle), reads from it (OutputHandle, or a sink lambda) and asks
// it questions (InputHandle::request → PendingReply). docs/embedding.md.
//
// Threads: stages run on their own replica threads; a sink or processor
// lambda is called there. Handles are cheap to copy, safe to use from any
// thread, and may outlive the pipeline (they then report `closed`). The
// control methods (start, scale, stats, stop, wait) may be called from any
// thread.
//
// Lifetime: destroying a HostPipeline forces a stop if it is still running,
// joins every replica thread and unloads every plugin library it loaded.

#include <weir/builder.hpp>
#include <weir/oneshot.hpp>
#include <weir/report.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace weir {

namespace detail {
struct HostInputState;
struct HostOutputState;
struct RequestTable;
}  // namespace detail

// The attribute that ties a request to its reply through the pipeline.
// Processors between the input and the reply stage must keep the message's
// attributes and its `ack` (emit the message they got, or copies of it).
inline constexpr std::string_view request_attribute = "weir.request";

// Why a request got no reply.
class RequestError : public std::runtime_error {
 public:
  enum class Reason {
    failed,   // a stage failed it for good (after its retries, with no dead-letter stage)
    lost,     // every copy ended without reaching a reply stage: filtered, dropped,
              // dead-lettered, routed elsewhere or routed nowhere (unrouted)
    stopped,  // the pipeline stopped first: a forced stop abandoned a copy (or the
              // pipeline was never started, is gone, or its input was closed)
  };
  RequestError(Reason reason, const std::string& what) : std::runtime_error(what), reason_(reason) {}
  Reason reason() const noexcept { return reason_; }

 private:
  Reason reason_;
};

namespace detail {
// What a request's oneshot carries: the reply, or why there is none.
struct RequestOutcome {
  std::optional<Message> reply;
  RequestError::Reason reason = RequestError::Reason::stopped;
  std::string error;
};
}  // namespace detail

// The reply to one request, like a std::future: exactly one reply or one error.
class PendingReply {
 public:
  PendingReply(PendingReply&&) noexcept = default;
  PendingReply& operator=(PendingReply&&) noexcept = default;

  // Parks until the reply arrives; throws RequestError when there will be none.
  Message get();
  // nullopt when `timeout` runs out first (the request stays pending: call
  // again); throws RequestError when there will be no reply.
  std::optional<Message> get_for(std::chrono::nanoseconds timeout);
  // The request's id (the value of its `weir.request` attribute).
  std::uint64_t id() const noexcept { return id_; }

 private:
  friend class InputHandle;
  PendingReply(std::uint64_t id, OneshotReceiver<detail::RequestOutcome> receiver)
      : id_(id), receiver_(std::move(receiver)) {}
  Message unwrap(std::optional<detail::RequestOutcome> outcome);

  std::uint64_t id_;
  OneshotReceiver<detail::RequestOutcome> receiver_;
};

// Feeds a host_input stage. Sends wait while the stage's channel is full:
// the pipeline's backpressure reaches the host's threads.
class InputHandle {
 public:
  // Parks while full; false once the input is closed (the message is dropped).
  bool send(Message message);
  // ok / full / closed; on full or closed `message` is still the caller's.
  SendStatus try_send(Message&& message) noexcept;
  // ok / closed / timeout; on closed or timeout `message` is still the caller's.
  SendStatus send_for(Message&& message, std::chrono::nanoseconds timeout);
  // Sends `message` as a request whose reply a host_reply stage produces.
  // Parks while the input is full. Throws std::logic_error when the pipeline
  // has no host_reply stage.
  PendingReply request(Message message);
  // Ends the input stage once what was sent has gone in, so the pipeline can
  // drain. Idempotent.
  void close() noexcept;
  bool is_closed() const noexcept;
  const std::string& stage() const noexcept;

 private:
  friend class HostPipeline;
  InputHandle(std::shared_ptr<detail::HostInputState> state, std::shared_ptr<detail::RequestTable> requests)
      : state_(std::move(state)), requests_(std::move(requests)) {}
  std::shared_ptr<detail::HostInputState> state_;
  std::shared_ptr<detail::RequestTable> requests_;
};

// Reads what reaches a host_output stage. Bounded like every channel: a host
// that does not read holds the pipeline back. Closed once the stage has
// finished, and then drained.
class OutputHandle {
 public:
  // Parks while empty; nullopt once closed and drained.
  std::optional<Message> recv();
  // ok / closed / timeout.
  RecvResult<Message> recv_for(std::chrono::nanoseconds timeout);
  // ok / empty / closed.
  RecvResult<Message> try_recv() noexcept;
  const std::string& stage() const noexcept;

 private:
  friend class HostPipeline;
  explicit OutputHandle(std::shared_ptr<detail::HostOutputState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::HostOutputState> state_;
};

class HostPipeline {
 public:
  // Builds the pipeline: checks it (ConfigError, with every problem) and
  // constructs every stage instance (PluginError). Nothing runs yet.
  explicit HostPipeline(PipelineBuilder builder);
  // Thin wrappers over PipelineBuilder::from_file / from_string.
  static HostPipeline load_file(const std::filesystem::path& file, const std::vector<Override>& overrides = {});
  static HostPipeline load_string(const std::string& yaml, const std::vector<Override>& overrides = {},
                                  const std::string& name = "<string>",
                                  const std::filesystem::path& base_dir = std::filesystem::current_path());
  ~HostPipeline();
  HostPipeline(HostPipeline&&) noexcept;
  HostPipeline& operator=(HostPipeline&&) = delete;

  // Handles for host_input / host_output stages; std::invalid_argument for a
  // stage that is not one. Available before start().
  InputHandle input(std::string_view stage) const;
  OutputHandle output(std::string_view stage) const;

  // Starts every replica (a stage whose start() throws: PluginError, nothing runs).
  void start();
  // Scales a stage while running (see weir::Pipeline::scale); a host_input
  // stage keeps its one replica (std::invalid_argument).
  void scale(std::string_view stage, unsigned replicas);
  unsigned replicas(std::string_view stage) const;
  // A live snapshot while running (status `running`), the final report after.
  RunReport stats() const;

  // Close and drain: host inputs close, sources stop, every channel drains
  // to the sinks. When `deadline` runs out first the stop is forced: what is
  // still queued is abandoned and counted. Returns the run report; every
  // pending request has its reply or its error by then.
  RunReport stop(std::chrono::nanoseconds deadline);
  // Forced at once: the same as stop(0).
  RunReport force_stop();
  // Waits for the run to end by itself (host inputs closed, sources
  // exhausted, everything drained) and returns the report.
  RunReport wait();
  // true when the run has ended within `timeout` (then wait() returns at once).
  bool wait_for(std::chrono::nanoseconds timeout);

  const PipelineSpec& spec() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weir
