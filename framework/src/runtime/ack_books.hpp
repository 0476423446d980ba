#pragma once
// The books of one source's acknowledgements: how many messages it attached
// one to, and how many of those have settled, well or not.
//
// The runtime wraps a source's acknowledgement in a CountedAck when the
// message enters the pipeline (only then: messages without one pay nothing).
// The wrapper forwards every failure, and when the last copy lets go it lets
// the source's own acknowledgement settle first, then counts it; so once
// `pending()` is zero, the source has seen every settlement.

#include <weir/message.hpp>

#include <atomic>
#include <cstdint>
#include <memory>

namespace weir::runtime {

struct AckBooks {
  std::atomic<std::uint64_t> attached{0};  // only the source's replicas add (RMW: several replicas)
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> nacked{0};

  // Settled counts are read before `attached`, so a concurrent reader never
  // sees more settled than attached.
  std::uint64_t pending() const noexcept {
    const std::uint64_t settled = acked.load(std::memory_order_acquire) + nacked.load(std::memory_order_acquire);
    const std::uint64_t total = attached.load(std::memory_order_acquire);
    return total > settled ? total - settled : 0;
  }
};

class CountedAck final : public Acknowledgement {
 public:
  CountedAck(std::shared_ptr<Acknowledgement> inner, std::shared_ptr<AckBooks> books) noexcept
      : inner_(std::move(inner)), books_(std::move(books)) {
    books_->attached.fetch_add(1, std::memory_order_acq_rel);
  }
  ~CountedAck() override {
    inner_.reset();  // the source settles first
    (failed_.load(std::memory_order_relaxed) ? books_->nacked : books_->acked).fetch_add(1, std::memory_order_acq_rel);
  }
  CountedAck(const CountedAck&) = delete;
  CountedAck& operator=(const CountedAck&) = delete;

  void fail(AckFailure why, std::string_view reason) noexcept override {
    failed_.store(true, std::memory_order_relaxed);
    inner_->fail(why, reason);
  }

 private:
  std::shared_ptr<Acknowledgement> inner_;
  // The books outlive the pipeline if a plugin keeps a message past its end.
  std::shared_ptr<AckBooks> books_;
  std::atomic<bool> failed_{false};
};

// Why a copy that a forced stop left unhandled failed.
inline constexpr std::string_view abandoned_reason = "abandoned: the pipeline was forced to stop";

// A copy that will not finish well: tell the source, if it listens.
inline void fail_copy(const Message& message, AckFailure why, std::string_view reason) noexcept {
  if (message.ack) message.ack->fail(why, reason);
}

}  // namespace weir::runtime
