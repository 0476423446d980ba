#pragma once
// How wide the output may be: what `weir plugins`, the live view and
// `weir top` fit their lines to.

#include <cstdio>

namespace weir::cli {

// COLUMNS when it is set to a number, else the width of the terminal `out`
// is on, else 80; never under 40.
int terminal_width(std::FILE* out);

}  // namespace weir::cli
