#pragma once
// What the `kafka` source and sink share: the connection options (declared
// once, so both plugins spell and document them alike), building a checked
// librdkafka configuration from them, and librdkafka's log and error
// callbacks routed to the stage's logger, rate-limited.
//
// Only the kafka plugins include this header; they link librdkafka.

#include <weir_std/option_checks.hpp>
#include <weir_std/rate_limited.hpp>

#include <weir/plugin.hpp>

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace weir::weir_std::kafka {

inline const Option<std::vector<std::string>> brokers{
    .name = "brokers",
    .description = "Bootstrap brokers, `host:port` (an element may be a comma-separated list of them); the client "
                   "learns the rest of the cluster from them",
    .default_value = "['127.0.0.1:9092']",
    .example = "['k1:9092', 'k2:9092']"};
inline const Option<Named<std::string>> librdkafka_options{
    .name = "librdkafka_options",
    .description = "librdkafka configuration properties passed through as they are (SASL, TLS, tuning: "
                   "`security.protocol`, `sasl.mechanism`, `sasl.username`, `ssl.ca.location`, …); an unknown "
                   "property or a bad value is refused when the pipeline loads. They override what the stage sets",
    .default_value = "{}",
    .example = "{security.protocol: sasl_ssl, sasl.mechanism: SCRAM-SHA-512, sasl.username: weir, "
               "sasl.password: '${KAFKA_PASSWORD}'}"};

inline const Option<Value::Duration> connect_timeout{
    .name = "connect_timeout",
    .description = "How long start() waits for a broker to answer before the run fails (exit 2); once running, "
                   "librdkafka reconnects on its own for ever",
    .default_value = "5s",
    .min = 0.001};

// A kafka plugin's option table: `brokers`, the plugin's own options, then
// the rest of the connection's, so both plugins list (and document) them alike.
template <class... T>
OptionTable connection_options_with(const Option<T>&... own) {
  return OptionTable(brokers, own..., connect_timeout, librdkafka_options);
}

// What librdkafka logs and reports, to the stage's logger. librdkafka calls
// these from its own threads; the handles' opaque points here, so it must
// outlive the handle.
struct ClientEvents {
  explicit ClientEvents(void* stage) noexcept : owner(stage) {}

  void* owner;  // the stage, for the callbacks that need it
  std::shared_ptr<spdlog::logger> logger;
  RateLimited errors{std::chrono::seconds(10)};
  RateLimited logs{std::chrono::seconds(1)};

  static void on_log(const rd_kafka_t* handle, int level, const char* facility, const char* text) {
    auto* self = static_cast<ClientEvents*>(rd_kafka_opaque(handle));
    if (!self) return;
    // syslog levels: 0-3 errors, 4 warnings, 5-6 notices and information.
    const auto spd = level <= 3 ? spdlog::level::err : level == 4 ? spdlog::level::warn : spdlog::level::debug;
    if (!self->logger->should_log(spd)) return;
    self->logs([&](std::uint64_t left_out) {
      self->logger->log(spd, "librdkafka {}: {}{}", facility, text, left_out_text(left_out));
    });
  }

  static void on_error(rd_kafka_t* handle, int error, const char* reason, void* opaque) {
    auto* self = static_cast<ClientEvents*>(opaque);
    if (!self) return;
    const bool fatal = error == RD_KAFKA_RESP_ERR__FATAL;
    std::string text = reason ? reason : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(error));
    if (fatal) {
      char fatal_text[512];
      rd_kafka_fatal_error(handle, fatal_text, sizeof fatal_text);
      text = fatal_text;
    }
    self->errors([&](std::uint64_t left_out) {
      // librdkafka retries on its own (brokers down, reconnections): those
      // are warnings; a fatal error ends the client.
      self->logger->log(fatal ? spdlog::level::err : spdlog::level::warn, "kafka: {}{}{}", fatal ? "fatal: " : "",
                        text, left_out_text(left_out));
    });
  }
};

// The stage's connection options, checked in the constructor against
// librdkafka itself (so a misspelt property is refused when the pipeline
// loads), turned into a configuration in start().
class ClientSettings {
 public:
  // `defaults` are what the stage sets on its own; the pass-through
  // properties come after them and win.
  ClientSettings(const Options& options, std::vector<std::pair<std::string, std::string>> defaults)
      : properties_(std::move(defaults)), connect_timeout_ms_(milliseconds(options[kafka::connect_timeout])) {
    const auto listed = options[kafka::brokers];
    if (listed.empty()) reject_option(kafka::brokers.name, "no broker given", "['127.0.0.1:9092']");
    // An element may itself be a comma-separated list (as an environment
    // variable holding a cluster's bootstrap list would be).
    std::string joined;
    for (const auto& element : listed) {
      std::size_t begin = 0;
      for (;;) {
        const std::size_t end = std::min(element.find(',', begin), element.size());
        const std::string broker = element.substr(begin, end - begin);
        if (broker.empty() || broker.find_first_of(" \t") != std::string::npos)
          reject_option(kafka::brokers.name, fmt::format("'{}' is not a list of broker addresses", element),
                        "host:port, one per list element");
        if (!joined.empty()) joined += ',';
        joined += broker;
        if (end == element.size()) break;
        begin = end + 1;
      }
    }
    properties_.insert(properties_.begin(), {"bootstrap.servers", joined});
    for (const auto& [key, value] : options[kafka::librdkafka_options]) {
      if (key == "bootstrap.servers" || key == "metadata.broker.list")
        reject_option(fmt::format("{}.{}", kafka::librdkafka_options.name, key), "is set by `brokers`",
                      "list the brokers under `brokers`");
      properties_.emplace_back(key, value);
    }
    // Every property set once on a configuration that is thrown away: the
    // check librdkafka makes, with its own words, at the option.
    rd_kafka_conf_t* probe = rd_kafka_conf_new();
    try {
      apply(probe);
    } catch (...) {
      rd_kafka_conf_destroy(probe);
      throw;
    }
    rd_kafka_conf_destroy(probe);
  }

  // A new configuration with every property set; the caller owns it.
  rd_kafka_conf_t* configuration(ClientEvents& events) const {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    apply(conf);
    rd_kafka_conf_set_opaque(conf, &events);
    rd_kafka_conf_set_log_cb(conf, &ClientEvents::on_log);
    rd_kafka_conf_set_error_cb(conf, &ClientEvents::on_error);
    return conf;
  }

  // rd_kafka_new, then a metadata request that a broker must answer within
  // connect_timeout: brokers that cannot be reached are an error at start,
  // not a silent wait. Errors as exceptions.
  rd_kafka_t* create(rd_kafka_type_t type, rd_kafka_conf_t* conf) const {
    char error[512] = "";
    rd_kafka_t* handle = rd_kafka_new(type, conf, error, sizeof error);
    if (!handle) {
      rd_kafka_conf_destroy(conf);  // not taken on failure
      throw PermanentError(fmt::format("creating the Kafka client: {}", error));
    }
    const rd_kafka_metadata_t* metadata = nullptr;
    const rd_kafka_resp_err_t status =
        rd_kafka_metadata(handle, 0, nullptr, &metadata, static_cast<int>(connect_timeout_ms_));
    if (metadata) rd_kafka_metadata_destroy(metadata);
    if (status != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_destroy(handle);
      throw PermanentError(fmt::format("cannot connect to the Kafka brokers {} within {} ms: {}", bootstrap(),
                                       connect_timeout_ms_, rd_kafka_err2str(status)));
    }
    return handle;
  }

  const std::string& bootstrap() const { return properties_.front().second; }

 private:
  void apply(rd_kafka_conf_t* conf) const {
    char error[512];
    for (const auto& [key, value] : properties_) {
      if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK)
        reject_option(fmt::format("{}.{}", kafka::librdkafka_options.name, key), error,
                      "a property and value of librdkafka's CONFIGURATION.md");
    }
  }

  std::vector<std::pair<std::string, std::string>> properties_;  // bootstrap.servers first
  std::int64_t connect_timeout_ms_;
};

}  // namespace weir::weir_std::kafka
