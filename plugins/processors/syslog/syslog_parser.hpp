#pragma once
// Parsing of syslog messages: RFC 5424 (the structured format) and RFC 3164
// (the older BSD format), one message per call, with no weir dependency so
// the unit tests and the fuzz target drive it directly.
//
// The parser walks the text once, left to right, never recursing and never
// backtracking: time and memory are linear in the message, whatever it holds.
// Anything it refuses comes back as an error with the 1-based byte where the
// message stopped following the format, and what was expected there.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weir::weir_std::syslog {

enum class Format { automatic, rfc5424, rfc3164 };

struct SdParam {
  std::string sd_id;
  std::string name;
  std::string value;  // escapes (\" \\ \]) resolved
};

// Fields the message did not carry (RFC 5424's "-", RFC 3164's optional
// parts) stay empty optionals.
struct Parsed {
  Format format = Format::automatic;  // the one parsed (or tried); automatic until known
  int facility = 0;
  int severity = 0;
  std::optional<std::string> timestamp;
  std::optional<std::string> hostname;
  std::optional<std::string> app_name;
  std::optional<std::string> procid;
  std::optional<std::string> msgid;
  std::optional<std::string> structured_data;  // the raw text of every SD-ELEMENT
  std::vector<SdParam> sd_params;
  std::string message;
};

struct ParseError {
  std::size_t position = 1;  // 1-based byte of the line
  std::string what;
};

inline constexpr std::array<std::string_view, 24> facility_names = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "authpriv", "ftp",  "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
inline constexpr std::array<std::string_view, 8> severity_names = {"emerg", "alert", "crit",  "err",
                                                                   "warning", "notice", "info", "debug"};

inline std::string_view to_string(Format format) noexcept {
  switch (format) {
    case Format::rfc5424: return "rfc5424";
    case Format::rfc3164: return "rfc3164";
    case Format::automatic: break;
  }
  return "auto";
}

namespace detail {

// A cursor over the line that knows its position for errors.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool at_end() const noexcept { return at_ >= text_.size(); }
  char peek(std::size_t ahead = 0) const noexcept { return at_ + ahead < text_.size() ? text_[at_ + ahead] : '\0'; }
  bool has(std::size_t count) const noexcept { return text_.size() - at_ >= count; }
  void skip(std::size_t count = 1) noexcept { at_ += count; }
  std::size_t offset() const noexcept { return at_; }
  std::string_view rest() const noexcept { return text_.substr(std::min(at_, text_.size())); }
  std::string_view since(std::size_t start) const noexcept { return text_.substr(start, at_ - start); }

  // What is at the cursor, for an error: the byte (printable or as \xNN) or "the end".
  std::string found() const {
    if (at_end()) return "the end of the message";
    const auto byte = static_cast<unsigned char>(text_[at_]);
    if (byte >= 0x21 && byte <= 0x7e) return std::string("'") + static_cast<char>(byte) + "'";
    if (byte == ' ') return "a space";
    static constexpr char hex[] = "0123456789abcdef";
    return std::string("byte \\x") + hex[byte >> 4] + hex[byte & 0xf];
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
};

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
inline bool is_print_ascii(char c) noexcept { return c >= 33 && c <= 126; }

class Parser {
 public:
  Parser(std::string_view line, Parsed& out, ParseError& error) : in_(line), out_(out), error_(error) {}

  bool parse(Format format) {
    out_.format = format;
    if (!priority()) return false;
    if (format == Format::automatic)
      format = (is_digit(in_.peek()) && (in_.peek(1) == ' ' || (is_digit(in_.peek(1)) && !is_digit(in_.peek(2)) &&
                                                                in_.peek(2) == ' ')))
                   ? Format::rfc5424
                   : Format::rfc3164;
    out_.format = format;
    return format == Format::rfc5424 ? rfc5424() : rfc3164();
  }

 private:
  bool fail(std::string what) {
    error_ = {in_.offset() + 1, std::move(what)};
    return false;
  }
  bool expected(std::string_view what) { return fail(std::string("expected ") + std::string(what) + ", found " + in_.found()); }

  bool space(std::string_view before) {
    if (in_.peek() == ' ' && !in_.at_end()) {
      in_.skip();
      return true;
    }
    return expected(std::string("a space before the ") + std::string(before));
  }

  // <PRI>: 1 to 3 digits, 0..191 (facility * 8 + severity).
  bool priority() {
    if (in_.peek() != '<' || in_.at_end()) return expected("'<' starting the priority (<PRI>)");
    in_.skip();
    const std::size_t start = in_.offset();
    int value = 0;
    while (is_digit(in_.peek()) && in_.offset() - start < 3) {
      value = value * 10 + (in_.peek() - '0');
      in_.skip();
    }
    if (in_.offset() == start) return expected("the priority's digits");
    if (in_.peek() != '>') return expected("'>' ending the priority (at most 3 digits)");
    if (value > 191) {
      error_ = {start + 1, "priority " + std::to_string(value) + " is over 191"};
      return false;
    }
    in_.skip();
    out_.facility = value / 8;
    out_.severity = value % 8;
    return true;
  }

  // ---- RFC 5424 -------------------------------------------------------------

  bool rfc5424() {
    if (in_.peek() != '1' || in_.peek(1) != ' ') {
      if (!is_digit(in_.peek())) return expected("the version 1");
      std::string version;
      for (std::size_t i = 0; is_digit(in_.peek(i)) && i < 3; ++i) version += in_.peek(i);
      return fail("syslog version " + version + " is not supported (RFC 5424 is version 1)");
    }
    in_.skip();
    if (!space("timestamp") || !timestamp5424()) return false;
    if (!space("hostname") || !header_field("hostname", 255, out_.hostname)) return false;
    if (!space("app-name") || !header_field("app-name", 48, out_.app_name)) return false;
    if (!space("procid") || !header_field("procid", 128, out_.procid)) return false;
    if (!space("msgid") || !header_field("msgid", 32, out_.msgid)) return false;
    if (!space("structured data") || !structured_data()) return false;
    if (in_.at_end()) return true;
    if (!space("message")) return false;
    std::string_view message = in_.rest();
    if (message.starts_with("\xEF\xBB\xBF")) message.remove_prefix(3);  // the BOM that marks UTF-8
    out_.message = trim_newline(message);
    return true;
  }

  // "-" or 1..max printable US-ASCII characters.
  bool header_field(std::string_view name, std::size_t max, std::optional<std::string>& into) {
    const std::size_t start = in_.offset();
    while (is_print_ascii(in_.peek()) && !in_.at_end()) {
      if (in_.offset() - start == max) return fail(std::string(name) + " is longer than " + std::to_string(max) + " characters");
      in_.skip();
    }
    if (in_.offset() == start) return expected(std::string("the ") + std::string(name) + " (or '-')");
    const std::string_view value = in_.since(start);
    if (value != "-") into = std::string(value);
    return true;
  }

  bool digits(std::size_t count, int min, int max, std::string_view what, int* value = nullptr) {
    int number = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (!is_digit(in_.peek())) return expected(std::string("a digit of the ") + std::string(what));
      number = number * 10 + (in_.peek() - '0');
      in_.skip();
    }
    if (number < min || number > max) {
      error_ = {in_.offset() - count + 1, std::string(what) + " " + std::to_string(number) + " is out of range " +
                                               std::to_string(min) + ".." + std::to_string(max)};
      return false;
    }
    if (value) *value = number;
    return true;
  }

  bool literal(char c, std::string_view what) {
    if (in_.peek() != c || in_.at_end()) return expected(std::string("'") + c + "' " + std::string(what));
    in_.skip();
    return true;
  }

  // RFC 3339 as RFC 5424 restricts it: YYYY-MM-DDThh:mm:ss[.1-6 digits](Z|+hh:mm|-hh:mm), or "-".
  bool timestamp5424() {
    if (in_.peek() == '-' && (in_.peek(1) == ' ' || !in_.has(2))) {
      in_.skip();
      return true;
    }
    const std::size_t start = in_.offset();
    if (!full_timestamp()) return false;
    out_.timestamp = std::string(in_.since(start));
    return true;
  }

  bool full_timestamp() {
    if (!digits(4, 0, 9999, "year") || !literal('-', "after the year") || !digits(2, 1, 12, "month") ||
        !literal('-', "after the month") || !digits(2, 1, 31, "day"))
      return false;
    if (in_.peek() != 'T' && in_.peek() != 't') return expected("'T' between the date and the time");
    in_.skip();
    if (!clock_time()) return false;
    if (in_.peek() == '.') {
      in_.skip();
      const std::size_t start = in_.offset();
      while (is_digit(in_.peek()) && in_.offset() - start < 6) in_.skip();
      if (in_.offset() == start) return expected("a digit of the fraction of a second");
      if (is_digit(in_.peek())) return fail("the fraction of a second has more than 6 digits");
    }
    if (in_.peek() == 'Z' || in_.peek() == 'z') {
      in_.skip();
      return true;
    }
    if (in_.peek() != '+' && in_.peek() != '-') return expected("the time zone ('Z', '+hh:mm' or '-hh:mm')");
    in_.skip();
    return digits(2, 0, 23, "time zone's hours") && literal(':', "in the time zone") &&
           digits(2, 0, 59, "time zone's minutes");
  }

  bool clock_time() {
    return digits(2, 0, 23, "hour") && literal(':', "after the hour") && digits(2, 0, 59, "minute") &&
           literal(':', "after the minute") && digits(2, 0, 60, "second");
  }

  // "-" or one or more [SD-ID *(SP PARAM="VALUE")].
  bool structured_data() {
    if (in_.peek() == '-' && !in_.at_end()) {
      in_.skip();
      return true;
    }
    if (in_.peek() != '[') return expected("'[' starting structured data (or '-')");
    const std::size_t start = in_.offset();
    while (in_.peek() == '[' && !in_.at_end()) {
      in_.skip();
      std::string id;
      if (!sd_name("SD-ID", id)) return false;
      while (in_.peek() == ' ' && !in_.at_end()) {
        in_.skip();
        SdParam param{id, {}, {}};
        if (!sd_name("parameter name", param.name) || !literal('=', "after the parameter name") ||
            !literal('"', "opening the parameter value") || !param_value(param.value))
          return false;
        out_.sd_params.push_back(std::move(param));
      }
      if (!literal(']', "closing the structured data element")) return false;
    }
    out_.structured_data = std::string(in_.since(start));
    return true;
  }

  // 1..32 printable US-ASCII characters except '=', ' ', ']' and '"'.
  bool sd_name(std::string_view what, std::string& into) {
    const std::size_t start = in_.offset();
    for (char c = in_.peek(); is_print_ascii(c) && c != '=' && c != ']' && c != '"' && !in_.at_end(); c = in_.peek()) {
      if (in_.offset() - start == 32) return fail(std::string(what) + " is longer than 32 characters");
      in_.skip();
    }
    if (in_.offset() == start) return expected(std::string("the ") + std::string(what));
    into = std::string(in_.since(start));
    return true;
  }

  // Up to the closing quote; \" \\ \] stand for the character, any other
  // backslash is kept as it is (RFC 5424 6.3.3).
  bool param_value(std::string& into) {
    while (!in_.at_end()) {
      const char c = in_.peek();
      if (c == '"') {
        in_.skip();
        return true;
      }
      if (c == '\\' && (in_.peek(1) == '"' || in_.peek(1) == '\\' || in_.peek(1) == ']') && in_.has(2)) {
        into += in_.peek(1);
        in_.skip(2);
        continue;
      }
      into += c;
      in_.skip();
    }
    return expected("'\"' closing the parameter value");
  }

  // ---- RFC 3164 -------------------------------------------------------------

  // TIMESTAMP SP [HOSTNAME SP] [TAG[ "[" PID "]" ] ":" SP] MSG, where the
  // timestamp is "Mmm dd hh:mm:ss" (day padded with a space or a zero) or,
  // as many senders write it, an RFC 3339 timestamp.
  bool rfc3164() {
    const std::size_t start = in_.offset();
    if (is_digit(in_.peek())) {
      if (!full_timestamp()) return false;
    } else if (!bsd_timestamp()) {
      return false;
    }
    out_.timestamp = std::string(in_.since(start));
    if (in_.at_end()) return true;
    if (!space("hostname")) return false;
    // The next word is the hostname unless it already looks like a tag
    // ("su:" or "sshd[42]:"): senders that leave out the hostname are common.
    const std::string_view rest = in_.rest();
    const std::size_t word_end = std::min(rest.find(' '), rest.size());
    const std::string_view word = rest.substr(0, word_end);
    const bool looks_like_tag = word.ends_with(':') || word.find('[') != std::string_view::npos;
    if (!looks_like_tag && word_end < rest.size()) {
      if (word.empty()) return expected("the hostname");
      for (std::size_t i = 0; i < word.size(); ++i)
        if (!is_print_ascii(word[i])) {
          in_.skip(i);
          return expected("a printable character of the hostname");
        }
      out_.hostname = std::string(word);
      in_.skip(word.size() + 1);
    }
    tag();
    out_.message = trim_newline(in_.rest());
    return true;
  }

  bool bsd_timestamp() {
    static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::string_view rest = in_.rest();
    bool month = false;
    for (std::string_view name : months) month = month || rest.starts_with(name);
    if (!month) return expected("a timestamp ('Mmm dd hh:mm:ss' or RFC 3339)");
    in_.skip(3);
    if (!literal(' ', "after the month")) return false;
    if (in_.peek() == ' ') {
      in_.skip();
      if (!digits(1, 1, 9, "day")) return false;
    } else if (!digits(2, 1, 31, "day")) {
      return false;
    }
    return literal(' ', "after the day") && clock_time();
  }

  // A TAG ends at '[' or ':' (RFC 3164 4.1.3: up to 32 alphanumerics, in
  // practice up to 48 of any printable); taken only when a ':' follows,
  // otherwise the whole rest is the message.
  void tag() {
    const std::string_view rest = in_.rest();
    std::size_t end = 0;
    while (end < rest.size() && end < 48 && is_print_ascii(rest[end]) && rest[end] != '[' && rest[end] != ':') ++end;
    if (end == 0 || end >= rest.size()) return;
    std::size_t after = end;
    std::optional<std::string_view> pid;
    if (rest[after] == '[') {
      const std::size_t close = rest.find(']', after);
      if (close == std::string_view::npos || close - after - 1 == 0 || close - after - 1 > 128) return;
      pid = rest.substr(after + 1, close - after - 1);
      for (char c : *pid)
        if (!is_print_ascii(c)) return;
      after = close + 1;
    }
    if (after >= rest.size() || rest[after] != ':') return;
    ++after;
    if (after < rest.size() && rest[after] == ' ') ++after;
    out_.app_name = std::string(rest.substr(0, end));
    if (pid) out_.procid = std::string(*pid);
    in_.skip(after);
  }

  static std::string trim_newline(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    return std::string(text);
  }

  Cursor in_;
  Parsed& out_;
  ParseError& error_;
};

}  // namespace detail

// Parses one message; false with `error` set when it is not one in `format`
// (Format::automatic: RFC 5424 when a version follows the priority, else RFC 3164).
inline bool parse(std::string_view line, Format format, Parsed& out, ParseError& error) {
  out = Parsed{};
  return detail::Parser(line, out, error).parse(format);
}

}  // namespace weir::weir_std::syslog
