#pragma once
// The queues weir's channel is measured against, behind one blocking
// push/pop interface. Queues without a blocking API wait the way their users
// would: atomic_queue spins by design; boost::lockfree has no wait, so it
// retries with a yield between attempts.

#include <weir/channel.hpp>

#include <atomic_queue/atomic_queue.h>
#include <boost/lockfree/queue.hpp>
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <oneapi/tbb/concurrent_queue.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace weir::bench {

using Item = std::uint64_t;  // 8-byte items, as the issue asks

class WeirChannel {
 public:
  static constexpr const char* name = "weir::Channel";
  explicit WeirChannel(std::size_t capacity) : channel_(capacity) {}
  void push(Item item) { channel_.send(std::move(item)); }
  Item pop() { return *channel_.recv(); }

 private:
  Channel<Item> channel_;
};

class TbbBoundedQueue {
 public:
  static constexpr const char* name = "oneTBB bounded";
  explicit TbbBoundedQueue(std::size_t capacity) { queue_.set_capacity(static_cast<std::ptrdiff_t>(capacity)); }
  void push(Item item) { queue_.push(item); }
  Item pop() {
    Item item{};
    queue_.pop(item);
    return item;
  }

 private:
  tbb::concurrent_bounded_queue<Item> queue_;
};

// The textbook blocking queue: a ring under one mutex, one condition variable
// per direction.
class MutexRing {
 public:
  static constexpr const char* name = "mutex ring";
  explicit MutexRing(std::size_t capacity) : slots_(capacity) {}
  void push(Item item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return count_ < slots_.size(); });
    slots_[(head_ + count_++) % slots_.size()] = item;
    lock.unlock();
    not_empty_.notify_one();
  }
  Item pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return count_ > 0; });
    const Item item = slots_[head_];
    head_ = (head_ + 1) % slots_.size();
    --count_;
    lock.unlock();
    not_full_.notify_one();
    return item;
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::vector<Item> slots_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
};

class AtomicQueue {
 public:
  static constexpr const char* name = "atomic_queue B2 (spins)";
  explicit AtomicQueue(std::size_t capacity) : queue_(static_cast<unsigned>(capacity)) {}
  void push(Item item) { queue_.push(item); }
  Item pop() { return queue_.pop(); }

 private:
  atomic_queue::AtomicQueueB2<Item> queue_;
};

class MoodycamelQueue {
 public:
  static constexpr const char* name = "moodycamel (unbounded)";
  explicit MoodycamelQueue(std::size_t capacity) : queue_(capacity) {}
  void push(Item item) { queue_.enqueue(item); }
  Item pop() {
    Item item{};
    queue_.wait_dequeue(item);
    return item;
  }
  // moodycamel keeps one sub-queue per producer and does not order items of
  // different producers, so a stop marker sent after the last item could
  // overtake it: the benchmark sends markers only once every item is counted.
  static constexpr bool orders_across_producers = false;

 private:
  moodycamel::BlockingConcurrentQueue<Item> queue_;
};

class BoostLockfreeQueue {
 public:
  static constexpr const char* name = "boost::lockfree (yields)";
  explicit BoostLockfreeQueue(std::size_t capacity) : queue_(capacity) {}
  void push(Item item) {
    while (!queue_.push(item)) std::this_thread::yield();
  }
  Item pop() {
    Item item{};
    while (!queue_.pop(item)) std::this_thread::yield();
    return item;
  }

 private:
  boost::lockfree::queue<Item, boost::lockfree::fixed_sized<true>> queue_;
};

}  // namespace weir::bench
