// What the http plugins share: how long a Retry-After asks a client to wait,
// in seconds or as an HTTP-date in each of its three forms.

#include <weir_std/http.hpp>

#include <catch2/catch.hpp>

using weir::weir_std::http::parse_http_date;
using weir::weir_std::http::parse_retry_after;
using namespace std::chrono;

TEST_CASE("http: an HTTP-date is read in all three forms, anything else is not a date") {
  const sys_seconds expected = sys_days{1994y / November / 6} + 8h + 49min + 37s;
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == expected);
  CHECK(parse_http_date("Thu, 01 Jan 2026 00:00:00 GMT") == sys_days{2026y / January / 1});
  CHECK(parse_http_date("Thursday, 01-Jan-26 00:00:00 GMT") == sys_days{2026y / January / 1});
  for (const char* bad : {"", "GMT", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 CET",
                          "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                          "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 06 Nov 199 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT extra words",
                          "Sun Nov  6 08:49:37 94x"})
    CHECK_FALSE(parse_http_date(bad));
}

TEST_CASE("http: Retry-After in seconds or as a date from now, never negative") {
  const system_clock::time_point now = sys_days{2026y / November / 29} + 12h;
  CHECK(parse_retry_after("120", now) == 120s);
  CHECK(parse_retry_after(" 0 ", now) == 0s);
  CHECK(parse_retry_after("Sun, 29 Nov 2026 12:01:30 GMT", now) == 90s);
  CHECK(parse_retry_after("Sun Nov 29 12:00:05 2026", now) == 5s);
  CHECK(parse_retry_after("Sun, 29 Nov 2026 11:00:00 GMT", now) == 0s);  // passed already
  CHECK(parse_retry_after("Sun, 29 Nov 2026 12:00:00 GMT", now + 500ms) == 0s);
  CHECK(parse_retry_after("Sun, 29 Nov 2026 12:00:01 GMT", now + 500ms) == 1s);  // rounded up
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("1.5", now));
}
