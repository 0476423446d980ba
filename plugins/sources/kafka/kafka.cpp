// kafka (source): messages of Kafka topics, read as a member of a consumer
// group (the brokers share the topics' partitions among the members).
//
// Every message goes out with an acknowledgement, and offsets are committed
// by the source itself, never automatically: per partition, the committed
// offset is the lowest message not yet finished (or the one after the last
// read, when all are), so a crash repeats what was in flight and loses
// nothing. The source reads at most `max_in_flight` messages beyond what its
// commits cover: the bound on what a kill -9 reads again.
//
// Each assignment of a partition has its own ledger. When a partition is
// revoked (a rebalance), the source waits up to `revoke_wait` for its
// messages in flight to finish, commits the ledger's mark and retires the
// ledger: acknowledgements that settle later land in the retired ledger and
// never move the offsets of a later assignment of the same partition.

#include <weir_std/kafka_client.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <utility>

namespace weir::weir_std::kafka {
namespace {

enum class StartOffset { earliest, latest };

const Option<std::vector<std::string>> topics{
    .name = "topics",
    .description = "Topics to read; an entry starting with `^` is a regular expression (librdkafka's syntax) "
                   "matching topic names, new ones included",
    .required = true,
    .example = "[orders, '^logs\\..*']"};
const Option<std::string> group{
    .name = "group",
    .description = "Consumer group id. Processes that name the same group share the partitions (each message goes "
                   "to one of them), and the group's committed offsets survive restarts",
    .required = true,
    .example = "weir-orders"};
const Option<StartOffset> start_offset{
    .name = "start_offset",
    .description = "Where a partition with no committed offset for the group starts: its `earliest` message or "
                   "only what arrives from now on (`latest`)",
    .default_value = "earliest",
    .choices = {{"earliest", StartOffset::earliest}, {"latest", StartOffset::latest}}};
const Option<std::int64_t> max_in_flight{
    .name = "max_in_flight",
    .description = "Messages read and not yet covered by a committed offset, at most, per replica: the bound on "
                   "what a crash reads again. At the bound, reading waits for messages to finish",
    .default_value = "4096",
    .min = 1};
const Option<Value::Duration> commit_interval{
    .name = "commit_interval",
    .description = "How often the offsets of finished messages are committed (also at once when `max_in_flight` "
                   "is reached, on a rebalance and at the end)",
    .default_value = "1s",
    .min = 0.001};
const Option<Value::Duration> revoke_wait{
    .name = "revoke_wait",
    .description = "When a rebalance takes partitions away, how long the source waits for their messages in flight "
                   "to finish before it commits and lets them go; what is still unfinished then is read again by "
                   "the partitions' next owner",
    .default_value = "10s",
    .min = 0};
const Option<Value::Duration> close_timeout{
    .name = "close_timeout",
    .description = "When the run ends, how long the source waits to leave the group cleanly, after it has "
                   "committed what finished. A group in the middle of a rebalance can hold a leaving member up "
                   "to `session_timeout`; past this wait the source lets go without leaving, and the group "
                   "removes it when its session times out. Keep it below the runtime's stop grace (2 s)",
    .default_value = "1s",
    .min = 0};
const Option<Value::Duration> session_timeout{
    .name = "session_timeout",
    .description = "A member not heard from this long (a crashed process) is removed from the group and its "
                   "partitions go to the others (`session.timeout.ms`)",
    .default_value = "45s",
    .min = 0.001};

// One assignment of one partition: the messages read and not yet covered by
// a committed offset, in offset order, each with whether it is finished.
struct Ledger {
  std::string topic;
  std::int32_t partition = 0;
  std::map<std::int64_t, bool> uncommitted;  // offset -> finished
  std::int64_t next = -1;                    // the offset after the last message read; -1: none read
  std::int64_t committed = -1;               // the offset last committed by this ledger
  std::int64_t unsettled = 0;                // acknowledgements not yet settled
  bool retired = false;                      // revoked: its acknowledgements change nothing any more

  // The offset to commit: the lowest unfinished message, or the one after
  // the last read.
  std::int64_t mark() const {
    for (const auto& [offset, finished] : uncommitted)
      if (!finished) return offset;
    return next;
  }
};

// What the source thread and the acknowledgements (settled on any stage's
// thread) share.
struct Books {
  std::mutex mutex;
  std::condition_variable_any changed;  // an acknowledgement settled
  std::int64_t uncommitted = 0;         // messages in the ledgers' `uncommitted`, all ledgers live
  bool settled_since_commit = false;
};

class MessageAck final : public TrackedAcknowledgement {
 public:
  MessageAck(std::shared_ptr<Books> books, std::shared_ptr<Ledger> ledger, std::int64_t offset)
      : books_(std::move(books)), ledger_(std::move(ledger)), offset_(offset) {}
  MessageAck(const MessageAck&) = delete;
  MessageAck& operator=(const MessageAck&) = delete;

  // Failed and dropped messages are finished: the pipeline decided their
  // fate (on_error, when_full) and counted them. An abandoned one (a forced
  // stop) is not: the mark stays before it and the next run reads it again.
  ~MessageAck() override {
    {
      std::lock_guard lock(books_->mutex);
      --ledger_->unsettled;
      if (!ledger_->retired && failure() != AckFailure::abandoned) {
        auto it = ledger_->uncommitted.find(offset_);
        if (it != ledger_->uncommitted.end()) it->second = true;
      }
      books_->settled_since_commit = true;
    }
    books_->changed.notify_all();
  }

 private:
  std::shared_ptr<Books> books_;
  std::shared_ptr<Ledger> ledger_;
  std::int64_t offset_;
};

class PartitionList {
 public:
  explicit PartitionList(int size = 0) : list_(rd_kafka_topic_partition_list_new(size)) {}
  ~PartitionList() { rd_kafka_topic_partition_list_destroy(list_); }
  PartitionList(const PartitionList&) = delete;
  PartitionList& operator=(const PartitionList&) = delete;
  rd_kafka_topic_partition_list_t* get() const noexcept { return list_; }

 private:
  rd_kafka_topic_partition_list_t* list_;
};

class KafkaSource final : public Source {
 public:
  KafkaSource(const Options& options, const StageContext& context)
      : context_(context),
        logger_(logger_for(context)),
        topics_(options[topics]),
        group_name_(options[group]),
        max_in_flight_(options[max_in_flight]),
        commit_interval_(options[commit_interval]),
        revoke_wait_(options[revoke_wait]),
        close_timeout_(options[close_timeout]),
        settings_(options,
                  {{"client.id", "weir " + context.stage},
                   {"group.id", options[group]},
                   {"enable.auto.commit", "false"},  // the source commits what is finished, itself
                   {"enable.auto.offset.store", "false"},
                   {"enable.partition.eof", "false"},
                   {"auto.offset.reset", options[start_offset] == StartOffset::earliest ? "earliest" : "latest"},
                   {"session.timeout.ms", std::to_string(milliseconds(options[session_timeout]))}}) {
    if (topics_.empty()) reject_option(topics.name, "no topic given", "[orders] or ['^logs\\..*']");
    for (std::size_t i = 0; i < topics_.size(); ++i) {
      const std::string& name = topics_[i];
      if (name.starts_with('^')) continue;
      const bool legal = !name.empty() && name.size() <= 249 && name.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos;
      if (!legal)
        reject_option(fmt::format("{}[{}]", topics.name, i), fmt::format("'{}' is not a Kafka topic name", name),
                      "letters, digits, '.', '_' and '-', at most 249; or a pattern starting with '^'");
    }
    if (group_name_.empty()) reject_option(group.name, "is empty", "a group id such as weir-orders");
  }

  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;
  ~KafkaSource() override { close(); }

  void start() override {
    events_.logger = logger_;
    books_ = std::make_shared<Books>();
    rd_kafka_conf_t* conf = settings_.configuration(events_);
    rd_kafka_conf_set_rebalance_cb(conf, &KafkaSource::on_rebalance);
    consumer_ = settings_.create(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(consumer_);  // one queue: messages, rebalances, errors
    queue_ = rd_kafka_queue_get_consumer(consumer_);
    PartitionList subscription(static_cast<int>(topics_.size()));
    for (const auto& name : topics_)
      rd_kafka_topic_partition_list_add(subscription.get(), name.c_str(), RD_KAFKA_PARTITION_UA);
    if (rd_kafka_resp_err_t error = rd_kafka_subscribe(consumer_, subscription.get()))
      throw PermanentError(fmt::format("subscribing to {}: {}", fmt::join(topics_, ", "), rd_kafka_err2str(error)));
    logger_->info("reading {} as a member of group '{}'", fmt::join(topics_, ", "), group_name_);
  }

  void run(Emitter& out, std::stop_token stop) override {
    // A stop request wakes a consumer poll at once.
    std::stop_callback wake(stop, [queue = queue_] { rd_kafka_queue_yield(queue); });
    auto next_commit = Clock::now() + commit_interval_;
    RateLimited consume_errors;
    while (!stop.stop_requested()) {
      if (Clock::now() >= next_commit) {
        commit(false);
        next_commit = Clock::now() + commit_interval_;
      }
      int poll_ms = 0;
      if (at_bound()) {
        // Fetching pauses until messages finish and their commit makes room;
        // the consumer is still served (rebalances, the group's heartbeat
        // bookkeeping), between waits for acknowledgements.
        pause(true);
        bool settled = false;
        {
          std::unique_lock lock(books_->mutex);
          books_->changed.wait_until(lock, stop, std::min(next_commit, Clock::now() + bound_wait),
                                     [&] { return books_->settled_since_commit; });
          settled = books_->settled_since_commit;
        }
        if (settled) {
          commit(false);
          next_commit = Clock::now() + commit_interval_;
        }
      } else {
        pause(false);
        poll_ms = static_cast<int>(std::clamp<std::int64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(next_commit - Clock::now()).count(), 1, 500));
      }
      // A message fetched before the pause took effect is taken all the same.
      rd_kafka_message_t* record = rd_kafka_consumer_poll(consumer_, poll_ms);
      if (!record) continue;  // the wait ran out, a rebalance was served, or a stop woke it
      if (record->err) {
        const std::string text = rd_kafka_message_errstr(record);
        rd_kafka_message_destroy(record);
        consume_errors([&](std::uint64_t left_out) {
          logger_->warn("kafka: {}{}", text, left_out_text(left_out));
        });
        continue;
      }
      Message message = message_of(record);
      rd_kafka_message_destroy(record);
      if (!out.emit(std::move(message))) return;  // forced: abandoned, read again by the next run
    }
  }

  // After the drain: every acknowledgement has settled (or was abandoned).
  void stop() override {
    if (!consumer_) return;
    commit(true);
    close();
  }

 private:
  // Pauses or resumes fetching from every assigned partition. After an
  // assignment changed, it does so whatever it did last: librdkafka keeps a
  // partition paused across an unassign, so one paused in an earlier
  // assignment and given back later would stay paused, and the consumer
  // would never read it again (the group test saw it stall). On resuming, each
  // partition is sought to the offset after the last message this
  // source read from it: pausing drops what librdkafka had fetched ahead,
  // and librdkafka 2.0.2 resumed past it (the tests lost the last 75
  // messages of two partitions that way), which would skip messages.
  void pause(bool paused) {
    if (paused == paused_ && !assignment_changed_) return;
    rd_kafka_topic_partition_list_t* assignment = nullptr;
    if (rd_kafka_assignment(consumer_, &assignment) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (paused) {
      rd_kafka_pause_partitions(consumer_, assignment);
    } else {
      PartitionList positions;
      {
        std::lock_guard lock(books_->mutex);
        for (int i = 0; i < assignment->cnt; ++i) {
          auto it = ledgers_.find({assignment->elems[i].topic, assignment->elems[i].partition});
          if (it != ledgers_.end() && it->second->next >= 0)
            rd_kafka_topic_partition_list_add(positions.get(), it->second->topic.c_str(), it->second->partition)
                ->offset = it->second->next;
        }
      }
      // Resumed first: the seek wakes the partitions' fetcher, which a
      // resume alone leaves asleep for up to a second (librdkafka 2.0.2; a
      // consumer at its bound paid that second every time). What was fetched
      // from the old position before the seek is discarded by librdkafka.
      rd_kafka_resume_partitions(consumer_, assignment);
      if (positions.get()->cnt > 0)
        if (rd_kafka_error_t* error = rd_kafka_seek_partitions(consumer_, positions.get(), seek_timeout_ms)) {
          logger_->error("kafka: seeking to where reading stopped: {}", rd_kafka_error_string(error));
          rd_kafka_error_destroy(error);
        }
    }
    rd_kafka_topic_partition_list_destroy(assignment);
    paused_ = paused;
    assignment_changed_ = false;
  }

  bool at_bound() {
    std::lock_guard lock(books_->mutex);
    return books_->uncommitted >= max_in_flight_;
  }

  Message message_of(const rd_kafka_message_t* record) {
    Message message(record->payload ? std::string(static_cast<const char*>(record->payload), record->len)
                                    : std::string());
    rd_kafka_headers_t* list = nullptr;
    if (rd_kafka_message_headers(record, &list) == RD_KAFKA_RESP_ERR_NO_ERROR && list) {
      const char* name = nullptr;
      const void* value = nullptr;
      std::size_t size = 0;
      for (std::size_t i = 0; rd_kafka_header_get_all(list, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i)
        message.attributes.set(name, value ? std::string(static_cast<const char*>(value), size) : std::string());
    }
    const std::string topic_name = rd_kafka_topic_name(record->rkt);
    if (record->key)
      message.attributes.set("kafka_key", std::string(static_cast<const char*>(record->key), record->key_len));
    message.attributes.set("kafka_topic", topic_name);
    message.attributes.set("kafka_partition", std::to_string(record->partition));
    message.attributes.set("kafka_offset", std::to_string(record->offset));
    rd_kafka_timestamp_type_t kind = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    const std::int64_t timestamp = rd_kafka_message_timestamp(record, &kind);
    if (kind != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) {
      message.attributes.set("kafka_timestamp_ms", std::to_string(timestamp));
      message.attributes.set("kafka_timestamp_unix", std::to_string(timestamp / 1000));
    }
    std::shared_ptr<Ledger> ledger;
    {
      std::lock_guard lock(books_->mutex);
      auto& slot = ledgers_[{topic_name, record->partition}];
      // Only a message of a partition no rebalance announced (none should
      // come) finds no ledger: it gets one, so it is tracked all the same.
      if (!slot) slot = new_ledger(topic_name, record->partition);
      ledger = slot;
      ledger->uncommitted.emplace(record->offset, false);
      ledger->next = std::max(ledger->next, record->offset + 1);
      ++ledger->unsettled;
      ++books_->uncommitted;
    }
    message.ack = std::make_shared<MessageAck>(books_, std::move(ledger), record->offset);
    return message;
  }

  static std::shared_ptr<Ledger> new_ledger(const std::string& topic, std::int32_t partition) {
    auto ledger = std::make_shared<Ledger>();
    ledger->topic = topic;
    ledger->partition = partition;
    return ledger;
  }

  // Commits the marks that moved, of every live ledger, or of `only` those.
  // Synchronous: a commit that returns has been stored by the group
  // coordinator, so the room it makes is real. Runs on the source thread
  // (or in stop()).
  // Returns how many messages read stay uncommitted in the ledgers whose
  // commit was refused.
  std::int64_t commit(bool at_end, const std::vector<std::shared_ptr<Ledger>>* only = nullptr) {
    PartitionList offsets;
    std::vector<std::pair<std::shared_ptr<Ledger>, std::int64_t>> moved;
    {
      std::lock_guard lock(books_->mutex);
      books_->settled_since_commit = false;
      auto consider = [&](const std::shared_ptr<Ledger>& ledger) {
        const std::int64_t mark = ledger->mark();
        if (mark < 0 || mark <= ledger->committed) return;
        rd_kafka_topic_partition_list_add(offsets.get(), ledger->topic.c_str(), ledger->partition)->offset = mark;
        moved.emplace_back(ledger, mark);
      };
      if (only)
        for (const auto& ledger : *only) consider(ledger);
      else
        for (const auto& [where, ledger] : ledgers_) consider(ledger);
    }
    if (moved.empty()) return 0;
    const rd_kafka_resp_err_t error = rd_kafka_commit(consumer_, offsets.get(), 0);
    std::lock_guard lock(books_->mutex);
    std::size_t refused = 0;
    std::int64_t uncovered = 0;
    for (std::size_t i = 0; i < moved.size(); ++i) {
      // Not a structured binding: clang 14 cannot capture one in the lambda below.
      auto& ledger = std::get<0>(moved[i]);
      auto& mark = std::get<1>(moved[i]);
      const rd_kafka_resp_err_t partition_error = error ? error : offsets.get()->elems[i].err;
      if (partition_error) {
        ++refused;
        uncovered += static_cast<std::int64_t>(ledger->uncommitted.size());
        commit_errors_([&](std::uint64_t left_out) {
          logger_->warn("committing offset {} of {} [{}] failed: {}; tried again at the next commit{}", mark,
                        ledger->topic, ledger->partition, rd_kafka_err2str(partition_error),
                        left_out_text(left_out));
        });
        continue;
      }
      ledger->committed = mark;
      // What the commit covers is no longer in flight.
      if (!ledger->retired) {
        const auto end = ledger->uncommitted.lower_bound(mark);
        books_->uncommitted -= std::distance(ledger->uncommitted.begin(), end);
        ledger->uncommitted.erase(ledger->uncommitted.begin(), end);
      }
    }
    if (at_end && refused) logger_->error("{} partitions' final offsets could not be committed", refused);
    return uncovered;
  }

  static void on_rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t error, rd_kafka_topic_partition_list_t* partitions,
                           void* opaque) {
    auto* self = static_cast<KafkaSource*>(static_cast<ClientEvents*>(opaque)->owner);
    const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE";
    const bool assigning = error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    if (assigning)
      self->assigned(partitions);
    else
      self->revoked(partitions);
    if (!cooperative) {
      // The eager protocol replaces the whole assignment at once.
      rd_kafka_assign(handle, assigning ? partitions : nullptr);
      return;
    }
    rd_kafka_error_t* problem = assigning ? rd_kafka_incremental_assign(handle, partitions)
                                          : rd_kafka_incremental_unassign(handle, partitions);
    if (problem) {
      self->logger_->error("kafka: {}: {}", assigning ? "assigning partitions" : "giving partitions up",
                           rd_kafka_error_string(problem));
      rd_kafka_error_destroy(problem);
    }
  }

  void assigned(const rd_kafka_topic_partition_list_t* partitions) {
    assignment_changed_ = true;
    rebalancing_ = false;
    std::lock_guard lock(books_->mutex);
    for (int i = 0; i < partitions->cnt; ++i) {
      const auto& p = partitions->elems[i];
      auto& slot = ledgers_[{p.topic, p.partition}];
      // A ledger no revocation retired (messages that came before any
      // assignment): its messages leave the count, its late acknowledgements
      // change nothing.
      if (slot) retire(*slot);
      slot = new_ledger(p.topic, p.partition);
    }
    logger_->info("assigned {} partitions (now {})", partitions->cnt, ledgers_.size());
  }

  // Under books_->mutex.
  void retire(Ledger& ledger) {
    ledger.retired = true;
    books_->uncommitted -= static_cast<std::int64_t>(ledger.uncommitted.size());
    ledger.uncommitted.clear();
  }

  // Waits (bounded) for the partitions' messages in flight, commits what
  // finished and retires their ledgers.
  void revoked(const rd_kafka_topic_partition_list_t* partitions) {
    rebalancing_ = true;  // until the group assigns again
    std::vector<std::shared_ptr<Ledger>> leaving;
    {
      std::lock_guard lock(books_->mutex);
      for (int i = 0; i < partitions->cnt; ++i) {
        auto it = ledgers_.find({partitions->elems[i].topic, partitions->elems[i].partition});
        if (it != ledgers_.end()) leaving.push_back(it->second);
      }
    }
    auto unsettled = [&] {
      std::int64_t open = 0;
      for (const auto& ledger : leaving) open += ledger->unsettled;
      return open;
    };
    {
      std::unique_lock lock(books_->mutex);
      books_->changed.wait_until(lock, context_.stop, Clock::now() + revoke_wait_, [&] { return unsettled() == 0; });
    }
    const std::int64_t uncovered = commit(false, &leaving);
    std::int64_t left = 0;
    {
      std::lock_guard lock(books_->mutex);
      for (const auto& ledger : leaving) {
        left += ledger->unsettled;
        retire(*ledger);
        ledgers_.erase({ledger->topic, ledger->partition});
      }
    }
    books_->changed.notify_all();
    if (uncovered)
      logger_->warn("{} partitions revoked; the group refused their commit, so their next owner reads again up to "
                    "{} messages", leaving.size(), uncovered);
    else if (left)
      logger_->warn("{} partitions revoked with {} messages unfinished after {}; their next owner reads them again",
                    leaving.size(), left, format_duration(revoke_wait_));
    else
      logger_->info("{} partitions revoked, their offsets committed", leaving.size());
  }

  // Leaves the group, its rebalance callback giving the partitions up. A
  // member whose partitions a rebalance has taken, and which has asked to
  // join again, cannot leave until the group answers that request, which it
  // holds until every member has joined (seconds, up to the session
  // timeout); librdkafka's close and destroy both wait for it. Such a member
  // has committed what finished (and, eager, holds nothing), so it lets go without
  // leaving, and the group drops it when its session times out. Otherwise
  // the close is bounded by close_timeout all the same.
  void close() {
    if (!consumer_) return;
    if (queue_) rd_kafka_queue_destroy(queue_);
    queue_ = nullptr;
    bool closed = false;
    if (rebalancing_) {
      logger_->info("kafka: stopped in the middle of a rebalance: not leaving the group, which drops this member "
                    "when its session times out");
    } else {
      rd_kafka_queue_t* closing = rd_kafka_queue_new(consumer_);
      if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(consumer_, closing)) {
        logger_->warn("kafka: leaving the group: {}", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
      } else {
        // The queue carries the close's rebalance callbacks and, last, its
        // completion, which wakes the wait.
        const auto until = Clock::now() + close_timeout_;
        while (!(closed = rd_kafka_consumer_closed(consumer_)) && Clock::now() < until)
          rd_kafka_queue_poll_callback(closing, static_cast<int>(std::max<std::int64_t>(
              std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count(), 1)));
        if (!closed)
          logger_->warn("kafka: leaving the group took longer than {} (a rebalance began); waiting for the group to "
                        "answer", format_duration(close_timeout_));
      }
      rd_kafka_queue_destroy(closing);
    }
    rd_kafka_destroy_flags(consumer_, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    consumer_ = nullptr;
  }

  StageContext context_;
  std::shared_ptr<spdlog::logger> logger_;
  std::vector<std::string> topics_;
  std::string group_name_;
  std::int64_t max_in_flight_;
  Value::Duration commit_interval_;
  Value::Duration revoke_wait_;
  Value::Duration close_timeout_;
  ClientSettings settings_;
  RateLimited commit_errors_;
  std::shared_ptr<Books> books_;
  std::map<std::pair<std::string, std::int32_t>, std::shared_ptr<Ledger>> ledgers_;  // live ones; under books_->mutex
  ClientEvents events_{this};  // outlives consumer_: its callbacks point here
  rd_kafka_t* consumer_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
  bool paused_ = false;              // fetching paused at max_in_flight
  bool assignment_changed_ = false;  // since the last pause
  std::atomic<bool> rebalancing_ = false;  // partitions revoked, no assignment since (stop() reads it)
  // At the bound, the longest wait for an acknowledgement before the
  // consumer is served again.
  static constexpr auto bound_wait = std::chrono::milliseconds(100);
  static constexpr int seek_timeout_ms = 5000;
};

}  // namespace

WEIR_PLUGIN(kafka_source) {
    .name = "kafka",
    .kind = Kind::source,
    .description = "Messages of Kafka topics, read as a member of a consumer group; offsets committed only up to "
                   "the lowest unfinished message of each partition (at-least-once)",
    .options = connection_options_with(topics, group, start_offset, max_in_flight, commit_interval, revoke_wait,
                                       close_timeout, session_timeout),
    .example = plugin_example,
    .create = construct<KafkaSource>,
};

}  // namespace weir::weir_std::kafka
