#pragma once
// UTF-8 validity, for the places that must tell text from bytes: diagnostics
// that escape what is not printable text, and JSON output that carries bytes
// which are not UTF-8 losslessly (base64) instead of replacing them.

#include <cstddef>
#include <string_view>

namespace weir {

struct Utf8Sequence {
  std::size_t length;  // 1..4; 0 when `text` does not start with a valid sequence
  char32_t code;       // the code point, when length > 0
};

// The sequence at the start of `text` (which must not be empty). Overlong
// forms, surrogates and code points past U+10FFFF are not valid.
Utf8Sequence utf8_sequence(std::string_view text) noexcept;

bool is_utf8(std::string_view text) noexcept;

}  // namespace weir
