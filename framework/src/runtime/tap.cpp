#include "tap_point.hpp"

#include <weir/tap.hpp>

namespace weir {

Tap::Tap(std::shared_ptr<runtime::TapPoint> point, std::shared_ptr<runtime::TapBuffer> buffer) noexcept
    : point_(std::move(point)), buffer_(std::move(buffer)) {}

Tap::~Tap() {
  if (point_) point_->detach(buffer_.get());
}

std::optional<Message> Tap::next(std::chrono::nanoseconds timeout) {
  auto result = buffer_->copies.recv_for(timeout);
  if (result.status != RecvStatus::ok) return std::nullopt;
  return std::move(result.value);
}

std::uint64_t Tap::dropped() const noexcept {
  return buffer_->dropped.load(std::memory_order_relaxed) + (point_->missed() - buffer_->missed_at_attach);
}

}  // namespace weir
