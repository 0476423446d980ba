#include "config/spellings.hpp"

#include <weir/spec.hpp>

namespace weir {

std::string_view to_string(Kind kind) noexcept { return config::spelling_of(kind); }
std::string_view to_string(WhenFull policy) noexcept { return config::spelling_of(policy); }
std::string_view to_string(LanePolicy policy) noexcept { return config::spelling_of(policy); }

}  // namespace weir
