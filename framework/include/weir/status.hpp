#pragma once
// The small vocabulary shared by the channels and the configuration: what a
// send or receive did, and how a stage's lanes are served. Kept apart from
// channel.hpp and lanes.hpp so that the configuration API (spec.hpp,
// config.hpp, builder.hpp, pipeline.hpp) does not pull in the channel
// machinery and its platform code.

#include <cstddef>
#include <optional>

namespace weir {

enum class SendStatus { ok, full, closed, timeout };
enum class RecvStatus { ok, empty, closed, timeout };

template <class T>
struct RecvResult {
  RecvStatus status;
  std::optional<T> value;  // engaged exactly when status == ok
  explicit operator bool() const noexcept { return status == RecvStatus::ok; }
};

enum class LanePolicy { strict, weighted };

struct LaneConfig {
  std::size_t capacity;
  unsigned weight = 1;  // for LanePolicy::weighted; at least 1
};

}  // namespace weir
