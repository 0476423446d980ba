// syslog: parses a syslog message (RFC 5424 or RFC 3164) in the payload into
// attributes. A message that is not one fails permanently with the parser's
// error and the byte where it went wrong, so it reaches the dead-letter stage
// (or is filtered or passed on, as configured). The parsing itself is in
// syslog_parser.hpp: linear in the message, no recursion, no exceptions.

#include "syslog_parser.hpp"

#include <weir_std/unfit_message.hpp>

#include <weir/plugin.hpp>

#include <fmt/format.h>

namespace weir::weir_std {
namespace {

enum class Payload { keep, message };

const Option<syslog::Format> format{
    .name = "format",
    .description = "`rfc5424`, `rfc3164`, or `auto`: RFC 5424 when a version number follows the priority, "
                   "otherwise RFC 3164",
    .default_value = "auto",
    .choices = {{"auto", syslog::Format::automatic},
                {"rfc5424", syslog::Format::rfc5424},
                {"rfc3164", syslog::Format::rfc3164}}};
const Option<Payload> payload{
    .name = "payload",
    .description = "`keep` the payload as it came, or replace it with the `message` part (the text after the header)",
    .default_value = "keep",
    .choices = {{"keep", Payload::keep}, {"message", Payload::message}}};
const Option<std::string> prefix{.name = "prefix",
                                 .description = "Put before every attribute name the stage sets: `format` (rfc5424 or "
                                                "rfc3164), `facility` and `severity` (names such as local4, err), "
                                                "`facility_code`, `severity_code`, `timestamp` (as sent), `hostname`, "
                                                "`app_name` (RFC 3164: the tag), `procid`, `msgid`, `structured_data`, "
                                                "`sd.SD-ID.NAME`, and `message` unless it becomes the payload. A field "
                                                "the message leaves out (`-`) is not set",
                                 .default_value = "''",
                                 .example = "syslog_"};
const Option<bool> structured_data{
    .name = "structured_data",
    .description = "RFC 5424: also set one attribute per structured-data parameter, named `sd.SD-ID.NAME` "
                   "(the whole structured data is always in `structured_data`)",
    .default_value = "true"};
const Option<UnfitMessage> on_invalid{
    .name = "on_invalid",
    .description = "A payload that is not a syslog message `fail`s (permanently, to the dead letter, with the "
                   "parse error and its byte), is `filter`ed, or `pass`es unchanged",
    .default_value = "fail",
    .choices = unfit_message_choices(UnfitMessage::fail)};

class SyslogProcessor final : public Processor {
 public:
  SyslogProcessor(const Options& options, const StageContext&)
      : format_(options[format]),
        message_payload_(options[payload] == Payload::message),
        prefix_(options[prefix]),
        structured_data_(options[structured_data]),
        on_invalid_(options[on_invalid]) {}

  void process(Message& message, Emitter& out) override {
    syslog::ParseError error;
    if (!syslog::parse(message.payload, format_, parsed_, error)) {
      const bool keep = keep_unfit(on_invalid_, [&] {
        const std::string tried =
            parsed_.format == syslog::Format::automatic ? "" : fmt::format(" ({})", syslog::to_string(parsed_.format));
        return fmt::format("not a syslog message{}: at byte {}: {}", tried, error.position, error.what);
      });
      if (keep) out.emit(std::move(message));
      return;
    }
    set(message, "format", std::string(syslog::to_string(parsed_.format)));
    set(message, "facility", std::string(syslog::facility_names[static_cast<std::size_t>(parsed_.facility)]));
    set(message, "severity", std::string(syslog::severity_names[static_cast<std::size_t>(parsed_.severity)]));
    set(message, "facility_code", std::to_string(parsed_.facility));
    set(message, "severity_code", std::to_string(parsed_.severity));
    set(message, "timestamp", std::move(parsed_.timestamp));
    set(message, "hostname", std::move(parsed_.hostname));
    set(message, "app_name", std::move(parsed_.app_name));
    set(message, "procid", std::move(parsed_.procid));
    set(message, "msgid", std::move(parsed_.msgid));
    set(message, "structured_data", std::move(parsed_.structured_data));
    if (structured_data_)
      for (auto& param : parsed_.sd_params)
        set(message, fmt::format("sd.{}.{}", param.sd_id, param.name), std::move(param.value));
    if (message_payload_)
      message.payload = std::move(parsed_.message);
    else
      set(message, "message", std::move(parsed_.message));
    out.emit(std::move(message));
  }

 private:
  void set(Message& message, std::string_view name, std::string value) const {
    message.attributes.set(prefix_ + std::string(name), std::move(value));
  }
  void set(Message& message, std::string_view name, std::optional<std::string> value) const {
    if (value) set(message, name, std::move(*value));
  }

  syslog::Format format_;
  bool message_payload_;
  std::string prefix_;
  bool structured_data_;
  UnfitMessage on_invalid_;
  syslog::Parsed parsed_;  // kept between messages for its vector's capacity
};

}  // namespace

WEIR_PLUGIN(syslog) {
    .name = "syslog",
    .kind = Kind::processor,
    .description = "Parses RFC 5424 and RFC 3164 syslog messages into attributes; malformed ones fail with the byte "
                   "where they went wrong",
    .options = {format, payload, prefix, structured_data, on_invalid},
    .example = plugin_example,
    .create = construct<SyslogProcessor>,
};

}  // namespace weir::weir_std
