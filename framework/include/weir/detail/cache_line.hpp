#pragma once
#include <weir/detail/internal.hpp>  // stops a direct include from outside weir
// Internal to weir: included by weir's public headers, never by users (see
// docs/architecture.md, "Public headers and internals").
// The padding unit that keeps independently written atomics on separate cache
// lines. std::hardware_destructive_interference_size is not used because g++
// warns (-Winterference-size) whenever a header depends on it: its value may
// differ between translation units built with different -mtune flags.

#include <cstddef>

namespace weir::detail {

// 64 bytes on x86-64 and most ARM cores. Apple's M-series and some POWER parts
// use 128, where the cost is sharing a line pair, never incorrectness.
inline constexpr std::size_t cache_line = 64;

}  // namespace weir::detail
