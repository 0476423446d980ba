#pragma once
// When YAML does not parse, the usual cause is a plain (unquoted) value that
// holds a character YAML reads as structure: ` #` starts a comment even
// inside `{...}` (and hides the `}` after it), and a second `: ` in one entry
// starts a key where none may be. This looks for them before the error.

#include <cstddef>
#include <string>
#include <string_view>

namespace weir::config {

// A hint naming the line and column of the likely cause, or "".
// `error_offset` is where the parser gave up, in `source`.
std::string yaml_syntax_hint(std::string_view source, std::size_t error_offset);

}  // namespace weir::config
