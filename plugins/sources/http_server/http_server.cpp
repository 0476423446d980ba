// http_server (source): messages POSTed over HTTP (cpp-httplib; TLS through
// its OpenSSL build).
//
// Threads. The runtime's emitter belongs to the thread that runs run(): it
// keeps per-replica state (ids, routing scratch, counters) without locks, so
// the server's threads never call it. A request's handler parses the body
// into messages and hands the whole request to run() through the intake, a
// queue bounded in messages; run() emits them. When the pipeline is full,
// run() blocks in emit, the intake fills, and a handler waits up to
// `busy_timeout` for room before it answers 503 with Retry-After: that is how
// backpressure reaches the client, and why memory stays bounded (the intake
// holds at most `max_queued` messages plus one request admitted into an empty
// intake; each connection holds at most one body of `max_body_size`).
//
// Answers. Without acknowledgements a request is answered 200 once every one
// of its messages has entered the pipeline. With them (the default) every
// message carries one acknowledgement shared by the request, and the answer
// waits until it settles: 200 when every copy of every message finished
// (written durably by every sink, filtered, or dead-lettered and written),
// 500 when a copy failed, 503 when one was dropped or abandoned. A request
// that never entered (the source stopped) is answered 503. A client that
// retries every 5xx therefore gets each message in at least once.
//
// Stop. The graceful stop ends run(): the listening socket closes, requests
// still in the intake are answered 503, and the pipeline drains, which
// settles (and answers) what was in it. stop() then signals the stop event
// every connection polls while it waits for or reads a request, so the
// server's threads end at once.

#include <weir_std/acknowledgement_with_reason.hpp>
#include <weir_std/file_descriptor.hpp>
#include <weir_std/http.hpp>
#include <weir_std/message_json.hpp>
#include <weir_std/option_checks.hpp>
#include <weir_std/rate_limited.hpp>

#include <weir/plugin.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>

namespace weir::weir_std::http_server {
namespace {

enum class BodyFormat { lines, ndjson, json, body };

const Option<std::string> address{.name = "address",
                                  .description = "Where to listen, HOST:PORT (`:8080` or `0.0.0.0:8080` for every "
                                                 "address of the machine; port 0 picks a free one, which the log says)",
                                  .default_value = "'0.0.0.0:8080'",
                                  .example = "'127.0.0.1:8080'"};
const Option<BodyFormat> format{
    .name = "format",
    .description = "How a body becomes messages: `lines`, one per line (empty lines skipped; a final line needs no "
                   "newline); `ndjson`, the same, each line checked to be JSON (else 400 naming the line); `json`, "
                   "one per element of a JSON array, or one for any other JSON value; `body`, the whole body as one",
    .default_value = "lines",
    .choices = {{"lines", BodyFormat::lines},
                {"ndjson", BodyFormat::ndjson},
                {"json", BodyFormat::json},
                {"body", BodyFormat::body}}};
const Option<std::vector<std::string>> paths{
    .name = "paths",
    .description = "The paths that take POSTs (exact matches); others are answered 404. Empty: every path but the "
                   "health and readiness paths",
    .default_value = "[]",
    .example = "[/logs, /events]"};
const Option<std::string> path_attribute{
    .name = "path_attribute",
    .description = "The attribute that carries the request's path, so `when:` conditions can route by it; empty "
                   "sets none",
    .default_value = "http_path"};
const Option<std::vector<std::string>> headers{
    .name = "headers",
    .description = "Request headers copied into every message of the request, each as an attribute of the name "
                   "written here (header names match in any case); a header the request lacks sets nothing",
    .default_value = "[]",
    .example = "[X-Tenant, Content-Type]"};
const Option<bool> acknowledgements{
    .name = "acknowledgements",
    .description = "Answer a request only when the pipeline has finished with every one of its messages: 200 when "
                   "all were written (end to end, at-least-once), 500 when one failed, 503 when one was dropped or "
                   "abandoned. False: 200 as soon as they entered the pipeline",
    .default_value = "true"};
const Option<std::int64_t> max_queued{
    .name = "max_queued",
    .description = "Messages received and not yet taken by the pipeline, at most; a request that does not fit waits "
                   "(`busy_timeout`). A request larger than this is taken alone, when nothing else waits",
    .default_value = "1024",
    .min = 1,
    .max = 1'000'000};
const Option<Value::Duration> busy_timeout{
    .name = "busy_timeout",
    .description = "How long a request waits for room while the pipeline is full before it is answered 503 with "
                   "`Retry-After`",
    .default_value = "5s",
    .min = 0};
const Option<Value::Duration> retry_after{.name = "retry_after",
                                          .description = "The `Retry-After` sent with a 503 or 429 (whole seconds)",
                                          .default_value = "1s",
                                          .min = 0};
const Option<Size> max_body_size{.name = "max_body_size",
                                 .description = "The largest body taken; a larger one is answered 413",
                                 .default_value = "10MiB",
                                 .min = 1,
                                 .max = 1024.0 * 1024 * 1024};
const Option<std::int64_t> max_connections{
    .name = "max_connections",
    .description = "Connections served at once (one thread each); a request on a connection beyond it is answered "
                   "429 with `Retry-After` and the connection is closed. At most 512: the HTTP library cannot serve "
                   "a connection whose descriptor number is 1024 or more",
    .default_value = "64",
    .min = 1,
    .max = 512};
const Option<std::string> health_path{
    .name = "health_path",
    .description = "GET answers 200 while the server runs (liveness); empty: no such path",
    .default_value = "/health"};
const Option<std::string> ready_path{
    .name = "ready_path",
    .description = "GET answers 200 while the source takes requests and has room for one, else 503 (readiness); "
                   "empty: no such path",
    .default_value = "/ready"};
const Option<std::filesystem::path> tls_cert{
    .name = "tls_cert",
    .description = "Serve HTTPS with this certificate (PEM; with `tls_key`). Unset: plain HTTP",
    .example = "/etc/weir/server.crt"};
const Option<std::filesystem::path> tls_key{.name = "tls_key",
                                            .description = "The private key of `tls_cert` (PEM)",
                                            .example = "/etc/weir/server.key"};
const Option<Value::Duration> read_timeout{
    .name = "read_timeout",
    .description = "How long a read from a client may wait for data before the connection is closed",
    .default_value = "5s",
    .min = 0.001};
const Option<Value::Duration> keep_alive_timeout{
    .name = "keep_alive_timeout",
    .description = "How long an idle keep-alive connection stays open (a stop closes idle connections at once)",
    .default_value = "2s",
    .min = 1};

// ---- The intake: requests handed from the server's threads to run() --------

enum class Outcome { pending, delivered, failed, busy, stopping };

struct Exchange {
  std::vector<Message> messages;  // until run() takes them
  std::size_t count = 0;
  Outcome outcome = Outcome::pending;
  std::string reason;
};

struct Intake {
  std::mutex mutex;
  std::condition_variable_any work;  // run() waits for a request
  std::condition_variable room;      // handlers wait for room
  std::condition_variable done;      // handlers wait for their outcome
  std::deque<std::shared_ptr<Exchange>> queue;
  std::size_t queued = 0;  // messages in `queue`
  bool taking = false;     // run() takes requests
  bool closed = false;     // run() has ended: nothing more is taken
  bool finished = false;   // stop(): whatever is still pending is answered now

  // The first outcome decided is the one answered. Never called with
  // `mutex` held, nor while holding messages whose destruction could call it.
  void decide(Exchange& exchange, Outcome outcome, std::string reason = {}) {
    {
      std::lock_guard lock(mutex);
      if (exchange.outcome != Outcome::pending) return;
      exchange.outcome = outcome;
      exchange.reason = std::move(reason);
    }
    done.notify_all();
  }
};

// One per request with acknowledgements, shared by its messages: it settles
// when the last copy of the last message is finished.
class RequestAck final : public AcknowledgementWithReason {
 public:
  RequestAck(std::shared_ptr<Intake> intake, std::shared_ptr<Exchange> exchange)
      : intake_(std::move(intake)), exchange_(std::move(exchange)) {}

  ~RequestAck() override {
    const auto failure = this->failure();
    if (!failure) {
      intake_->decide(*exchange_, Outcome::delivered);
      return;
    }
    std::string reason = fmt::format("{}: {}", to_string(*failure), this->reason());
    intake_->decide(*exchange_, *failure == AckFailure::failed ? Outcome::failed : Outcome::busy, std::move(reason));
  }

 private:
  std::shared_ptr<Intake> intake_;
  std::shared_ptr<Exchange> exchange_;
};

// ---- Connections --------------------------------------------------------------

// cpp-httplib's own pool queues accepted connections without bound. This one
// serves at most `limit` at once, a thread each (started when needed); a
// connection beyond that goes to one thread that answers 429, and when even
// that one is `limit` behind, the listening thread answers it itself, which
// holds back accepting (backpressure on the listen queue) instead of memory.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(std::size_t limit) : limit_(limit) {
    refuser_ = std::thread([this] { refuse(); });
  }
  ~ConnectionPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      std::unique_lock lock(mutex_);
      if (active_ < limit_) {
        ++active_;
        jobs_.push_back(std::move(fn));
        if (idle_ == 0) workers_.emplace_back([this] { serve(); });
        lock.unlock();
        work_.notify_one();
        return;
      }
      if (refusals_.size() < limit_) {
        refusals_.push_back(std::move(fn));
        lock.unlock();
        refusal_.notify_one();
        return;
      }
    }
    inline_refusal_.store(std::this_thread::get_id());
    fn();
    inline_refusal_.store(std::thread::id());
  }

  // Whether this thread serves a connection beyond the limit: its requests
  // are answered 429 and the connection closed. (A thread_local would say
  // it more simply, but the dynamic TLS of a dlopen'ed library is freed by
  // glibc behind ThreadSanitizer's back, which then reports a race.)
  bool refusing_here() const noexcept {
    const auto self = std::this_thread::get_id();
    return self == refuser_id_.load() || self == inline_refusal_.load();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      if (shut_) return;
      shut_ = true;
    }
    work_.notify_all();
    refusal_.notify_all();
    for (auto& worker : workers_) worker.join();
    refuser_.join();
  }

 private:
  void serve() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ++idle_;
      work_.wait(lock, [&] { return shut_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // shut down, nothing left
      auto fn = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      fn();  // the connection, until it closes
      lock.lock();
      --active_;
    }
  }

  void refuse() {
    refuser_id_.store(std::this_thread::get_id());
    std::unique_lock lock(mutex_);
    for (;;) {
      refusal_.wait(lock, [&] { return shut_ || !refusals_.empty(); });
      if (refusals_.empty()) return;
      auto fn = std::move(refusals_.front());
      refusals_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
  }

  const std::size_t limit_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable refusal_;
  std::list<std::function<void()>> jobs_;
  std::list<std::function<void()>> refusals_;
  std::list<std::thread> workers_;  // only this pool's lock guards it: joined in shutdown()
  std::thread refuser_;
  std::atomic<std::thread::id> refuser_id_{};
  std::atomic<std::thread::id> inline_refusal_{};
  std::size_t active_ = 0;
  std::size_t idle_ = 0;
  bool shut_ = false;
};

// One connection as httplib's request parser reads it, plain or TLS (an
// OpenSSL session over the nonblocking socket). Waiting for a request and
// reading one poll() the socket together with the server's stop event, so
// stop() ends every connection at once, idle, in a handshake or in the
// middle of a body; writing waits on the socket alone, so the answers stop()
// lets go out still reach their clients.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(int socket, int stop_event, int read_timeout_ms, int write_timeout_ms, SSL* tls)
      : socket_(socket), stop_event_(stop_event), read_timeout_ms_(read_timeout_ms),
        write_timeout_ms_(write_timeout_ms), tls_(tls) {}

  // The TLS handshake; false when it failed, timed out or the server stops.
  bool handshake() { return tls_call([&] { return SSL_accept(tls_); }, read_timeout_ms_, true) == 1; }

  // False when the connection stayed idle for `timeout_ms`, closed, or the
  // server stops.
  bool wait_for_request(int timeout_ms) const { return buffered() || wait(POLLIN, timeout_ms, true); }

  bool is_readable() const override { return buffered() || wait(POLLIN, read_timeout_ms_, true); }
  bool is_writable() const override { return wait(POLLOUT, write_timeout_ms_, false); }

  // The parser reads a byte at a time while it looks for line ends: reads
  // go through a buffer that lives as long as the connection.
  ssize_t read(char* out, std::size_t size) override {
    if (offset_ == filled_) {
      if (!is_readable()) return -1;
      const ssize_t n = receive(buffer_.data(), buffer_.size());
      if (n <= 0) return n;
      offset_ = 0;
      filled_ = static_cast<std::size_t>(n);
    }
    const std::size_t taken = std::min(size, filled_ - offset_);
    std::memcpy(out, buffer_.data() + offset_, taken);
    offset_ += taken;
    return static_cast<ssize_t>(taken);
  }

  ssize_t write(const char* data, std::size_t size) override {
    if (size == 0) return 0;
    if (tls_) {
      const int chunk = static_cast<int>(std::min<std::size_t>(size, 1 << 30));
      return tls_call([&] { return SSL_write(tls_, data, chunk); }, write_timeout_ms_, false);
    }
    if (!is_writable()) return -1;
    return ::send(socket_, data, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address_of(::getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address_of(::getsockname, ip, port); }
  socket_t socket() const override { return socket_; }

 private:
  bool buffered() const { return offset_ < filled_ || (tls_ && SSL_pending(tls_) > 0); }

  ssize_t receive(char* into, std::size_t size) {
    if (!tls_) return ::recv(socket_, into, size, 0);
    return tls_call([&] { return SSL_read(tls_, into, static_cast<int>(size)); }, read_timeout_ms_, true);
  }

  // An OpenSSL call on the nonblocking socket, made again each time poll()
  // says the socket can give what it wanted; > 0 done, 0 closed, -1 failed.
  template <class Call>
  int tls_call(Call call, int timeout_ms, bool until_stop) {
    for (;;) {
      const int n = call();
      if (n > 0) return n;
      const int error = SSL_get_error(tls_, n);
      ERR_clear_error();  // the thread's OpenSSL error queue must not leak into the next call
      short events = 0;
      if (error == SSL_ERROR_WANT_READ)
        events = POLLIN;
      else if (error == SSL_ERROR_WANT_WRITE)
        events = POLLOUT;
      else
        return error == SSL_ERROR_ZERO_RETURN ? 0 : -1;
      if (!wait(events, timeout_ms, until_stop)) return -1;
    }
  }

  bool wait(short events, int timeout_ms, bool until_stop) const {
    pollfd polled[2] = {{socket_, events, 0}, {stop_event_, POLLIN, 0}};
    for (;;) {
      const int ready = ::poll(polled, until_stop ? 2 : 1, timeout_ms);
      if (ready < 0 && errno == EINTR) continue;
      return ready > 0 && polled[1].revents == 0 && polled[0].revents != 0;
    }
  }

  void address_of(int (*query)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ip.clear();
    port = 0;
    if (query(socket_, reinterpret_cast<sockaddr*>(&address), &length) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
      const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
      ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
      port = ntohs(v4.sin_port);
    } else if (address.ss_family == AF_INET6) {
      const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
      ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
      port = ntohs(v6.sin6_port);
    }
    ip = text;
  }

  int socket_;
  int stop_event_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  SSL* tls_;
  std::array<char, 16 * 1024> buffer_{};
  std::size_t offset_ = 0;
  std::size_t filled_ = 0;
};

// An eventfd that stays readable once signalled: every poll() that includes
// it returns at once from then on.
class StopEvent {
 public:
  StopEvent() : fd_(open_eventfd(EFD_CLOEXEC)) {}
  void signal() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(fd_.get(), &one, sizeof one);
  }
  int fd() const noexcept { return fd_.get(); }

 private:
  FileDescriptor fd_;
};

// The certificate and key a TLS server presents; throws PermanentError
// with OpenSSL's reason.
class TlsContext {
 public:
  TlsContext(const std::filesystem::path& cert, const std::filesystem::path& key) : context_(SSL_CTX_new(TLS_server_method())) {
    if (!context_) throw PermanentError("TLS: " + openssl_error());
    SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
    SSL_CTX_set_options(context_, SSL_OP_NO_COMPRESSION);
    if (SSL_CTX_use_certificate_chain_file(context_, cert.c_str()) != 1)
      fail(fmt::format("tls_cert '{}' could not be loaded", cert.string()));
    if (SSL_CTX_use_PrivateKey_file(context_, key.c_str(), SSL_FILETYPE_PEM) != 1)
      fail(fmt::format("tls_key '{}' could not be loaded", key.string()));
    if (SSL_CTX_check_private_key(context_) != 1)
      fail(fmt::format("tls_key '{}' does not match tls_cert '{}'", key.string(), cert.string()));
  }
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext() { SSL_CTX_free(context_); }
  SSL_CTX* get() const noexcept { return context_; }

 private:
  [[noreturn]] void fail(const std::string& what) {
    const std::string why = openssl_error();
    SSL_CTX_free(context_);
    context_ = nullptr;
    throw PermanentError(fmt::format("{}: {} (PEM files, the key matching the certificate)", what, why));
  }
  static std::string openssl_error() {
    char text[256] = "unknown error";
    if (const unsigned long code = ERR_get_error(); code != 0) ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    return text;
  }

  SSL_CTX* context_;
};

// httplib's server with what a stage needs to stop, and TLS done here:
//  - the listening socket closes whether or not listening has begun yet
//    (httplib's stop() does nothing before it has, so a stop right after
//    start could leave the server running);
//  - each connection is served through ConnectionStream, so stop() waits for
//    no idle keep-alive connection, plain or TLS (httplib's own TLS server
//    would hold it up to the keep-alive timeout).
class Listener final : public httplib::Server {
 public:
  Listener(const StopEvent& stop, const TlsContext* tls, Value::Duration read_timeout, Value::Duration keep_alive,
           std::size_t max_connections)
      : stop_(stop),
        tls_(tls),
        read_timeout_ms_(static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(read_timeout).count())),
        keep_alive_ms_(static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(keep_alive).count())) {
    new_task_queue = [this, max_connections] {
      auto* pool = new ConnectionPool(max_connections);  // httplib owns it, for as long as it listens
      pool_.store(pool);
      return pool;
    };
  }

  // Called only from a connection's thread, while the pool serves it.
  bool over_connection_limit() const noexcept {
    const ConnectionPool* pool = pool_.load();
    return pool && pool->refusing_here();
  }

  void close_listener() {
    const auto socket = svr_sock_.exchange(INVALID_SOCKET);
    if (socket == INVALID_SOCKET) return;
    ::shutdown(socket, SHUT_RDWR);
    ::close(socket);
  }

 private:
  bool process_and_close_socket(socket_t socket) override {
    SSL* session = nullptr;
    if (tls_) {
      session = SSL_new(tls_->get());
      ::fcntl(socket, F_SETFL, ::fcntl(socket, F_GETFL) | O_NONBLOCK);
      if (session) SSL_set_fd(session, socket);
    }
    ConnectionStream stream(socket, stop_.fd(), read_timeout_ms_, read_timeout_ms_, session);
    if (!tls_ || (session && stream.handshake())) {
      // A connection over the limit gets one answer (429), then is closed.
      const std::size_t requests = over_connection_limit() ? 1 : keep_alive_max_count_;
      for (std::size_t left = requests; left > 0 && svr_sock_ != INVALID_SOCKET; --left) {
        if (!stream.wait_for_request(keep_alive_ms_)) break;
        bool closed = false;
        if (!process_request(stream, left == 1, closed, nullptr) || closed) break;
      }
    }
    if (session) {
      SSL_shutdown(session);  // one try: the close_notify, if the socket takes it now
      SSL_free(session);
      ERR_clear_error();
    }
    ::shutdown(socket, SHUT_RDWR);
    ::close(socket);
    return true;
  }

  const StopEvent& stop_;
  const TlsContext* tls_;
  int read_timeout_ms_;
  int keep_alive_ms_;
  std::atomic<ConnectionPool*> pool_{nullptr};
};

std::string error_body(std::string_view error) {
  Json body = Json::object();
  body["error"] = std::string(error);
  return dump_json(body);
}

// ---- The source -------------------------------------------------------------

class HttpServer final : public Source {
 public:
  HttpServer(const Options& options, const StageContext& context)
      : logger_(logger_for(context)),
        address_text_(options[address]),
        format_(options[format]),
        paths_(options[paths]),
        path_attribute_(options[path_attribute]),
        headers_(options[headers]),
        acknowledgements_(options[acknowledgements]),
        max_queued_(static_cast<std::size_t>(options[max_queued])),
        busy_timeout_(options[busy_timeout]),
        retry_after_(http::retry_after_seconds(options[retry_after])),
        max_body_size_(options[max_body_size].bytes),
        max_connections_(static_cast<std::size_t>(options[max_connections])),
        health_path_(options[health_path]),
        ready_path_(options[ready_path]),
        tls_cert_(options.get(tls_cert)),
        tls_key_(options.get(tls_key)),
        read_timeout_(options[read_timeout]),
        keep_alive_timeout_(options[keep_alive_timeout]) {
    if (context.replicas > 1)
      throw std::invalid_argument(fmt::format(
          "http_server listens on one address, so it runs as one replica (replicas: {} asked)", context.replicas));
    try {
      endpoint_ = http::parse_address(address_text_);
    } catch (const std::invalid_argument& e) {
      reject_option(address.name, fmt::format("'{}': {}", address_text_, e.what()), "HOST:PORT, e.g. 127.0.0.1:8080");
    }
    if (tls_cert_.has_value() != tls_key_.has_value())
      reject_option(tls_cert_ ? tls_key.name : tls_cert.name, "is needed too: TLS takes a certificate and its key",
                    "set both tls_cert and tls_key, or neither");
    for (std::size_t i = 0; i < paths_.size(); ++i) {
      const std::string& path = paths_[i];
      if (path.empty() || path.front() != '/')
        reject_option(fmt::format("{}[{}]", paths.name, i), fmt::format("'{}' does not start with '/'", path),
                      "a path such as /logs");
      if (path == health_path_ || path == ready_path_)
        reject_option(fmt::format("{}[{}]", paths.name, i),
                      fmt::format("'{}' is also the health or readiness path", path), "another path");
    }
    for (const auto* option : {&health_path, &ready_path}) {
      const std::string& path = options[*option];
      if (!path.empty() && path.front() != '/')
        reject_option(option->name, fmt::format("'{}' does not start with '/'", path), "a path such as /health");
    }
  }

  void start() override {
    intake_ = std::make_shared<Intake>();
    stop_event_.emplace();
    if (tls_cert_) {
      for (const auto& [option, file] : {std::pair{&tls_cert, *tls_cert_}, std::pair{&tls_key, *tls_key_}})
        if (!std::filesystem::is_regular_file(file))
          throw PermanentError(fmt::format("{} '{}' is not a readable file", option->name, file.string()));
      tls_.emplace(*tls_cert_, *tls_key_);
    }
    server_ = std::make_unique<Listener>(*stop_event_, tls_ ? &*tls_ : nullptr, read_timeout_, keep_alive_timeout_,
                                         max_connections_);
    configure(*server_);
    const int port = endpoint_.port == 0 ? server_->bind_to_any_port(endpoint_.host)
                                         : (server_->bind_to_port(endpoint_.host, endpoint_.port) ? endpoint_.port : -1);
    if (port < 0)
      throw PermanentError(fmt::format("cannot listen on {}: {}", address_text_, std::strerror(errno)));
    listener_ = std::thread([this] { server_->listen_after_bind(); });
    logger_->info("listening on {}://{}:{} ({} per request{})", tls_cert_ ? "https" : "http", endpoint_.host, port,
                  format_name(), acknowledgements_ ? ", answered once delivered" : "");
  }

  void run(Emitter& out, std::stop_token stop) override {
    Intake& intake = *intake_;
    {
      std::lock_guard lock(intake.mutex);
      intake.taking = true;
    }
    for (;;) {
      std::shared_ptr<Exchange> exchange;
      {
        std::unique_lock lock(intake.mutex);
        if (!intake.work.wait(lock, stop, [&] { return !intake.queue.empty(); })) break;
        exchange = std::move(intake.queue.front());
        intake.queue.pop_front();
        intake.queued -= exchange->count;
      }
      intake.room.notify_all();
      std::vector<Message> messages = std::move(exchange->messages);
      bool forced = false;
      for (Message& message : messages)
        if (!out.emit(std::move(message))) {
          forced = true;  // the runtime abandoned that one; the rest never entered
          break;
        }
      if (forced) {
        intake.decide(*exchange, Outcome::stopping, "the pipeline was stopped");
        messages.clear();
        break;
      }
      if (!acknowledgements_) intake.decide(*exchange, Outcome::delivered);
    }
    close_intake();
  }

  // After the drain: every acknowledgement has settled, so every request
  // that got in has its answer; the server's threads end.
  void stop() override { shut_down(); }

  // Also when stop() never came (another stage failed to start).
  ~HttpServer() override { shut_down(); }

 private:
  std::string_view format_name() const {
    for (const auto& [name, value] : format.choices)
      if (value == format_) return name;
    return "?";
  }

  void configure(httplib::Server& server) {
    server.set_payload_max_length(max_body_size_);
    server.set_tcp_nodelay(true);  // an answer is written in pieces: no Nagle wait between them
    server.set_keep_alive_max_count(1000);
    server.set_read_timeout(read_timeout_);
    server.set_write_timeout(read_timeout_);
    server.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& request, httplib::Response& response) {
      if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours, already said
      std::string error;
      switch (response.status) {
        case 413:
          error = fmt::format("the body is larger than max_body_size ({} bytes)", max_body_size_);
          errors_([&](std::uint64_t left_out) {
            logger_->warn("a body larger than max_body_size ({} bytes) from {} answered 413{}", max_body_size_,
                          request.remote_addr, left_out_text(left_out));
          });
          break;
        case 404: error = fmt::format("nothing here for {} {}", request.method, request.path); break;
        case 400: error = "the request could not be read as HTTP"; break;
        default: error = fmt::format("HTTP status {}", response.status);
      }
      response.set_content(error_body(error), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }));
    if (!health_path_.empty())
      server.Get(literal_pattern(health_path_), [this](const httplib::Request&, httplib::Response& response) {
        if (refused_over_limit(response)) return;
        response.set_content(R"({"status":"ok"})", "application/json");
      });
    if (!ready_path_.empty())
      server.Get(literal_pattern(ready_path_), [this](const httplib::Request&, httplib::Response& response) {
        if (refused_over_limit(response)) return;
        bool ready = false;
        {
          std::lock_guard lock(intake_->mutex);
          ready = intake_->taking && !intake_->closed && intake_->queued < max_queued_;
        }
        if (ready) {
          response.set_content(R"({"status":"ready"})", "application/json");
        } else {
          response.status = 503;
          response.set_header("Retry-After", retry_after_);
          response.set_content(R"({"status":"busy"})", "application/json");
        }
      });
    server.Post(".*", [this](const httplib::Request& request, httplib::Response& response) {
      if (refused_over_limit(response)) return;
      take(request, response);
    });
  }

  static std::string literal_pattern(const std::string& path) {
    std::string pattern;
    for (char c : path) {
      if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) pattern += '\\';
      pattern += c;
    }
    return pattern;
  }

  bool refused_over_limit(httplib::Response& response) {
    if (!server_->over_connection_limit()) return false;
    respond(response, 429, error_body(fmt::format("too many connections: {} are served at once (max_connections)",
                                                  max_connections_)));
    response.set_header("Retry-After", retry_after_);
    response.set_header("Connection", "close");
    errors_([&](std::uint64_t left_out) {
      logger_->warn("more than max_connections ({}) connections: answered 429{}", max_connections_,
                    left_out_text(left_out));
    });
    return true;
  }

  static void respond(httplib::Response& response, int status, std::string body) {
    response.status = status;
    response.set_content(std::move(body), "application/json");
  }

  void take(const httplib::Request& request, httplib::Response& response) {
    if (!paths_.empty() && std::find(paths_.begin(), paths_.end(), request.path) == paths_.end()) {
      respond(response, 404,
              error_body(fmt::format("{} takes no POSTs; these paths do: {}", request.path, fmt::join(paths_, ", "))));
      return;
    }
    auto exchange = std::make_shared<Exchange>();
    if (std::string problem = parse(request, exchange->messages); !problem.empty()) {
      respond(response, 400, error_body(problem));
      return;
    }
    const std::size_t count = exchange->messages.size();
    exchange->count = count;
    if (count == 0) {
      respond(response, 200, R"({"messages":0})");
      return;
    }
    if (acknowledgements_) {
      auto ack = std::make_shared<RequestAck>(intake_, exchange);
      for (Message& message : exchange->messages) message.ack = ack;
    }
    Intake& intake = *intake_;
    Outcome refused = Outcome::pending;
    {
      std::unique_lock lock(intake.mutex);
      const bool admitted = intake.room.wait_for(lock, busy_timeout_, [&] {
        return intake.closed || intake.queued == 0 || intake.queued + count <= max_queued_;
      });
      if (intake.closed)
        refused = Outcome::stopping;
      else if (!admitted)
        refused = Outcome::busy;
      else {
        intake.queue.push_back(exchange);
        intake.queued += count;
      }
    }
    if (refused == Outcome::pending) {
      intake.work.notify_one();
    } else {
      // Decided before the messages go, so their acknowledgement, settling
      // as they are destroyed, cannot answer 200 for what never entered.
      intake.decide(*exchange, refused, refused == Outcome::busy ? "the pipeline is full" : "the source is stopping");
      exchange->messages.clear();
    }
    Outcome outcome;
    std::string reason;
    {
      std::unique_lock lock(intake.mutex);
      intake.done.wait(lock, [&] { return exchange->outcome != Outcome::pending || intake.finished; });
      outcome = exchange->outcome;
      reason = exchange->reason;
    }
    answer(response, outcome, reason, count);
  }

  void answer(httplib::Response& response, Outcome outcome, const std::string& reason, std::size_t count) {
    switch (outcome) {
      case Outcome::delivered: respond(response, 200, fmt::format(R"({{"messages":{}}})", count)); return;
      case Outcome::failed:
        respond(response, 500, error_body(fmt::format("the pipeline could not deliver a message: {}", reason)));
        return;
      case Outcome::busy:
      case Outcome::stopping:
      case Outcome::pending:
        respond(response, 503,
                error_body(outcome == Outcome::pending ? "the source stopped before the pipeline finished"
                                                       : reason));
        response.set_header("Retry-After", retry_after_);
        return;
    }
  }

  // The request's messages, each with the request's attributes; or why the
  // body is refused (then nothing of it is taken).
  std::string parse(const httplib::Request& request, std::vector<Message>& messages) const {
    Attributes attributes;
    if (!path_attribute_.empty()) attributes.set(path_attribute_, request.path);
    for (const std::string& name : headers_)
      if (request.has_header(name)) attributes.set(name, request.get_header_value(name));
    auto add = [&](std::string payload) {
      Message& message = messages.emplace_back(std::move(payload));
      message.attributes = attributes;
    };
    const std::string& body = request.body;
    switch (format_) {
      case BodyFormat::body: add(body); return {};
      case BodyFormat::json: {
        if (const auto deep = json_too_deep_at(body); deep != std::string_view::npos)
          return fmt::format("the body nests deeper than {} levels of JSON (at byte {})", max_json_depth, deep + 1);
        Json parsed;
        try {
          parsed = Json::parse(body);
        } catch (const Json::exception& e) {
          return fmt::format("the body is not JSON: {}", json_error_text(e));
        }
        if (!parsed.is_array()) {
          add(body);
          return {};
        }
        messages.reserve(parsed.size());
        for (const Json& element : parsed) add(dump_json(element));
        return {};
      }
      case BodyFormat::lines:
      case BodyFormat::ndjson: {
        std::size_t line_number = 0;
        for (std::size_t begin = 0; begin < body.size();) {
          std::size_t end = body.find('\n', begin);
          if (end == std::string::npos) end = body.size();
          std::string_view line(body.data() + begin, end - begin);
          begin = end + 1;
          ++line_number;
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          if (line.empty()) continue;
          if (format_ == BodyFormat::ndjson) {
            if (const auto deep = json_too_deep_at(line); deep != std::string_view::npos)
              return fmt::format("line {} nests deeper than {} levels of JSON (at byte {})", line_number,
                                 max_json_depth, deep + 1);
            if (!Json::accept(line)) {
              try {
                [[maybe_unused]] const Json parsed = Json::parse(line);
              } catch (const Json::parse_error& e) {
                return fmt::format("line {} is not JSON (at byte {} of the line)", line_number, e.byte);
              } catch (const Json::exception& e) {
                return fmt::format("line {} is not JSON: {}", line_number, json_error_text(e));
              }
            }
          }
          add(std::string(line));
        }
        return {};
      }
    }
    return {};
  }

  static std::string json_error_text(const Json::exception& e) {
    const std::string_view what = e.what();
    const std::size_t tag_end = what.find("] ");
    return std::string(tag_end == std::string_view::npos ? what : what.substr(tag_end + 2));
  }

  // Nothing more is taken; what is still queued is answered 503 (it never
  // entered the pipeline), and so is every request that comes after.
  void close_intake() {
    Intake& intake = *intake_;
    std::deque<std::shared_ptr<Exchange>> left;
    {
      std::lock_guard lock(intake.mutex);
      if (intake.closed) return;
      intake.closed = true;
      intake.taking = false;
      left.swap(intake.queue);
      intake.queued = 0;
    }
    intake.room.notify_all();
    for (auto& exchange : left) {
      intake.decide(*exchange, Outcome::stopping, "the source is stopping");
      exchange->messages.clear();
    }
    close_listener();
    logger_->info("stopped listening on {}", address_text_);
  }

  // Every request still waiting is answered (503 for what never entered or
  // has not settled), every connection closes, the server's threads end.
  void shut_down() {
    if (!intake_) return;
    close_intake();
    {
      std::lock_guard lock(intake_->mutex);
      intake_->finished = true;
    }
    intake_->done.notify_all();
    if (stop_event_) stop_event_->signal();
    if (listener_.joinable()) listener_.join();
  }

  void close_listener() {
    if (server_) server_->close_listener();
  }

  std::shared_ptr<spdlog::logger> logger_;
  std::string address_text_;
  http::Endpoint endpoint_;
  BodyFormat format_;
  std::vector<std::string> paths_;
  std::string path_attribute_;
  std::vector<std::string> headers_;
  bool acknowledgements_;
  std::size_t max_queued_;
  Value::Duration busy_timeout_;
  std::string retry_after_;
  std::uint64_t max_body_size_;
  std::size_t max_connections_;
  std::string health_path_;
  std::string ready_path_;
  std::optional<std::filesystem::path> tls_cert_;
  std::optional<std::filesystem::path> tls_key_;
  Value::Duration read_timeout_;
  Value::Duration keep_alive_timeout_;
  RateLimited errors_;

  std::shared_ptr<Intake> intake_;
  std::optional<StopEvent> stop_event_;  // made in start(); before server_: its connections poll it
  std::optional<TlsContext> tls_;        // before server_: its connections use it
  std::unique_ptr<Listener> server_;
  std::thread listener_;
};

}  // namespace

WEIR_PLUGIN(http_server_source) {
    .name = "http_server",
    .kind = Kind::source,
    .description = "Messages POSTed over HTTP(S): one per line, JSON array element or body; a full pipeline makes "
                   "clients wait, then answers 503; with acknowledgements a request is answered once its messages "
                   "are delivered (at-least-once)",
    .options = {address, format, paths, path_attribute, headers, acknowledgements, max_queued, busy_timeout,
                retry_after, max_body_size, max_connections, health_path, ready_path, tls_cert, tls_key,
                read_timeout, keep_alive_timeout},
    .example = plugin_example,
    .create = construct<HttpServer>,
};

}  // namespace weir::weir_std::http_server
