#include <weir/spec.hpp>

namespace weir {

std::string_view to_string(WhenFull policy) noexcept {
  switch (policy) {
    case WhenFull::block: return "block";
    case WhenFull::drop_newest: return "drop_newest";
    case WhenFull::drop_oldest: return "drop_oldest";
  }
  return "?";
}

std::string_view to_string(LanePolicy policy) noexcept {
  switch (policy) {
    case LanePolicy::strict: return "strict";
    case LanePolicy::weighted: return "weighted";
  }
  return "?";
}

}  // namespace weir
