#pragma once
// Where a stage's replicas hand copies to the taps attached to it (see
// weir/tap.hpp for the promises). One per stage, shared with its Taps, so a
// Tap may outlive the pipeline.

#include <weir/channel.hpp>
#include <weir/condition.hpp>
#include <weir/message.hpp>

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <vector>

namespace weir::runtime {

struct TapBuffer {
  TapBuffer(Condition condition, std::size_t capacity) : when(std::move(condition)), copies(capacity) {}
  Condition when;
  Channel<Message> copies;  // lock-free and bounded: a full one refuses at once
  std::atomic<std::uint64_t> dropped{0};
  std::uint64_t missed_at_attach = 0;  // the point's `missed` when this tap attached
};

class TapPoint {
 public:
  // The data path's only cost while nobody taps: one relaxed load.
  bool tapped() const noexcept { return taps_.load(std::memory_order_relaxed) != 0; }

  // Copies `message` to every tap whose condition it matches. Never waits:
  // replicas share the list without contention (a shared lock, tried), and
  // a full buffer or an attach in progress costs a counted drop.
  void offer(const Message& message) noexcept {
    std::shared_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      missed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    for (const auto& tap : list_) {
      if (!tap->when.matches(message)) continue;
      try {
        Message copy;  // without its acknowledgement: a copy must not hold the books open
        copy.payload = message.payload;
        copy.attributes = message.attributes;
        copy.priority = message.priority;
        copy.id = message.id;
        copy.entered = message.entered;
        if (tap->copies.try_send(std::move(copy)) == SendStatus::ok) continue;
      } catch (...) {  // out of memory for the copy: a drop like any other
      }
      tap->dropped.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void attach(std::shared_ptr<TapBuffer> tap) {
    std::unique_lock lock(mutex_);
    tap->missed_at_attach = missed_.load(std::memory_order_relaxed);
    list_.push_back(std::move(tap));
    taps_.store(static_cast<unsigned>(list_.size()), std::memory_order_relaxed);
  }

  void detach(const TapBuffer* tap) {
    std::unique_lock lock(mutex_);
    std::erase_if(list_, [tap](const auto& t) { return t.get() == tap; });
    taps_.store(static_cast<unsigned>(list_.size()), std::memory_order_relaxed);
  }

  std::uint64_t missed() const noexcept { return missed_.load(std::memory_order_relaxed); }

 private:
  std::atomic<unsigned> taps_{0};
  std::shared_mutex mutex_;  // the list: shared by replicas offering, exclusive to attach and detach
  std::vector<std::shared_ptr<TapBuffer>> list_;
  std::atomic<std::uint64_t> missed_{0};
};

}  // namespace weir::runtime
