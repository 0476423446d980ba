#pragma once
// What the `nats` source and sink share: the connection options (declared
// once, so both plugins spell and document them alike), connecting with
// cnats (TLS, credentials, reconnecting forever), and the log lines a broker
// that comes and goes produces, rate-limited.
//
// Only the nats plugins include this header; they link cnats (libnats).

#include <weir_std/option_checks.hpp>
#include <weir_std/rate_limited.hpp>

#include <weir/plugin.hpp>

#include <nats/nats.h>

#include <dlfcn.h>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace weir::weir_std::nats {

inline const Option<std::vector<std::string>> servers{
    .name = "servers",
    .description = "NATS server URLs; several are the seeds of a cluster (the client learns the others and "
                   "reconnects to any of them)",
    .default_value = "[nats://127.0.0.1:4222]",
    .example = "[nats://n1:4222, nats://n2:4222, nats://n3:4222]"};
inline const Option<std::filesystem::path> credentials{
    .name = "credentials",
    .description = "A NATS credentials file (user JWT and NKey seed, as `nsc` writes it); unset connects without",
    .example = "/etc/weir/weir.creds"};
inline const Option<std::filesystem::path> tls_ca{
    .name = "tls_ca",
    .description = "CA certificates (PEM) that the server's certificate must chain to; setting it requires TLS",
    .example = "/etc/weir/ca.pem"};
inline const Option<std::filesystem::path> tls_cert{
    .name = "tls_cert",
    .description = "Client certificate (PEM) for mutual TLS; needs `tls_key`",
    .example = "/etc/weir/client.pem"};
inline const Option<std::filesystem::path> tls_key{
    .name = "tls_key", .description = "Private key (PEM) of `tls_cert`", .example = "/etc/weir/client-key.pem"};
inline const Option<Value::Duration> connect_timeout{
    .name = "connect_timeout",
    .description = "How long start() tries to reach a server before the run fails (exit 2); once connected, the "
                   "client reconnects on its own for ever",
    .default_value = "5s",
    .min = 0.001};
inline const Option<Value::Duration> reconnect_wait{
    .name = "reconnect_wait",
    .description = "Pause between two reconnection attempts to the same server",
    .default_value = "1s",
    .min = 0.001};

// A nats plugin's option table: `servers`, the plugin's own options, then the
// rest of the connection's, so both plugins list (and document) them alike.
template <class... T>
OptionTable connection_options_with(const Option<T>&... own) {
  return OptionTable(servers, own..., credentials, tls_ca, tls_cert, tls_key, connect_timeout, reconnect_wait);
}

// The text of the last cnats error on this thread, or of `status`.
inline std::string error_text(natsStatus status) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  if (text && *text && last == status) return text;
  return natsStatus_GetText(status);
}

// Connection options read from a stage's options; checked in the
// constructor (files exist), used by start().
struct ConnectionSettings {
  std::vector<std::string> servers;
  std::optional<std::string> credentials, ca, cert, key;
  std::int64_t connect_timeout_ms = 5000;
  std::int64_t reconnect_wait_ms = 1000;

  explicit ConnectionSettings(const Options& options)
      : servers(options[nats::servers]),
        connect_timeout_ms(milliseconds(options[nats::connect_timeout])),
        reconnect_wait_ms(milliseconds(options[nats::reconnect_wait])) {
    if (servers.empty()) reject_option(nats::servers.name, "no server given", "[nats://127.0.0.1:4222]");
    auto readable = [&](const Option<std::filesystem::path>& option) -> std::optional<std::string> {
      auto path = options.get(option);
      if (!path) return std::nullopt;
      std::error_code error;
      if (!std::filesystem::is_regular_file(*path, error))
        reject_option(option.name, fmt::format("'{}' is not a readable file", path->string()), "an existing file");
      return path->string();
    };
    credentials = readable(nats::credentials);
    ca = readable(tls_ca);
    cert = readable(tls_cert);
    key = readable(tls_key);
    if (cert.has_value() != key.has_value())
      reject_option(cert ? tls_key.name : tls_cert.name, "`tls_cert` and `tls_key` go together",
                    "set both, or neither");
  }
};

// Log lines of a connection's life. Every kind is rate-limited on its own:
// a server flapping, or a cluster that is down, says so once per interval
// with how many repeats were left out.
struct ConnectionEvents {
  std::shared_ptr<spdlog::logger> logger;
  std::atomic<bool> closing{false};  // our own close is no disconnection to report
  RateLimited disconnected{std::chrono::seconds(10)};
  RateLimited reconnected{std::chrono::seconds(10)};
  RateLimited async_errors{std::chrono::seconds(10)};

  static std::string url_of(natsConnection* connection) {
    char url[256] = {0};
    if (natsConnection_GetConnectedUrl(connection, url, sizeof url) != NATS_OK || !*url) return "no server";
    return url;
  }

  static void on_disconnected(natsConnection*, void* closure) {
    auto* self = static_cast<ConnectionEvents*>(closure);
    if (self->closing.load(std::memory_order_relaxed)) return;
    self->disconnected([&](std::uint64_t left_out) {
      self->logger->warn("disconnected from NATS; reconnecting{}", left_out_text(left_out));
    });
  }
  static void on_reconnected(natsConnection* connection, void* closure) {
    auto* self = static_cast<ConnectionEvents*>(closure);
    self->reconnected([&](std::uint64_t left_out) {
      self->logger->info("reconnected to NATS at {}{}", url_of(connection), left_out_text(left_out));
    });
  }
  static void on_error(natsConnection*, natsSubscription*, natsStatus status, void* closure) {
    auto* self = static_cast<ConnectionEvents*>(closure);
    self->async_errors([&](std::uint64_t left_out) {
      self->logger->warn("NATS: {}{}", natsStatus_GetText(status), left_out_text(left_out));
    });
  }
};

// cnats runs threads of its own for the life of the process (timers,
// callbacks, message delivery), which outlive every connection: unloading
// libnats, or a plugin whose callbacks it may still call, would leave them
// running in unmapped code when weir exits. Both stay loaded once used.
inline void keep_loaded() {
  static const bool kept = [] {
    for (void* symbol : {reinterpret_cast<void*>(&natsConnection_Connect), reinterpret_cast<void*>(&keep_loaded)}) {
      Dl_info info{};
      if (::dladdr(symbol, &info) != 0 && info.dli_fname)
        ::dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    }
    return true;
  }();
  (void)kept;
}

// A connection and its JetStream context, closed and destroyed in the right
// order. `events` must outlive it (the callbacks point at it).
class Connection {
 public:
  Connection(const ConnectionSettings& settings, ConnectionEvents& events, const std::string& name,
             const jsOptions* jetstream_options = nullptr, bool send_at_once = false)
      : events_(events) {
    keep_loaded();
    natsOptions* raw = nullptr;
    check(natsOptions_Create(&raw), "creating NATS options");
    std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> options(raw, natsOptions_Destroy);
    std::vector<const char*> urls;
    for (const auto& url : settings.servers) urls.push_back(url.c_str());
    check(natsOptions_SetServers(raw, urls.data(), static_cast<int>(urls.size())), "servers");
    check(natsOptions_SetName(raw, name.c_str()), "client name");
    check(natsOptions_SetTimeout(raw, settings.connect_timeout_ms), "connect_timeout");
    // A publisher that waits for each batch's acknowledgements sends at
    // once; otherwise the client's flusher gathers writes (acknowledgements
    // of many messages in one packet).
    if (send_at_once) check(natsOptions_SetSendAsap(raw, true), "sending");
    // Reconnect for ever: a broker restart or a cluster election must not
    // end the run; the callbacks log it.
    check(natsOptions_SetMaxReconnect(raw, -1), "reconnection");
    check(natsOptions_SetReconnectWait(raw, settings.reconnect_wait_ms), "reconnect_wait");
    check(natsOptions_SetDisconnectedCB(raw, &ConnectionEvents::on_disconnected, &events), "callbacks");
    check(natsOptions_SetReconnectedCB(raw, &ConnectionEvents::on_reconnected, &events), "callbacks");
    check(natsOptions_SetErrorHandler(raw, &ConnectionEvents::on_error, &events), "callbacks");
    if (settings.credentials)
      check(natsOptions_SetUserCredentialsFromFiles(raw, settings.credentials->c_str(), nullptr), "credentials");
    if (settings.ca || settings.cert) check(natsOptions_SetSecure(raw, true), "TLS");
    if (settings.ca) check(natsOptions_LoadCATrustedCertificates(raw, settings.ca->c_str()), "tls_ca");
    if (settings.cert)
      check(natsOptions_LoadCertificatesChain(raw, settings.cert->c_str(), settings.key->c_str()), "tls_cert");
    natsStatus status = natsConnection_Connect(&connection_, raw);
    if (status != NATS_OK)
      throw PermanentError(fmt::format("cannot connect to NATS at {}: {}", fmt::join(settings.servers, ", "),
                                       error_text(status)));
    jsOptions defaults;
    jsOptions_Init(&defaults);
    jsOptions js_options = jetstream_options ? *jetstream_options : defaults;
    status = natsConnection_JetStream(&js_, connection_, &js_options);
    if (status != NATS_OK) {
      natsConnection_Destroy(connection_);
      throw PermanentError(fmt::format("NATS JetStream context: {}", error_text(status)));
    }
  }
  ~Connection() {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(connection_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  natsConnection* get() const noexcept { return connection_; }
  jsCtx* jetstream() const noexcept { return js_; }

  // Sends what is buffered (acknowledgements, publishes) and closes; later
  // calls on the connection fail cleanly instead of sending.
  void close(std::int64_t flush_timeout_ms) noexcept {
    if (natsConnection_IsClosed(connection_)) return;
    natsConnection_FlushTimeout(connection_, flush_timeout_ms);
    events_.closing.store(true, std::memory_order_relaxed);
    natsConnection_Close(connection_);
  }

  static void check(natsStatus status, std::string_view what) {
    if (status != NATS_OK) throw PermanentError(fmt::format("NATS {}: {}", what, error_text(status)));
  }

 private:
  ConnectionEvents& events_;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

// Headers whose names start with `Nats-` are JetStream's controls
// (Nats-Msg-Id, Nats-Expected-Stream, Nats-Rollup …): a message read from
// one stream and published again must not carry them along, or the stream
// would drop it as a duplicate of itself.
inline bool is_control_header(std::string_view name) noexcept {
  return name.size() >= 5 && (name.substr(0, 5) == "Nats-" || name.substr(0, 5) == "nats-");
}

// A header name is a token: no spaces, controls or ':' (an attribute named
// otherwise is not sent). A value is one line: CR and LF become spaces, so
// no attribute can end the header block early.
inline bool is_header_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (c <= ' ' || c == ':' || c == 127) return false;
  return true;
}
inline std::string header_value(std::string_view value) {
  std::string out(value);
  for (char& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

// Headers become attributes and back: the first value of each header.
inline void headers_to_attributes(natsMsg* msg, Attributes& attributes) {
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) != NATS_OK) return;
  for (int i = 0; i < count; ++i) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK && value) attributes.set(keys[i], value);
  }
  free(static_cast<void*>(keys));
}

}  // namespace weir::weir_std::nats
