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

// What a send did is its SendStatus; what a receive did is a RecvResult: its
// RecvStatus and, on ok, the value. Channel, Lanes and Oneshot all answer in
// these terms, so "nothing yet" (empty) and "nothing ever again" (closed) are
// told apart everywhere.
template <class T>
struct RecvResult {
  RecvStatus status;
  std::optional<T> value;  // engaged exactly when status == ok

  explicit operator bool() const noexcept { return status == RecvStatus::ok; }
  // The value; only when status == ok.
  T& operator*() noexcept { return *value; }
  const T& operator*() const noexcept { return *value; }
  T* operator->() noexcept { return &*value; }
  const T* operator->() const noexcept { return &*value; }
};

enum class LanePolicy { strict, weighted };

struct LaneConfig {
  std::size_t capacity;
  unsigned weight = 1;  // for LanePolicy::weighted; at least 1
};

}  // namespace weir
