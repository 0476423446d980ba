// Diagnostics quote user text; no text can forge a second diagnostic line or
// reach the terminal as a control sequence (issue 16).

#include <weir/diagnostics.hpp>

#include <catch2/catch.hpp>

using weir::Diagnostic;
using weir::printable;

TEST_CASE("printable escapes control characters, C1 controls, bidi overrides and invalid UTF-8", "[sdk][diagnostics]") {
  CHECK(printable("plain text, ünïcödé ✓") == "plain text, ünïcödé ✓");
  CHECK(printable("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(printable("\x1b[2J\x7f") == "\\x1b[2J\\x7f");
  CHECK(printable(std::string_view("nul\0here", 8)) == "nul\\x00here");
  CHECK(printable("\xc2\x9b" "31m") == "\\u009b31m");           // C1 CSI, encoded as UTF-8
  CHECK(printable("abc\xe2\x80\xae" "fed") == "abc\\u202efed");  // right-to-left override
  CHECK(printable("\xff\xfe ok") == "\\xff\\xfe ok");
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");          // an overlong '/'
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a UTF-16 surrogate
  CHECK(printable("cut \xe2\x9c") == "cut \\xe2\\x9c");    // a sequence cut short
  CHECK(printable("\\1 stays") == "\\1 stays");
}

TEST_CASE("a diagnostic is one line whatever its parts hold", "[sdk][diagnostics]") {
  const Diagnostic forged{"pipe\nline.yaml", 3, 5,
                          "unknown key 'x\nother.yaml:1:1: error: all is fine'", "did you mean '\x1b[31mx'?"};
  const std::string line = forged.to_string();
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find('\x1b') == std::string::npos);
  CHECK(line ==
        "pipe\\nline.yaml:3:5: error: unknown key 'x\\nother.yaml:1:1: error: all is fine' (did you mean "
        "'\\x1b[31mx'?)");
}
