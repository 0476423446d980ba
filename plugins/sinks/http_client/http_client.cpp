// http_client (sink): POSTs batches of messages to an HTTP(S) endpoint
// (cpp-httplib's client; TLS through its OpenSSL build).
//
// A batch the runtime hands the sink goes out as few requests as it can:
// messages whose `headers` templates render alike share a request, and a
// request holds at most `batch_max_messages` messages and `batch_max_bytes`
// of body. write_batch returns only when every request got a 2xx, so a
// message counts as written (and its source's acknowledgement may fire) only
// once its batch was taken. A request answered 429, 408 or 5xx, or that timed
// out or lost its connection, is sent again after a backoff (exponential,
// with jitter; at least what `Retry-After` asks, up to `max_retry_after`), up
// to `retries` times; then write_batch throws and the runtime writes the
// batch again one message at a time under the stage's on_error (retries, then
// the dead-letter stage). Any other 4xx is permanent: the endpoint refuses
// the content, and retrying will not help.

#include <weir_std/http.hpp>
#include <weir_std/message_json.hpp>
#include <weir_std/option_checks.hpp>
#include <weir_std/rate_limited.hpp>
#include <weir_std/waiting.hpp>

#include <weir/plugin.hpp>
#include <weir/template.hpp>

#include <httplib.h>

#include <filesystem>
#include <random>
#include <unordered_map>

namespace weir::weir_std::http_client {
namespace {

enum class Method { post, put };
enum class BatchFormat { ndjson, json_array };

const Option<std::string> url{.name = "url",
                              .description = "Where batches go: `http://HOST[:PORT]/PATH` or `https://…`",
                              .required = true,
                              .example = "'https://collector.example.com:8443/ingest'"};
const Option<Method> method{.name = "method",
                            .description = "The request method",
                            .default_value = "post",
                            .choices = {{"post", Method::post}, {"put", Method::put}}};
const Option<BatchFormat> format{
    .name = "format",
    .description = "The body of a request: `ndjson`, each payload followed by a newline; `json_array`, a JSON array "
                   "of the payloads (a payload that is JSON goes in as it is, any other as a JSON string)",
    .default_value = "ndjson",
    .choices = {{"ndjson", BatchFormat::ndjson}, {"json_array", BatchFormat::json_array}}};
const Option<Named<Template>> headers{
    .name = "headers",
    .description = "Request headers, each a template of the message's attributes; messages whose headers differ "
                   "go in separate requests",
    .default_value = "{}",
    .example = "{X-Tenant: '{tenant}', X-Source: weir}"};
const Option<std::string> content_type{
    .name = "content_type",
    .description = "The Content-Type header; empty: `application/x-ndjson` or `application/json` by `format`",
    .default_value = "''"};
const Option<std::int64_t> batch_max_messages{.name = "batch_max_messages",
                                              .description = "Messages in one request, at most",
                                              .default_value = "1000",
                                              .min = 1};
const Option<Size> batch_max_bytes{
    .name = "batch_max_bytes",
    .description = "Body bytes of one request, at most (a single larger message goes alone)",
    .default_value = "1MiB",
    .min = 1};
const Option<Value::Duration> timeout{
    .name = "timeout",
    .description = "How long connecting, and each read or write of a request, may take before the request counts "
                   "as failed (and is retried)",
    .default_value = "10s",
    .min = 0.001};
const Option<std::int64_t> retries{
    .name = "retries",
    .description = "Times a request answered 429, 408 or 5xx, timed out or cut off is sent again before the batch "
                   "fails (and the stage's on_error takes over)",
    .default_value = "5",
    .min = 0,
    .max = 100};
const Option<Value::Duration> backoff{
    .name = "backoff",
    .description = "The wait before the first retry; it doubles with every further one (with jitter), up to "
                   "`max_backoff`",
    .default_value = "100ms",
    .min = 0};
const Option<Value::Duration> max_backoff{.name = "max_backoff",
                                          .description = "The longest wait between two tries, `Retry-After` aside",
                                          .default_value = "10s",
                                          .min = 0};
const Option<Value::Duration> max_retry_after{
    .name = "max_retry_after",
    .description = "A `Retry-After` (seconds or an HTTP date) longer than this is waited for this long only",
    .default_value = "60s",
    .min = 0};
const Option<std::filesystem::path> tls_ca{
    .name = "tls_ca",
    .description = "For https: certificates (PEM) the server's must chain to; unset: the system's",
    .example = "/etc/weir/ca.pem"};
const Option<bool> tls_verify{
    .name = "tls_verify",
    .description = "For https: check the server's certificate and name (turn off only to test)",
    .default_value = "true"};

std::string messages_text(std::size_t n) { return fmt::format("{} message{}", n, n == 1 ? "" : "s"); }

// One request's worth of messages, with the headers they render alike.
struct Request {
  httplib::Headers headers;
  std::vector<const Message*> messages;
  std::size_t bytes = 0;
};

class HttpClient final : public Sink {
 public:
  HttpClient(const Options& options, const StageContext& context)
      : logger_(logger_for(context)),
        stop_(context.stop),
        method_(options[method]),
        format_(options[format]),
        headers_(options[headers]),
        content_type_(options[content_type]),
        batch_max_messages_(static_cast<std::size_t>(options[batch_max_messages])),
        batch_max_bytes_(options[batch_max_bytes].bytes),
        timeout_(options[timeout]),
        retries_(static_cast<unsigned>(options[retries])),
        backoff_(options[backoff]),
        max_backoff_(options[max_backoff]),
        max_retry_after_(options[max_retry_after]),
        tls_ca_(options.get(tls_ca)),
        tls_verify_(options[tls_verify]),
        jitter_(std::random_device{}()) {
    try {
      url_ = http::parse_url(options[url]);
    } catch (const std::invalid_argument& e) {
      reject_option(url.name, fmt::format("'{}': {}", options[url], e.what()),
                    "http://HOST[:PORT]/PATH or https://HOST[:PORT]/PATH");
    }
    if (tls_ca_ && !url_.tls) reject_option(tls_ca.name, "is set but the url is not https", "an https:// url");
    if (content_type_.empty())
      content_type_ = format_ == BatchFormat::ndjson ? "application/x-ndjson" : "application/json";
    for (const auto& [name, value] : headers_)
      if (name.empty() || name.find_first_of(" \t\r\n:") != std::string::npos)
        reject_option(fmt::format("{}.{}", headers.name, name), "is not a header name",
                      "letters, digits and '-', no spaces or ':'");
  }

  void start() override {
    if (tls_ca_ && !std::filesystem::is_regular_file(*tls_ca_))
      throw PermanentError(fmt::format("tls_ca '{}' is not a readable file", tls_ca_->string()));
    client_ = std::make_unique<httplib::Client>(url_.origin());
    if (!client_->is_valid()) throw PermanentError(fmt::format("cannot make a client for {}", url_.origin()));
    client_->set_keep_alive(true);
    client_->set_tcp_nodelay(true);  // headers and body are two writes: no Nagle wait between them
    client_->set_connection_timeout(timeout_);
    client_->set_read_timeout(timeout_);
    client_->set_write_timeout(timeout_);
    if (url_.tls) {
      client_->enable_server_certificate_verification(tls_verify_);
      if (tls_ca_) client_->set_ca_cert_path(tls_ca_->string());
    }
    // A forced stop cuts a request in flight short (the wait between tries
    // wakes on the same token).
    on_stop_.emplace(stop_, [client = client_.get()] { client->stop(); });
  }

  void write(const Message& message) override { send({&message, 1}); }
  void write_batch(std::span<const Message> batch) override { send(batch); }

  void stop() override {
    on_stop_.reset();
    if (client_) client_->stop();
    logger_->info("{} requests to {}{}, {} retried, {} failed after their retries", requests_, url_.origin(),
                  url_.path, retried_, failed_);
  }

 private:
  void send(std::span<const Message> batch) {
    for (const Request& request : requests_of(batch)) post(request);
  }

  // Groups by rendered headers (first appearance first), then cuts each
  // group at the size limits.
  std::vector<Request> requests_of(std::span<const Message> batch) {
    std::vector<Request> requests;
    std::unordered_map<std::string, std::size_t> open;  // rendered headers → the group's open request
    std::string key;
    for (const Message& message : batch) {
      httplib::Headers rendered;
      key.clear();
      for (const auto& [name, value] : headers_) {
        std::string text = value.render(message);
        // A value cannot break the request: line breaks become spaces.
        std::replace_if(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
        key += name;
        key += '\0';
        key += text;
        key += '\0';
        rendered.emplace(name, std::move(text));
      }
      const std::size_t size = message.payload.size() + 3;  // a separator, quotes for a string
      auto found = open.find(key);
      if (found == open.end() || requests[found->second].messages.size() >= batch_max_messages_ ||
          requests[found->second].bytes + size > batch_max_bytes_) {
        open[key] = requests.size();
        requests.push_back({std::move(rendered), {}, 0});
        found = open.find(key);
      }
      Request& request = requests[found->second];
      request.messages.push_back(&message);
      request.bytes += size;
    }
    return requests;
  }

  std::string body_of(const Request& request) const {
    std::string body;
    body.reserve(request.bytes + 2);
    if (format_ == BatchFormat::ndjson) {
      for (const Message* message : request.messages) {
        body += message->payload;
        body += '\n';
      }
      return body;
    }
    body += '[';
    bool first = true;
    for (const Message* message : request.messages) {
      if (!first) body += ',';
      first = false;
      const std::string& payload = message->payload;
      if (json_too_deep_at(payload) == std::string_view::npos && Json::accept(payload))
        body += payload;
      else
        body += dump_json(Json(payload));  // invalid UTF-8 becomes U+FFFD
    }
    body += ']';
    return body;
  }

  void post(const Request& request) {
    const std::string body = body_of(request);
    for (unsigned attempt = 0;; ++attempt) {
      ++requests_;
      auto result = method_ == Method::post
                        ? client_->Post(url_.path, request.headers, body, content_type_)
                        : client_->Put(url_.path, request.headers, body, content_type_);
      std::string problem;
      bool retryable = true;
      std::optional<std::chrono::seconds> retry_after;
      if (!result) {
        problem = fmt::format("{} {}: {}", url_.origin(), url_.path, httplib::to_string(result.error()));
      } else {
        const int status = result->status;
        if (status >= 200 && status < 300) return;
        retryable = status == 429 || status == 408 || status >= 500;
        retry_after = http::parse_retry_after(result->get_header_value("Retry-After"));
        std::string said = result->body.substr(0, 200);
        std::replace_if(said.begin(), said.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
        problem = fmt::format("{}{} answered {}{}{}", url_.origin(), url_.path, status, said.empty() ? "" : ": ",
                              said);
      }
      if (!retryable) {
        ++failed_;
        throw PermanentError(fmt::format("{} ({} in the request; not retried)", problem,
                                         messages_text(request.messages.size())));
      }
      if (attempt >= retries_ || stop_.stop_requested()) {
        ++failed_;
        throw RetryableError(fmt::format("{} ({} in the request, {} tries)", problem,
                                         messages_text(request.messages.size()), attempt + 1));
      }
      ++retried_;
      const auto wait = wait_before(attempt, retry_after);
      retry_log_([&](std::uint64_t left_out) {
        logger_->warn("{}; trying again in {}{}", problem, format_duration(wait), left_out_text(left_out));
      });
      if (!wait_until(stop_, Clock::now() + wait))
        throw RetryableError(fmt::format("{} (the stop was forced while waiting to try again)", problem));
    }
  }

  // backoff · 2^attempt, capped, with jitter in [wait/2, wait]; at least
  // what Retry-After asked, up to max_retry_after.
  Value::Duration wait_before(unsigned attempt, std::optional<std::chrono::seconds> retry_after) {
    auto wait = backoff_;
    for (unsigned i = 0; i < attempt && wait < max_backoff_; ++i) wait *= 2;
    wait = std::min(wait, max_backoff_);
    if (wait.count() > 1) {
      std::uniform_int_distribution<std::int64_t> half(wait.count() / 2, wait.count());
      wait = Value::Duration(half(jitter_));
    }
    if (retry_after) wait = std::max(wait, std::min<Value::Duration>(*retry_after, max_retry_after_));
    return wait;
  }

  std::shared_ptr<spdlog::logger> logger_;
  std::stop_token stop_;
  http::Url url_;
  Method method_;
  BatchFormat format_;
  Named<Template> headers_;
  std::string content_type_;
  std::size_t batch_max_messages_;
  std::uint64_t batch_max_bytes_;
  Value::Duration timeout_;
  unsigned retries_;
  Value::Duration backoff_;
  Value::Duration max_backoff_;
  Value::Duration max_retry_after_;
  std::optional<std::filesystem::path> tls_ca_;
  bool tls_verify_;
  std::mt19937_64 jitter_;
  RateLimited retry_log_;
  std::unique_ptr<httplib::Client> client_;
  std::optional<std::stop_callback<std::function<void()>>> on_stop_;
  std::uint64_t requests_ = 0;
  std::uint64_t retried_ = 0;
  std::uint64_t failed_ = 0;
};

}  // namespace

WEIR_PLUGIN(http_client_sink) {
    .name = "http_client",
    .kind = Kind::sink,
    .description = "POSTs batches of messages (ndjson or a JSON array) to an HTTP(S) endpoint, retrying 429, 5xx "
                   "and timeouts with backoff; a message is written once its batch got a 2xx",
    .options = {url, method, format, headers, content_type, batch_max_messages, batch_max_bytes, timeout, retries,
                backoff, max_backoff, max_retry_after, tls_ca, tls_verify},
    .example = plugin_example,
    .create = construct<HttpClient>,
};

}  // namespace weir::weir_std::http_client
