// The syslog parser (RFC 5424 and RFC 3164), the `syslog` processor built
// on it, and the octet-counting framing the `socket` source reads.

#include "harness.hpp"

#include <processors/syslog/syslog_parser.hpp>
#include <weir_std/octet_frames.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace weir::test;
using weir::Kind;
namespace syslog = weir::weir_std::syslog;

namespace {

syslog::Parsed parsed(std::string_view line, syslog::Format format = syslog::Format::automatic) {
  syslog::Parsed out;
  syslog::ParseError error;
  INFO(line);
  const bool ok = syslog::parse(line, format, out, error);
  INFO("at byte " << error.position << ": " << error.what);
  REQUIRE(ok);
  return out;
}

syslog::ParseError refused(std::string_view line, syslog::Format format = syslog::Format::automatic) {
  syslog::Parsed out;
  syslog::ParseError error;
  INFO(line);
  REQUIRE_FALSE(syslog::parse(line, format, out, error));
  return error;
}

}  // namespace

TEST_CASE("syslog parser: RFC 5424 with every header field and structured data", "[plugins][syslog]") {
  const auto m = parsed(
      R"(<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event log entry...)");
  CHECK(m.format == syslog::Format::rfc5424);
  CHECK(m.facility == 20);  // local4
  CHECK(m.severity == 5);   // notice
  CHECK(m.timestamp == "2003-10-11T22:14:15.003Z");
  CHECK(m.hostname == "mymachine.example.com");
  CHECK(m.app_name == "evntslog");
  CHECK(m.procid == "1234");
  CHECK(m.msgid == "ID47");
  CHECK(m.structured_data ==
        R"([exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"])");
  REQUIRE(m.sd_params.size() == 4);
  CHECK(m.sd_params[1].sd_id == "exampleSDID@32473");
  CHECK(m.sd_params[1].name == "eventSource");
  CHECK(m.sd_params[1].value == "Application");
  CHECK(m.sd_params[3].sd_id == "examplePriority@32473");
  CHECK(m.message == "An application event log entry...");
}

TEST_CASE("syslog parser: RFC 5424 nil values, no message, a BOM, escapes and offsets", "[plugins][syslog]") {
  auto m = parsed("<34>1 - - - - - -");
  CHECK(m.facility == 4);
  CHECK(m.severity == 2);
  CHECK_FALSE(m.timestamp);
  CHECK_FALSE(m.hostname);
  CHECK_FALSE(m.app_name);
  CHECK_FALSE(m.procid);
  CHECK_FALSE(m.msgid);
  CHECK_FALSE(m.structured_data);
  CHECK(m.message.empty());

  m = parsed("<0>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - \xEF\xBB\xBF%% It's time to make the do-nuts.");
  CHECK(m.timestamp == "2003-08-24T05:14:15.000003-07:00");
  CHECK(m.message == "%% It's time to make the do-nuts.");

  m = parsed(R"(<13>1 2024-02-29T23:59:60+14:00 h a p m [id@1 k="a \"quoted\" \] and \\ and \n"] body)");
  REQUIRE(m.sd_params.size() == 1);
  CHECK(m.sd_params[0].value == R"(a "quoted" ] and \ and \n)");
  CHECK(m.message == "body");

  m = parsed("<13>1 2024-01-01T00:00:00Z h a p m - message with trailing newline\r\n");
  CHECK(m.message == "message with trailing newline");
}

TEST_CASE("syslog parser: RFC 3164 in its common shapes", "[plugins][syslog]") {
  auto m = parsed("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
  CHECK(m.format == syslog::Format::rfc3164);
  CHECK(m.facility == 4);
  CHECK(m.severity == 2);
  CHECK(m.timestamp == "Oct 11 22:14:15");
  CHECK(m.hostname == "mymachine");
  CHECK(m.app_name == "su");
  CHECK_FALSE(m.procid);
  CHECK(m.message == "'su root' failed for lonvick on /dev/pts/8");

  m = parsed("<13>Feb  5 17:32:18 10.0.0.99 sshd[4123]: Accepted publickey for root");
  CHECK(m.timestamp == "Feb  5 17:32:18");
  CHECK(m.hostname == "10.0.0.99");
  CHECK(m.app_name == "sshd");
  CHECK(m.procid == "4123");
  CHECK(m.message == "Accepted publickey for root");

  m = parsed("<86>Mar 01 08:00:00 cron[77]: job done");  // no hostname: the word is a tag
  CHECK_FALSE(m.hostname);
  CHECK(m.app_name == "cron");
  CHECK(m.procid == "77");
  CHECK(m.message == "job done");

  m = parsed("<14>2024-05-06T07:08:09.123+02:00 web01 nginx: GET /");  // an RFC 3339 timestamp
  CHECK(m.format == syslog::Format::rfc3164);
  CHECK(m.timestamp == "2024-05-06T07:08:09.123+02:00");
  CHECK(m.hostname == "web01");
  CHECK(m.app_name == "nginx");
  CHECK(m.message == "GET /");

  m = parsed("<14>Dec 31 23:59:59 host plain message without a tag");
  CHECK(m.hostname == "host");
  CHECK_FALSE(m.app_name);
  CHECK(m.message == "plain message without a tag");
}

TEST_CASE("syslog parser: malformed messages fail with the byte and what was expected", "[plugins][syslog]") {
  struct Case {
    std::string line;
    std::size_t position;
    std::string what;
  };
  const std::vector<Case> cases = {
      {"", 1, "expected '<' starting the priority (<PRI>), found the end of the message"},
      {"hello world", 1, "expected '<' starting the priority"},
      {"<>1 - - - - - -", 2, "expected the priority's digits, found '>'"},
      {"<1234>1 - - - - - -", 5, "expected '>' ending the priority"},
      {"<192>1 - - - - - -", 2, "priority 192 is over 191"},
      {"<13>2 - - - - - -", 5, "syslog version 2 is not supported"},
      {"<13>1 2003-13-11T22:14:15Z h a p m -", 12, "month 13 is out of range 1..12"},
      {"<13>1 2003-10-11 22:14:15Z h a p m -", 17, "expected 'T' between the date and the time"},
      {"<13>1 2003-10-11T22:14:15 h a p m -", 26, "expected the time zone"},
      {"<13>1 2003-10-11T22:14:15.1234567Z h a p m -", 33, "more than 6 digits"},
      {"<13>1 - h a p m", 16, "expected a space before the structured data"},
      {"<13>1 - h a p m x", 17, "expected '[' starting structured data"},
      {"<13>1 - h a p m [id k=\"v\"", 26, "expected ']' closing the structured data element"},
      {"<13>1 - h a p m [id k=\"v", 25, "expected '\"' closing the parameter value"},
      {"<13>1 - h a p m [id k=v]", 23, "expected '\"' opening the parameter value"},
      {"<13>1 - h a p m []", 18, "expected the SD-ID"},
      {"<13>1 - h a p " + std::string(33, 'm') + " -", 47, "msgid is longer than 32 characters"},
      {"<13>1 - h a p m [id k=\"v\"]x", 27, "expected a space before the message"},
      {"<13>Oct 32 22:14:15 host tag: x", 9, "day 32 is out of range 1..31"},
      {"<13>Foo 11 22:14:15 host tag: x", 5, "expected a timestamp"},
      {"<13>Oct 11 22:14 host tag: x", 17, "expected ':' after the minute"},
      {"<13>Oct 11 22:14:15host tag: x", 20, "expected a space before the hostname"},
  };
  for (const Case& c : cases) {
    const auto error = refused(c.line);
    INFO(c.line << " -> at byte " << error.position << ": " << error.what);
    CHECK(error.position == c.position);
    CHECK_THAT(error.what, Catch::Contains(c.what));
  }
  // A forced format refuses the other one.
  CHECK_THAT(refused("<13>Oct 11 22:14:15 host tag: x", syslog::Format::rfc5424).what,
             Catch::Contains("expected the version 1"));
  CHECK_THAT(refused("<13>1 - - - - - -", syslog::Format::rfc3164).what, Catch::Contains("expected a digit of the year"));
}

TEST_CASE("syslog parser: random and truncated input never crashes and errors stay inside the line",
          "[plugins][syslog]") {
  const std::string valid =
      R"(<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3"] message)";
  for (std::size_t length = 0; length < valid.size(); ++length) {
    syslog::Parsed out;
    syslog::ParseError error;
    if (!syslog::parse(std::string_view(valid).substr(0, length), syslog::Format::automatic, out, error))
      CHECK(error.position <= length + 1);
  }
  std::mt19937 random(19);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 20000; ++round) {
    std::string line = round % 2 ? valid : "<13>Oct 11 22:14:15 host tag[1]: x";
    for (int flips = 1 + round % 4; flips > 0; --flips)
      line[static_cast<std::size_t>(random()) % line.size()] = static_cast<char>(byte(random));
    syslog::Parsed out;
    syslog::ParseError error;
    if (!syslog::parse(line, syslog::Format::automatic, out, error)) {
      CHECK(error.position >= 1);
      CHECK(error.position <= line.size() + 1);
      CHECK_FALSE(error.what.empty());
    }
  }
}

TEST_CASE("syslog processor: attributes, payload and the dead letter's error", "[plugins][syslog]") {
  auto stage = make_stage("syslog", Kind::processor, "{}");
  auto out = process(stage, message(R"(<165>1 2003-10-11T22:14:15.003Z host app 99 ID47 [a@1 k="v"] hello)"));
  REQUIRE(out.size() == 1);
  const auto& a = out[0].attributes;
  CHECK(a.get("format") == "rfc5424");
  CHECK(a.get("facility") == "local4");
  CHECK(a.get("severity") == "notice");
  CHECK(a.get("facility_code") == "20");
  CHECK(a.get("severity_code") == "5");
  CHECK(a.get("timestamp") == "2003-10-11T22:14:15.003Z");
  CHECK(a.get("hostname") == "host");
  CHECK(a.get("app_name") == "app");
  CHECK(a.get("procid") == "99");
  CHECK(a.get("msgid") == "ID47");
  CHECK(a.get("structured_data") == R"([a@1 k="v"])");
  CHECK(a.get("sd.a@1.k") == "v");
  CHECK(a.get("message") == "hello");
  CHECK(out[0].payload == R"(<165>1 2003-10-11T22:14:15.003Z host app 99 ID47 [a@1 k="v"] hello)");

  auto nil = process(stage, message("<13>1 - - - - - -"));
  REQUIRE(nil.size() == 1);
  CHECK_FALSE(nil[0].attributes.contains("hostname"));
  CHECK_FALSE(nil[0].attributes.contains("structured_data"));

  auto shaped = make_stage("syslog", Kind::processor,
                           "{format: rfc3164, payload: message, prefix: 'sys_', structured_data: false}");
  out = process(shaped, message("<13>Feb  5 17:32:18 web sshd[42]: Accepted"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "Accepted");
  CHECK(out[0].attributes.get("sys_app_name") == "sshd");
  CHECK(out[0].attributes.get("sys_procid") == "42");
  CHECK_FALSE(out[0].attributes.contains("sys_message"));

  try {
    process(stage, message("<13>1 2003-10-11T22:14:15 h a p m - no zone"));
    FAIL("a malformed message was accepted");
  } catch (const weir::PermanentError& e) {
    CHECK_THAT(e.what(), Catch::Contains("not a syslog message (rfc5424): at byte 26: expected the time zone"));
  }
  auto filtering = make_stage("syslog", Kind::processor, "{on_invalid: filter}");
  CHECK(process(filtering, message("nonsense")).empty());
  auto passing = make_stage("syslog", Kind::processor, "{on_invalid: pass}");
  out = process(passing, message("nonsense"));
  REQUIRE(out.size() == 1);
  CHECK(out[0].payload == "nonsense");
  CHECK(out[0].attributes.size() == 0);
}

TEST_CASE("octet counting: frames across reads, pieces past the limit, broken framing", "[plugins][socket]") {
  weir::weir_std::OctetFrameSplitter frames(8);
  std::vector<std::string> got;
  auto collect = [&](std::string frame) {
    got.push_back(std::move(frame));
    return true;
  };
  const std::string stream = "5 hello11 hello\nworld3 abc";
  for (char c : stream) REQUIRE(frames.feed(std::string_view(&c, 1), collect));  // a byte at a time
  CHECK(got == std::vector<std::string>{"hello", "hello\nwo", "rld", "abc"});
  CHECK_FALSE(frames.mid_frame());
  REQUIRE(frames.feed("4 ab", collect));
  CHECK(frames.mid_frame());

  for (const auto& [bad, why] : std::vector<std::pair<std::string, std::string>>{
           {"x", "expected the length of a frame (octet counting), found 'x' at byte 1"},
           {"05 hello", "a frame length starting with 0 at byte 1"},
           {"3 abc\n", "found byte 10 at byte 6"},
           {"12x", "expected a digit or the space after the frame length, found 'x' at byte 3"},
           {"12345678901 x", "more than 10 digits at byte 11"}}) {
    weir::weir_std::OctetFrameSplitter splitter(1024);
    INFO(bad);
    CHECK_FALSE(splitter.feed(bad, collect));
    CHECK_THAT(splitter.error(), Catch::Contains(why));
    CHECK_FALSE(splitter.feed("1 a", collect));  // nothing more after the framing broke
  }
}

TEST_CASE("socket source: a malformed address is refused at its column", "[plugins][socket]") {
  for (const auto& [address, why] : std::vector<std::pair<std::string, std::string>>{
           {"5140", "expected HOST:PORT"},
           {"127.0.0.1:", "the port is not a number"},
           {"127.0.0.1:70000", "the port is not a number"},
           {":5140", "the host is empty"},
           {"::1:5140", "an IPv6 host is written in brackets"},
           {"[::1]5140", "expected ':' and a port after the IPv6 host"}}) {
    INFO(address);
    CHECK_THROWS_WITH(make_stage("socket", Kind::source, "{address: '" + address + "'}"),
                      Catch::Contains("option 'address'") && Catch::Contains(why));
  }
  CHECK_NOTHROW(make_stage("socket", Kind::source, "{address: '[::1]:5140', protocol: udp}"));
}
