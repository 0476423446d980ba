// nats (sink): publishes each message to a NATS JetStream subject.
//
// A batch is published as a window of asynchronous publishes (all in flight
// at once, at most `max_in_flight`), and write_batch returns only when
// JetStream has acknowledged every one of them: stored by the stream (and,
// in a cluster, by a majority of its replicas). Only then does the runtime
// count the messages written and let their sources' acknowledgements fire.
// A publish that failed (an error from the server, or no acknowledgement
// within `timeout`) makes write_batch throw, and the runtime writes that
// batch again one message at a time under the stage's on_error policy.
// With `msg_id`, the stream's duplicate window drops what such a retry
// publishes twice.

#include <weir_std/batch_failure.hpp>
#include <weir_std/nats_connection.hpp>

#include <weir/plugin.hpp>
#include <weir/template.hpp>

#include <condition_variable>
#include <mutex>
#include <random>
#include <unordered_map>

namespace weir::weir_std::nats {
namespace {

const Option<Template> subject{
    .name = "subject",
    .description = "The subject to publish to: a template of the message's attributes (`orders.{region}`); a "
                   "stream must store it",
    .required = true,
    .example = "'orders.{region}'"};
const Option<Template> msg_id{
    .name = "msg_id",
    .description = "A template for the `Nats-Msg-Id` header: JetStream stores a message once per id within the "
                   "stream's duplicate window (2 minutes by default), so a publish that is retried is not stored "
                   "twice. Empty sends none",
    .default_value = "''",
    .example = "'{order_id}'"};
const Option<bool> headers{
    .name = "headers",
    .description = "Send the message's attributes as NATS headers (the `nats` source turns headers back into "
                   "attributes); attributes named `Nats-…` (JetStream's controls, such as a message read from a "
                   "stream carries) are not sent: `msg_id` sets the id; nor are names with spaces, controls or ':'; "
                   "line breaks in values become spaces",
    .default_value = "true"};
const Option<std::int64_t> max_in_flight{
    .name = "max_in_flight",
    .description = "Publishes awaiting JetStream's acknowledgement, at most, per replica; a batch larger than this "
                   "waits for room as acknowledgements come in",
    .default_value = "256",
    .min = 1};
const Option<Value::Duration> timeout{
    .name = "timeout",
    .description = "How long a publish waits for JetStream's acknowledgement before it counts as failed",
    .default_value = "5s",
    .min = 0.001};

// The acknowledgements of the publishes in flight, keyed by the message the
// library hands back to the handler (it owns it until then).
struct Window {
  std::mutex mutex;
  std::condition_variable settled;
  std::unordered_map<const natsMsg*, std::size_t> slots;  // message -> index in `errors`
  std::vector<std::string> errors;                        // per message of the batch; "" when stored
  std::vector<bool> done;
  std::size_t outstanding = 0;

  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck*, jsPubAckErr* error, void* closure) {
    auto* self = static_cast<Window*>(closure);
    {
      std::lock_guard lock(self->mutex);
      auto it = self->slots.find(msg);
      if (it != self->slots.end()) {
        const std::size_t slot = it->second;
        self->slots.erase(it);
        if (error)
          self->errors[slot] = error->ErrText && *error->ErrText ? error->ErrText : natsStatus_GetText(error->Err);
        self->done[slot] = true;
        --self->outstanding;
      }
    }
    self->settled.notify_all();
    // The library destroys `msg` after this returns.
  }
};

class NatsSink final : public Sink {
 public:
  NatsSink(const Options& options, const StageContext& context)
      : context_(context),
        logger_(logger_for(context)),
        settings_(options),
        subject_(options[subject]),
        msg_id_(options[msg_id]),
        headers_(options[headers]),
        max_in_flight_(options[max_in_flight]),
        timeout_ms_(milliseconds(options[timeout])) {}

  void start() override {
    events_.logger = logger_;
    window_ = std::make_unique<Window>();
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = timeout_ms_;
    js_options.PublishAsync.MaxPending = max_in_flight_;
    js_options.PublishAsync.AckHandler = &Window::on_ack;
    js_options.PublishAsync.AckHandlerClosure = window_.get();
    // A full window: publishing waits this long for room before failing.
    js_options.PublishAsync.StallWait = timeout_ms_;
    connection_ = std::make_unique<Connection>(settings_, events_, "weir " + context_.stage, &js_options, true);
  }

  void write(const Message& message) override { publish({&message, 1}); }
  void write_batch(std::span<const Message> batch) override { publish(batch); }

  // Publishes are acknowledged before write_batch returns; only buffered
  // protocol data is left, which close() flushes.
  void stop() override {
    if (connection_) connection_->close(timeout_ms_);
  }

 private:
  void publish(std::span<const Message> batch) {
    Window& window = *window_;
    {
      std::lock_guard lock(window.mutex);
      window.errors.assign(batch.size(), std::string());
      window.done.assign(batch.size(), false);
      window.slots.clear();
      window.outstanding = 0;
    }
    jsPubOptions publish_options;
    jsPubOptions_Init(&publish_options);
    publish_options.MaxWait = timeout_ms_;
    std::string subject_text, id_text;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const Message& message = batch[i];
      subject_text.clear();
      subject_.render_to(subject_text, message);
      natsMsg* msg = nullptr;
      natsStatus status = natsMsg_Create(&msg, subject_text.c_str(), nullptr, message.payload.data(),
                                         static_cast<int>(message.payload.size()));
      if (status == NATS_OK && headers_)
        for (const auto& [key, value] : message.attributes)
          if (is_header_name(key) && !is_control_header(key))
            natsMsgHeader_Set(msg, key.c_str(), header_value(value).c_str());
      if (status == NATS_OK && !msg_id_.text().empty()) {
        id_text.clear();
        msg_id_.render_to(id_text, message);
        publish_options.MsgId = id_text.c_str();
      }
      if (status == NATS_OK) {
        // Registered before the publish: the handler may run before
        // js_PublishMsgAsync returns.
        std::lock_guard lock(window.mutex);
        window.slots.emplace(msg, i);
        ++window.outstanding;
      }
      const natsMsg* key = msg;
      if (status == NATS_OK) status = js_PublishMsgAsync(connection_->jetstream(), &msg, &publish_options);
      publish_options.MsgId = nullptr;
      if (status != NATS_OK) {
        std::lock_guard lock(window.mutex);
        if (window.slots.erase(key)) --window.outstanding;
        window.errors[i] = error_text(status);
        window.done[i] = true;
      }
      natsMsg_Destroy(msg);  // null when the library took it
    }
    // The library reports a timeout for each publish after MaxWait; the
    // margin covers its timer's granularity.
    std::unique_lock lock(window.mutex);
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_ + 1000);
    if (!window.settled.wait_until(lock, deadline, [&] { return window.outstanding == 0; })) {
      for (std::size_t i = 0; i < batch.size(); ++i)
        if (!window.done[i]) window.errors[i] = "no acknowledgement from JetStream in time";
      window.slots.clear();  // late acknowledgements are ignored
      window.outstanding = 0;
    }
    std::size_t failed = 0;
    const std::string* first = nullptr;
    for (const std::string& error : window.errors)
      if (!error.empty()) {
        ++failed;
        if (!first) first = &error;
      }
    if (failed == 0) return;
    throw RetryableError(batch_failure_text("publishing to JetStream", failed, batch.size(), *first));
  }

  StageContext context_;
  std::shared_ptr<spdlog::logger> logger_;
  ConnectionSettings settings_;
  Template subject_;
  Template msg_id_;
  bool headers_;
  std::int64_t max_in_flight_;
  std::int64_t timeout_ms_;
  ConnectionEvents events_;            // before connection_: its callbacks point here
  std::unique_ptr<Window> window_;     // before connection_: the ack handler points here
  std::unique_ptr<Connection> connection_;
};

}  // namespace

WEIR_PLUGIN(nats_sink) {
    .name = "nats",
    .kind = Kind::sink,
    .description = "Publishes each message to a NATS JetStream subject (a template); a window of publishes in "
                   "flight, each message finished only when JetStream acknowledged storing it",
    .options = connection_options_with(subject, msg_id, headers, max_in_flight, timeout),
    .example = plugin_example,
    .create = construct<NatsSink>,
};

}  // namespace weir::weir_std::nats
