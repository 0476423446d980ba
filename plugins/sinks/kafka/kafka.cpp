// kafka (sink): produces each message to a Kafka topic.
//
// A batch is handed to librdkafka whole (it groups the messages into produce
// requests per partition), and write_batch returns only when every message
// has its delivery report: with the default `acks: all`, stored by every
// in-sync replica of its partition. Only then does the runtime count the
// messages written and let their sources' acknowledgements fire. A message
// the broker refused, or that had no acknowledgement within `timeout`, makes
// write_batch throw; the runtime then writes that batch again one message at
// a time under the stage's on_error policy, and the messages of it that were
// delivered are not produced twice.
//
// Idempotence (on by default) keeps librdkafka's own retries from storing a
// message twice or out of order.

#include <weir_std/batch_failure.hpp>
#include <weir_std/kafka_client.hpp>

#include <weir/plugin.hpp>
#include <weir/template.hpp>

#include <unordered_set>

namespace weir::weir_std::kafka {
namespace {

enum class Acks { all, leader, none };

const Option<Template> topic{
    .name = "topic",
    .description = "The topic to produce to: a template of the message's attributes (`logs.{service}`)",
    .required = true,
    .example = "'orders.{region}'"};
const Option<Template> key{
    .name = "key",
    .description = "A template for the message key (the partition follows from it: one key, one partition, in "
                   "order); empty sends no key and librdkafka spreads the messages",
    .default_value = "''",
    .example = "'{customer_id}'"};
const Option<Acks> acks{.name = "acks",
                        .description = "Which brokers must have stored a message before it counts as delivered: "
                                       "`all` in-sync replicas, the partition `leader` only, or `none` (nothing "
                                       "waited for; the message is finished once sent)",
                        .default_value = "all",
                        .choices = {{"all", Acks::all}, {"leader", Acks::leader}, {"none", Acks::none}}};
const Option<bool> idempotence{
    .name = "idempotence",
    .description = "Idempotent producer: the brokers drop what librdkafka's retries would store twice, and keep "
                   "each partition in order. Needs `acks: all`",
    .default_value = "true"};
const Option<bool> headers{
    .name = "headers",
    .description = "Send the message's attributes as Kafka headers (the `kafka` source turns headers back into "
                   "attributes), except those named `kafka_…`, which describe where a message was read",
    .default_value = "true"};
const Option<Value::Duration> timeout{
    .name = "timeout",
    .description = "How long a message may wait for its delivery (librdkafka's retries included) before it "
                   "counts as failed and follows on_error (librdkafka's `message.timeout.ms`)",
    .default_value = "30s",
    .min = 0.001};
const Option<Value::Duration> linger{
    .name = "linger",
    .description = "How long librdkafka waits to fill a produce request (`linger.ms`). The sink hands over a "
                   "whole batch and then waits for its delivery, so lingering only adds latency",
    .default_value = "0s",
    .min = 0};

std::string_view acks_text(Acks a) { return a == Acks::all ? "all" : a == Acks::leader ? "1" : "0"; }

// Fatal for one message: another attempt cannot succeed.
bool permanent(rd_kafka_resp_err_t error) {
  switch (error) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

class KafkaSink final : public Sink {
 public:
  KafkaSink(const Options& options, const StageContext& context)
      : logger_(logger_for(context)),
        stop_(context.stop),
        topic_(options[topic]),
        key_(options[key]),
        headers_(options[headers]),
        timeout_ms_(milliseconds(options[timeout])),
        settings_(options, {{"client.id", "weir " + context.stage},
                            {"acks", std::string(acks_text(options[acks]))},
                            {"enable.idempotence", options[idempotence] ? "true" : "false"},
                            {"message.timeout.ms", std::to_string(timeout_ms_)},
                            {"linger.ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                             options[linger]).count())}}) {
    if (options[idempotence] && options[acks] != Acks::all)
      reject_option(acks.name, "idempotence needs acks: all", "acks: all, or idempotence: false");
  }

  KafkaSink(const KafkaSink&) = delete;
  KafkaSink& operator=(const KafkaSink&) = delete;
  ~KafkaSink() override { close(); }

  void start() override {
    events_.logger = logger_;
    rd_kafka_conf_t* conf = settings_.configuration(events_);
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaSink::on_delivery);
    producer_ = settings_.create(RD_KAFKA_PRODUCER, conf);
  }

  void write(const Message& message) override {
    // Delivered already, in the batch whose failure the runtime is now
    // writing again one by one: not produced twice.
    if (delivered_in_failed_batch_.erase(message.id)) return;
    produce({&message, 1});
  }

  void write_batch(std::span<const Message> batch) override {
    delivered_in_failed_batch_.clear();
    produce(batch);
  }

  // Every message was delivered (or failed) before write_batch returned;
  // nothing is left to flush but librdkafka's own requests.
  void stop() override { close(); }

 private:
  // One delivery report: the message's index in the batch travels as its
  // opaque, the batch's Reports as the handle's.
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque) {
    auto* self = static_cast<KafkaSink*>(static_cast<ClientEvents*>(opaque)->owner);
    const auto index = reinterpret_cast<std::uintptr_t>(report->_private);
    if (index >= self->done_.size() || self->done_[index]) return;
    self->done_[index] = true;
    self->errors_[index] = report->err;
    --self->outstanding_;
  }

  void produce(std::span<const Message> batch) {
    if (!producer_) throw RetryableError("the Kafka producer is not running");
    errors_.assign(batch.size(), RD_KAFKA_RESP_ERR_NO_ERROR);
    done_.assign(batch.size(), false);
    outstanding_ = 0;
    std::string topic_text, key_text;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const Message& message = batch[i];
      topic_text.clear();
      topic_.render_to(topic_text, message);
      key_text.clear();
      if (!key_.text().empty()) key_.render_to(key_text, message);
      rd_kafka_headers_t* list = nullptr;
      if (headers_) {
        list = rd_kafka_headers_new(message.attributes.size());
        for (const auto& [name, value] : message.attributes)
          if (!name.starts_with("kafka_"))
            rd_kafka_header_add(list, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                                static_cast<ssize_t>(value.size()));
      }
      ++outstanding_;
      rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
      // A full local queue waits for librdkafka to send (and report) some.
      for (;;) {
        error = rd_kafka_producev(
            producer_, RD_KAFKA_V_TOPIC(topic_text.c_str()),
            RD_KAFKA_V_VALUE(const_cast<char*>(message.payload.data()), message.payload.size()),
            RD_KAFKA_V_KEY(key_text.empty() ? nullptr : key_text.data(), key_text.size()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(i)),
            RD_KAFKA_V_HEADERS(list), RD_KAFKA_V_END);
        if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
        rd_kafka_poll(producer_, 100);
      }
      if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // Not taken: the headers are still ours.
        if (list) rd_kafka_headers_destroy(list);
        if (!done_[i]) {
          done_[i] = true;
          errors_[i] = error;
          --outstanding_;
        }
      }
    }
    // Every message gets a report within message.timeout.ms; the margin
    // covers librdkafka's timer scan (once a second).
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_ + 2000);
    while (outstanding_ > 0 && !stop_.stop_requested()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) break;
      rd_kafka_poll(producer_, static_cast<int>(std::min<std::int64_t>(left, 1000)));
    }
    std::size_t failed = 0;
    bool all_permanent = true;
    rd_kafka_resp_err_t first = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!done_[i]) errors_[i] = RD_KAFKA_RESP_ERR__TIMED_OUT;
      if (errors_[i] == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      ++failed;
      if (first == RD_KAFKA_RESP_ERR_NO_ERROR) first = errors_[i];
      all_permanent = all_permanent && permanent(errors_[i]);
    }
    if (failed == 0) return;
    if (batch.size() > 1)
      for (std::size_t i = 0; i < batch.size(); ++i)
        if (errors_[i] == RD_KAFKA_RESP_ERR_NO_ERROR) delivered_in_failed_batch_.insert(batch[i].id);
    if (rd_kafka_fatal_error(producer_, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // An idempotent producer that lost its guarantees stops for good:
      // a new one takes over for the next write.
      logger_->error("the Kafka producer hit a fatal error; starting a new one");
      close();
      start();
    }
    const std::string text = batch_failure_text("producing to Kafka", failed, batch.size(), rd_kafka_err2str(first));
    if (all_permanent) throw PermanentError(text);
    throw RetryableError(text);
  }

  void close() {
    if (!producer_) return;
    // Anything still queued is already counted as failed (its batch threw),
    // so a short flush is all the courtesy owed.
    rd_kafka_flush(producer_, 1000);
    rd_kafka_destroy(producer_);
    producer_ = nullptr;
  }

  std::shared_ptr<spdlog::logger> logger_;
  std::stop_token stop_;  // a forced stop gives up waiting for reports
  Template topic_;
  Template key_;
  bool headers_;
  std::int64_t timeout_ms_;
  ClientSettings settings_;
  ClientEvents events_{this};  // outlives producer_: its callbacks point here
  rd_kafka_t* producer_ = nullptr;
  std::vector<rd_kafka_resp_err_t> errors_;  // per message of the batch being written
  std::vector<bool> done_;
  std::size_t outstanding_ = 0;
  std::unordered_set<std::uint64_t> delivered_in_failed_batch_;
};

}  // namespace

WEIR_PLUGIN(kafka_sink) {
    .name = "kafka",
    .kind = Kind::sink,
    .description = "Produces each message to a Kafka topic (a template), keyed by a template; acks: all and "
                   "idempotence by default, each message finished only when the broker acknowledged it",
    .options = connection_options_with(topic, key, acks, idempotence, headers, timeout, linger),
    .example = plugin_example,
    .create = construct<KafkaSink>,
};

}  // namespace weir::weir_std::kafka
