// nats (source): messages of a NATS JetStream stream, read through a durable
// pull consumer that any number of weir processes may share (competing
// consumers: the server hands each message to one of them).
//
// Every message goes out with an acknowledgement. JetStream is told only
// when the pipeline has finished with it (every sink wrote it durably, or it
// was filtered or dead-lettered): Ack. A copy that failed or was dropped:
// NakWithDelay, so the server delivers it again after `nak_delay`, until the
// consumer's max_deliver; the last delivery's failure is published to
// `dead_letter_subject` (when set) and terminated (AckTerm). A copy abandoned
// by a forced stop: Nak, delivered again at once (to whichever process asks).
// A crash acknowledges nothing: after `ack_wait` the server delivers again
// what was in flight, at most `max_ack_pending` messages.

#include <weir_std/acknowledgement_with_reason.hpp>
#include <weir_std/nats_connection.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>

#include <condition_variable>
#include <cstdlib>
#include <utility>
#include <mutex>

namespace weir::weir_std::nats {
namespace {

const Option<std::string> stream{.name = "stream",
                                 .description = "The JetStream stream to read",
                                 .required = true,
                                 .example = "ORDERS"};
const Option<std::string> subject{
    .name = "subject",
    .description = "Filter subject of the consumer (wildcards allowed); empty takes every subject of the stream",
    .default_value = "''",
    .example = "orders.>"};
const Option<std::string> durable{
    .name = "durable",
    .description = "Name of the durable consumer. Processes that name the same one share its messages (each goes to "
                   "one of them) and its position survives restarts",
    .required = true,
    .example = "weir-orders"};
const Option<bool> create_stream{
    .name = "create_stream",
    .description = "Create the stream (file storage, `stream_subjects`) when it does not exist; otherwise a missing "
                   "stream is an error at start",
    .default_value = "false"};
const Option<std::vector<std::string>> stream_subjects{
    .name = "stream_subjects",
    .description = "With `create_stream`: the subjects the new stream stores; empty: `subject`, or `STREAM.>` when "
                   "that is empty too",
    .default_value = "[]",
    .example = "['orders.>']"};
const Option<std::int64_t> stream_replicas{
    .name = "stream_replicas",
    .description = "With `create_stream`: copies of the new stream (and of its consumers) in a JetStream cluster; 3 "
                   "survives the loss of one server",
    .default_value = "1",
    .min = 1,
    .max = 5};
const Option<bool> create_consumer{
    .name = "create_consumer",
    .description = "Create the durable consumer with the settings below when it does not exist; an existing one is "
                   "used as it is (a warning says when its settings differ). False: it must exist",
    .default_value = "true"};
const Option<Value::Duration> ack_wait{
    .name = "ack_wait",
    .description = "Consumer setting: how long the server waits for a message's acknowledgement before delivering it "
                   "again. Longer than a message can take through the pipeline",
    .default_value = "30s",
    .min = 0.001};
const Option<std::int64_t> max_deliver{
    .name = "max_deliver",
    .description = "Consumer setting: deliveries of one message at most; the failure of the last one sends it to "
                   "`dead_letter_subject` and terminates it. -1: no limit",
    .default_value = "5",
    .min = -1};
const Option<Value::Duration> nak_delay{
    .name = "nak_delay",
    .description = "After a failed delivery, the server waits this long before delivering the message again",
    .default_value = "1s",
    .min = 0};
const Option<std::int64_t> batch{.name = "batch",
                                 .description = "Messages asked for in one fetch",
                                 .default_value = "64",
                                 .min = 1,
                                 .max = 10000};
const Option<std::int64_t> max_ack_pending{
    .name = "max_ack_pending",
    .description = "Messages fetched and not yet acknowledged, at most, by this stage (and the consumer's setting "
                   "when it is created): the bound on what a crash delivers again. Messages of a pull request lost "
                   "in a reconnection may add one `batch`",
    .default_value = "1024",
    .min = 1};
const Option<Value::Duration> fetch_wait{
    .name = "fetch_wait",
    .description = "How long one fetch waits for messages when the stream has none; the source checks for a stop "
                   "between fetches",
    .default_value = "500ms",
    .min = 0.001};
const Option<std::string> dead_letter_subject{
    .name = "dead_letter_subject",
    .description = "Where the last delivery of a message that failed `max_deliver` times is published (JetStream, "
                   "with its headers and `source` (this stage), `error`, `attempts`) before it is terminated; a stream must store "
                   "that subject. Empty: it is only terminated, counted as nacked and logged",
    .default_value = "''",
    .example = "orders.dead"};

// Lives until the last acknowledgement has settled: a message a plugin holds
// after the stage stopped still finds the connection (closed by then) here.
struct Consumer {
  ConnectionEvents events;  // before `connection`: its callbacks point here
  std::unique_ptr<Connection> connection;
  natsSubscription* subscription = nullptr;
  std::string stage;
  std::int64_t max_deliver = -1;  // as the server has it
  std::int64_t nak_delay_ms = 1000;
  std::string dead_letter_subject;

  std::mutex mutex;
  std::condition_variable_any room;
  std::int64_t in_flight = 0;
  RateLimited ack_errors;
  RateLimited dead_letters;

  ~Consumer() {
    if (subscription) natsSubscription_Destroy(subscription);
  }

  // JetStream's acknowledgement protocol: a reply to the message's
  // `$JS.ACK…` subject (https://docs.nats.io/reference/reference-protocols/nats_api_reference).
  natsStatus reply(natsMsg* msg, const char* verb) {
    return natsConnection_PublishString(connection->get(), natsMsg_GetReply(msg), verb);
  }
  natsStatus nak_later(natsMsg* msg) {
    const std::string verb = fmt::format("-NAK {{\"delay\": {}}}", nak_delay_ms * 1'000'000);
    return reply(msg, verb.c_str());
  }

  void settled() {
    {
      std::lock_guard lock(mutex);
      --in_flight;
    }
    room.notify_all();
  }
};

std::string metadata_text(std::uint64_t n) { return std::to_string(n); }

class DeliveryAck final : public AcknowledgementWithReason {
 public:
  DeliveryAck(std::shared_ptr<Consumer> consumer, natsMsg* msg, std::uint64_t delivered, std::uint64_t sequence)
      : consumer_(std::move(consumer)), msg_(msg), delivered_(delivered), sequence_(sequence) {}

  ~DeliveryAck() override {
    const auto failure = this->failure();
    natsStatus status = NATS_OK;
    const char* verb = "ack";
    if (!failure) {
      status = consumer_->reply(msg_, "+ACK");
    } else if (*failure == AckFailure::abandoned) {
      verb = "nak";
      status = consumer_->reply(msg_, "-NAK");
    } else if (consumer_->max_deliver > 0 && delivered_ >= static_cast<std::uint64_t>(consumer_->max_deliver)) {
      verb = "term";
      status = dead_letter() ? consumer_->reply(msg_, "+TERM") : consumer_->nak_later(msg_);
    } else {
      verb = "nak";
      status = consumer_->nak_later(msg_);
    }
    // At debug level, every verdict but a plain ack (those would be a line a
    // message): what a redelivery or a dead letter can be traced by.
    if (failure)
      consumer_->events.logger->debug("{} of stream sequence {} (delivery {}){}", verb, sequence_, delivered_,
                                      status == NATS_OK ? "" : " failed");
    if (status != NATS_OK)
      consumer_->ack_errors([&](std::uint64_t left_out) {
        consumer_->events.logger->warn(
            "{} of stream sequence {} failed: {}; JetStream delivers it again after ack_wait{}", verb, sequence_,
            natsStatus_GetText(status), left_out_text(left_out));
      });
    natsMsg_Destroy(msg_);
    consumer_->settled();
  }

 private:
  // The last delivery failed: publish it where dead letters are kept, and
  // wait for JetStream to store it before the original is terminated.
  // False when it could not be kept (the original is then nak'ed).
  bool dead_letter() {
    Consumer& consumer = *consumer_;
    const std::string reason = this->reason();
    bool kept = true;
    std::string problem;
    if (!consumer.dead_letter_subject.empty()) {
      natsMsg* copy = nullptr;
      natsStatus status = natsMsg_Create(&copy, consumer.dead_letter_subject.c_str(), nullptr,
                                         natsMsg_GetData(msg_), natsMsg_GetDataLength(msg_));
      if (status == NATS_OK) {
        Attributes headers;
        headers_to_attributes(msg_, headers);
        for (const auto& [key, value] : headers)
          if (is_header_name(key) && !is_control_header(key))
            natsMsgHeader_Set(copy, key.c_str(), header_value(value).c_str());
        natsMsgHeader_Set(copy, "source", consumer.stage.c_str());
        natsMsgHeader_Set(copy, "error", header_value(reason).c_str());
        natsMsgHeader_Set(copy, "attempts", metadata_text(delivered_).c_str());
        natsMsgHeader_Set(copy, "nats_subject", natsMsg_GetSubject(msg_));
        natsMsgHeader_Set(copy, "nats_sequence_stream", metadata_text(sequence_).c_str());
        jsErrCode code = static_cast<jsErrCode>(0);
        status = js_PublishMsg(nullptr, consumer.connection->jetstream(), copy, nullptr, &code);
      }
      natsMsg_Destroy(copy);
      if (status != NATS_OK) {
        kept = false;
        problem = error_text(status);
      }
    }
    consumer.dead_letters([&](std::uint64_t left_out) {
      if (consumer.dead_letter_subject.empty())
        consumer.events.logger->error("stream sequence {} failed {} deliveries ({}); terminated{}", sequence_,
                                      delivered_, reason, left_out_text(left_out));
      else if (kept)
        consumer.events.logger->warn("stream sequence {} failed {} deliveries ({}); published to {} and "
                                     "terminated{}",
                                     sequence_, delivered_, reason, consumer.dead_letter_subject,
                                     left_out_text(left_out));
      else
        consumer.events.logger->error("stream sequence {} failed {} deliveries ({}); publishing it to {} failed "
                                      "({}), so it is nak'ed instead{}",
                                      sequence_, delivered_, reason, consumer.dead_letter_subject, problem,
                                      left_out_text(left_out));
    });
    return kept;
  }

  std::shared_ptr<Consumer> consumer_;
  natsMsg* msg_;
  std::uint64_t delivered_;
  std::uint64_t sequence_;
};

class NatsSource final : public Source {
 public:
  NatsSource(const Options& options, const StageContext& context)
      : context_(context),
        logger_(logger_for(context)),
        settings_(options),
        stream_(options[stream]),
        subject_(options[subject]),
        durable_(options[durable]),
        create_stream_(options[create_stream]),
        stream_subjects_(options[stream_subjects]),
        stream_replicas_(options[stream_replicas]),
        create_consumer_(options[create_consumer]),
        ack_wait_(options[ack_wait]),
        max_deliver_(options[max_deliver]),
        nak_delay_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(options[nak_delay]).count()),
        batch_(static_cast<int>(options[batch])),
        max_ack_pending_(options[max_ack_pending]),
        fetch_wait_ms_(milliseconds(options[fetch_wait])),
        dead_letter_subject_(options[dead_letter_subject]) {
    if (max_deliver_ == 0) reject_option(max_deliver.name, "0 deliveries would deliver nothing", "1 or more, or -1");
    auto plain_name = [](const Option<std::string>& option, const std::string& name) {
      if (name.empty() || name.find_first_of(". *>\t") != std::string::npos)
        reject_option(option.name, fmt::format("'{}' is not a valid name", name),
                      "letters, digits, '-' and '_' (no '.', '*', '>' or spaces)");
    };
    plain_name(stream, stream_);
    plain_name(durable, durable_);
  }

  void start() override {
    consumer_ = std::make_shared<Consumer>();
    consumer_->events.logger = logger_;
    consumer_->stage = context_.stage;
    consumer_->nak_delay_ms = nak_delay_ms_;
    consumer_->dead_letter_subject = dead_letter_subject_;
    consumer_->connection = std::make_unique<Connection>(settings_, consumer_->events, "weir " + context_.stage);
    jsCtx* js = consumer_->connection->jetstream();
    if (create_stream_) ensure_stream(js);
    consumer_->max_deliver = ensure_consumer(js);
    // Pull requests are sent by run() itself, to an inbox of ours, rather
    // than through natsSubscription_Fetch: in cnats 3.4.1 (Debian 12) a
    // fetch that finds more than half its batch already queued (messages of
    // an earlier request that arrived late, as after a reconnection) writes
    // past the end of its array.
    natsInbox* inbox = nullptr;
    Connection::check(natsInbox_Create(&inbox), "inbox");
    inbox_ = inbox;
    natsInbox_Destroy(inbox);
    Connection::check(natsConnection_SubscribeSync(&consumer_->subscription, consumer_->connection->get(),
                                                   inbox_.c_str()),
                      "subscribing to the consumer's inbox");
    next_subject_ = fmt::format("$JS.API.CONSUMER.MSG.NEXT.{}.{}", stream_, durable_);
    logger_->info("reading stream '{}' through durable consumer '{}'{}", stream_, durable_,
                  filter_.empty() ? "" : fmt::format(" (subject {})", filter_));
  }

  void run(Emitter& out, std::stop_token stop) override {
    Consumer& consumer = *consumer_;
    RateLimited fetch_errors;
    auto pause_after = [&](std::string_view what, const std::string& problem) {
      fetch_errors([&](std::uint64_t left_out) {
        logger_->warn("{} from stream '{}' failed: {}; trying again{}", what, stream_, problem,
                      left_out_text(left_out));
      });
      // The client reconnects on its own meanwhile; the pause keeps a dead
      // connection from turning this loop into a spin.
      return wait_until(stop, Clock::now() + std::chrono::milliseconds(settings_.reconnect_wait_ms));
    };
    while (!stop.stop_requested()) {
      std::int64_t room = 0;
      {
        std::unique_lock lock(consumer.mutex);
        if (!consumer.room.wait(lock, stop, [&] { return consumer.in_flight < max_ack_pending_; })) return;
        room = max_ack_pending_ - consumer.in_flight;
      }
      const std::int64_t wanted = std::min<std::int64_t>(batch_, room);
      // The server answers with up to `wanted` messages, and ends the
      // request with a status (408) when `fetch_wait` has passed.
      const std::string request =
          fmt::format("{{\"batch\": {}, \"expires\": {}}}", wanted, fetch_wait_ms_ * 1'000'000);
      natsStatus status = natsConnection_PublishRequestString(consumer.connection->get(), next_subject_.c_str(),
                                                              inbox_.c_str(), request.c_str());
      if (status != NATS_OK) {
        if (!pause_after("asking for messages", error_text(status))) return;
        continue;
      }
      const auto deadline = Clock::now() + std::chrono::milliseconds(fetch_wait_ms_ + request_margin_ms);
      for (std::int64_t got = 0; got < wanted && !stop.stop_requested();) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) break;
        natsMsg* msg = nullptr;
        status = natsSubscription_NextMsg(&msg, consumer.subscription, left);
        if (status == NATS_TIMEOUT) break;  // the request was lost (a reconnection): ask again
        if (status != NATS_OK) {
          if (!pause_after("receiving messages", error_text(status))) return;
          break;
        }
        const char* code = nullptr;
        if (natsMsgHeader_Get(msg, "Status", &code) == NATS_OK && code && !natsMsg_GetReply(msg)) {
          // 100: a heartbeat; 404/408: no (more) messages for this request;
          // 409: the server ended it (limits, a leader change): ask again.
          const bool done = std::string_view(code) != "100";
          if (std::string_view(code) == "409") {
            const char* description = nullptr;
            natsMsgHeader_Get(msg, "Description", &description);
            if (description && std::string_view(description) == "Consumer Deleted") {
              // Its requests would go unanswered from now on: a silent stall.
              // Creating it again would read the stream again from its start
              // (its acknowledgements are gone with it): the operator decides.
              natsMsg_Destroy(msg);
              throw PermanentError(fmt::format(
                  "consumer '{}' of stream '{}' was deleted on the server while this stage read through it. Run "
                  "again to create it anew (create_consumer: true; it starts again from the stream's first "
                  "message), or name another `durable`",
                  durable_, stream_));
            }
            fetch_errors([&](std::uint64_t left_out) {
              logger_->warn("stream '{}': the server ended a pull request: {}{}", stream_,
                            description ? description : code, left_out_text(left_out));
            });
          }
          natsMsg_Destroy(msg);
          if (done) break;
          continue;
        }
        ++got;
        {
          std::lock_guard lock(consumer.mutex);
          ++consumer.in_flight;  // messages of a lost request count too: they are ours now
        }
        if (!out.emit(message_of(msg))) return;  // forced: its acknowledgement gives it back (Nak)
      }
    }
  }

  // After the drain: every acknowledgement has settled (or was abandoned).
  // What they sent is flushed to the server before the connection closes.
  void stop() override {
    if (consumer_ && consumer_->connection) consumer_->connection->close(5000);
  }

 private:
  Message message_of(natsMsg* msg) {
    Message message(std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
    headers_to_attributes(msg, message.attributes);
    message.attributes.set("nats_subject", natsMsg_GetSubject(msg));
    std::uint64_t delivered = 1, sequence = 0;
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      delivered = meta->NumDelivered;
      sequence = meta->Sequence.Stream;
      message.attributes.set("nats_stream", meta->Stream ? meta->Stream : stream_);
      message.attributes.set("nats_consumer", meta->Consumer ? meta->Consumer : durable_);
      message.attributes.set("nats_sequence_stream", metadata_text(meta->Sequence.Stream));
      message.attributes.set("nats_sequence_consumer", metadata_text(meta->Sequence.Consumer));
      message.attributes.set("nats_num_delivered", metadata_text(meta->NumDelivered));
      message.attributes.set("nats_num_pending", metadata_text(meta->NumPending));
      message.attributes.set("nats_timestamp_unix_nano", std::to_string(meta->Timestamp));
      if (meta->Domain && *meta->Domain) message.attributes.set("nats_domain", meta->Domain);
      jsMsgMetaData_Destroy(meta);
    }
    if (delivered > 1) logger_->debug("stream sequence {} delivered again (delivery {})", sequence, delivered);
    message.ack = std::make_shared<DeliveryAck>(consumer_, msg, delivered, sequence);
    return message;
  }

  void ensure_stream(jsCtx* js) {
    jsStreamInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus status = js_GetStreamInfo(&info, js, stream_.c_str(), nullptr, &code);
    if (status == NATS_OK) {
      jsStreamInfo_Destroy(info);
      return;
    }
    if (status != NATS_NOT_FOUND && code != JSStreamNotFoundErr)
      throw PermanentError(fmt::format("looking up stream '{}': {}", stream_, error_text(status)));
    std::vector<std::string> stored = stream_subjects_;
    if (stored.empty()) stored.push_back(subject_.empty() ? stream_ + ".>" : subject_);
    std::vector<const char*> subjects;
    for (const auto& one : stored) subjects.push_back(one.c_str());
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = stream_.c_str();
    config.Subjects = subjects.data();
    config.SubjectsLen = static_cast<int>(subjects.size());
    config.Storage = js_FileStorage;
    config.Replicas = stream_replicas_;
    status = js_AddStream(&info, js, &config, nullptr, &code);
    if (status == NATS_OK) {
      logger_->info("created stream '{}' storing {}", stream_, fmt::join(stored, ", "));
      jsStreamInfo_Destroy(info);
    } else if (code != JSStreamNameExistErr) {  // another process made it first: fine
      throw PermanentError(fmt::format("creating stream '{}': {}", stream_, error_text(status)));
    }
  }

  // The consumer's max_deliver as the server has it.
  std::int64_t ensure_consumer(jsCtx* js) {
    jsConsumerInfo* info = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus status = js_GetConsumerInfo(&info, js, stream_.c_str(), durable_.c_str(), nullptr, &code);
    if (status != NATS_OK && status != NATS_NOT_FOUND && code != JSConsumerNotFoundErr)
      throw PermanentError(fmt::format("looking up consumer '{}' of stream '{}': {}", durable_, stream_,
                                       error_text(status)));
    if (status != NATS_OK) {
      if (!create_consumer_)
        throw PermanentError(fmt::format("stream '{}' has no consumer '{}' (set create_consumer: true to create it)",
                                         stream_, durable_));
      jsConsumerConfig config;
      jsConsumerConfig_Init(&config);
      config.Durable = durable_.c_str();
      config.AckPolicy = js_AckExplicit;
      config.AckWait = ack_wait_.count();
      config.MaxDeliver = max_deliver_;
      config.MaxAckPending = max_ack_pending_;
      if (!subject_.empty()) config.FilterSubject = subject_.c_str();
      status = js_AddConsumer(&info, js, stream_.c_str(), &config, nullptr, &code);
      if (status != NATS_OK) {  // another process may have made it first
        status = js_GetConsumerInfo(&info, js, stream_.c_str(), durable_.c_str(), nullptr, &code);
        if (status != NATS_OK)
          throw PermanentError(fmt::format("creating consumer '{}' of stream '{}': {}", durable_, stream_,
                                           error_text(status)));
      } else {
        logger_->info("created durable consumer '{}' of stream '{}'", durable_, stream_);
      }
    }
    const jsConsumerConfig& have = *info->Config;
    filter_ = have.FilterSubject ? have.FilterSubject : "";
    if (filter_ != subject_ || have.AckWait != ack_wait_.count() || have.MaxDeliver != max_deliver_ ||
        have.MaxAckPending != max_ack_pending_)
      logger_->warn("consumer '{}' exists with other settings (subject '{}', ack_wait {}, max_deliver {}, "
                    "max_ack_pending {}); they are used as they are",
                    durable_, filter_, format_duration(Value::Duration(have.AckWait)), have.MaxDeliver,
                    have.MaxAckPending);
    const std::int64_t server_max_deliver = have.MaxDeliver;
    jsConsumerInfo_Destroy(info);
    return server_max_deliver;
  }

  StageContext context_;
  std::shared_ptr<spdlog::logger> logger_;
  ConnectionSettings settings_;
  std::string stream_;
  std::string subject_;
  std::string durable_;
  bool create_stream_;
  std::vector<std::string> stream_subjects_;
  std::int64_t stream_replicas_;
  bool create_consumer_;
  Value::Duration ack_wait_;
  std::int64_t max_deliver_;
  std::int64_t nak_delay_ms_;
  int batch_;
  std::int64_t max_ack_pending_;
  std::int64_t fetch_wait_ms_;
  std::string dead_letter_subject_;
  std::string filter_;  // the consumer's filter subject, as the server has it
  std::string inbox_;         // where the server sends what we pull
  std::string next_subject_;  // where pull requests go
  // How long past `fetch_wait` a pull request is waited for before it is
  // taken as lost (a reconnection) and asked again.
  static constexpr std::int64_t request_margin_ms = 1000;
  std::shared_ptr<Consumer> consumer_;
};

}  // namespace

WEIR_PLUGIN(nats_source) {
    .name = "nats",
    .kind = Kind::source,
    .description = "Messages of a NATS JetStream stream through a durable pull consumer that several weir processes "
                   "may share; each is acknowledged once the pipeline has finished with it (at-least-once)",
    .options = connection_options_with(stream, subject, durable, create_stream, stream_subjects, stream_replicas,
                                       create_consumer, ack_wait, max_deliver, nak_delay, batch, max_ack_pending,
                                       fetch_wait, dead_letter_subject),
    .example = plugin_example,
    .create = construct<NatsSource>,
};

}  // namespace weir::weir_std::nats
