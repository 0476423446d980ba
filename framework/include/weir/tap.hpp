#pragma once
// weir::Tap: copies of the messages leaving a stage of a running pipeline,
// for as long as someone looks (`weir tap`, Pipeline::tap).
//
// Untapped, a stage pays one relaxed atomic load per message it sends on (a
// sink: per batch it writes). Tapped, a replica copies each message that the
// tap's condition matches into the tap's bounded buffer without waiting: when
// the buffer is full the copy is dropped and counted, never the stage slowed
// down or blocked. Copies carry no acknowledgement, so a tap changes nothing
// in the run's books. Destroying the Tap detaches it and frees its buffer.

#include <weir/condition.hpp>
#include <weir/message.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace weir {

namespace runtime {
struct TapBuffer;
class TapPoint;
}  // namespace runtime

class Tap {
 public:
  // The next copy, waiting at most `timeout` for one; empty when none came.
  std::optional<Message> next(std::chrono::nanoseconds timeout);
  // Copies turned away because the buffer was full (or a tap was being
  // attached or detached at that moment).
  std::uint64_t dropped() const noexcept;

  Tap(std::shared_ptr<runtime::TapPoint> point, std::shared_ptr<runtime::TapBuffer> buffer) noexcept;
  ~Tap();
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

 private:
  std::shared_ptr<runtime::TapPoint> point_;
  std::shared_ptr<runtime::TapBuffer> buffer_;
};

}  // namespace weir
