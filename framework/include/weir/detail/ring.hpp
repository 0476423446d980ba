#pragma once
#include <weir/detail/internal.hpp>  // stops a direct include from outside weir
// Internal to weir: included by weir's public headers, never by users (see
// docs/architecture.md, "Public headers and internals").
// The lock-free data path shared by Channel and Lanes: a bounded MPMC ring
// after Dmitry Vyukov's "Bounded MPMC queue" (1024cores.net), with a sequence
// number per slot (a slot is one cell of the ring), plus a "closed" bit folded
// into the tail.
//
// Positions: senders claim positions at the tail (`tail_`), receivers at the
// head (`head_`); position p lives in slot p mod capacity.
//
// Sequence numbers: the slot of position p is free for p when seq == 2p,
// holds p's item when seq == 2p + 1, and after the pop it is free for the next
// lap, p + capacity: seq == 2(p + capacity). Doubling keeps "published" and
// "free for the next lap" distinct even for capacity 1 (Vyukov's plain p / p+1
// encoding needs a capacity of at least 2).
//
// Closing: close() sets the top bit of the tail with fetch_or. A sender claims
// a position only by CAS on the tail, so once the bit is set no claim can
// succeed, and a sender that loses the race returns "closed" without having
// touched its value. Every position claimed before the bit was set is below
// the final tail and will be published; receivers report "closed" only when
// the head has reached that final tail, so they drain every item whose sender
// won the race — including one still being written — and lose none.
//
// The tail stays in the senders' cache: a receiver that finds the ring empty
// does not read it (each such read would pull the line away from the sender,
// whose next CAS then waits for it — in a one-to-one channel whose receiver
// keeps up, that was most of the cost of a send). It reads the `closed_` flag
// instead, which close() sets after the bit, and looks at the tail only once
// that flag says the ring is closed.
//
// Parking (what a sender does on a full ring and a receiver on an empty one)
// is not the ring's business: see detail/wait_queue.hpp, and detail/lane.hpp
// for how Channel and Lanes put the two together.

#include <weir/detail/cache_line.hpp>
#include <weir/status.hpp>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace weir::detail {

// What a batch operation did: how many items it moved, and ok (some moved) /
// full or empty / closed. Pushes report a SendStatus, pops a RecvStatus; the
// ring never reports `timeout` (it does not wait).
template <class Status>
struct BatchResult {
  std::size_t count;
  Status status;
};

template <class T>
class Ring {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "channel items must be nothrow move-constructible: the lock-free hot path cannot undo a half-done move");
  static_assert(std::is_nothrow_destructible_v<T>, "channel items must be nothrow destructible");

 public:
  explicit Ring(std::size_t capacity)
      : capacity_(checked(capacity)),
        index_mask_(std::has_single_bit(capacity) ? capacity - 1 : 0),
        slots_(capacity) {
    // The layout the member comments promise, checked here where the class is
    // complete: alignas gives it, these catch a member added in the wrong place.
    static_assert(std::is_standard_layout_v<Ring>, "offsetof needs a standard-layout ring");
    static_assert(alignof(Slot) >= cache_line, "slots do not share cache lines");
    static_assert(offsetof(Ring, closed_) / cache_line == offsetof(Ring, capacity_) / cache_line,
                  "closed_ shares the read-only fields' line");
    static_assert(offsetof(Ring, tail_) % cache_line == 0 && offsetof(Ring, tail_) > offsetof(Ring, closed_),
                  "tail_ (the senders') starts a line of its own");
    static_assert(offsetof(Ring, head_) == offsetof(Ring, tail_) + cache_line, "head_ (the receivers') takes the next line");
    // alignof(Ring) is the line, so sizeof(Ring) is a whole number of lines
    // and whatever follows a Ring starts on a new one: head_'s line is its own.
    static_assert(alignof(Ring) == cache_line && sizeof(Ring) == offsetof(Ring, head_) + cache_line,
                  "nothing after head_ shares its line");
    for (std::size_t i = 0; i < capacity; ++i) slots_[i].seq.store(2 * std::uint64_t{i}, std::memory_order_relaxed);
  }

  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  ~Ring() {
    // No thread uses the ring any more, so every claimed position is published.
    const auto tail = tail_.load(std::memory_order_acquire) & ~closed_bit;
    for (auto pos = head_.load(std::memory_order_acquire); pos != tail; ++pos) item(slot(pos))->~T();
  }

  std::size_t capacity() const noexcept { return capacity_; }

  // ok / full / closed; moves from `value` only on ok.
  SendStatus try_push(T& value) noexcept { return try_push_batch(&value, 1).status; }

  // ok / full / closed: constructs the item from make() in its slot, and calls
  // make() only when there is room (so on full or closed nothing it would
  // have moved from is touched). make() must not throw: the slot is claimed.
  template <class Make>
  SendStatus try_emplace(Make&& make) noexcept {
    static_assert(std::is_nothrow_invocable_r_v<T, Make&>, "the slot is claimed before make() runs: it must not throw");
    return try_claim(1, [&make](std::size_t, void* storage) noexcept { ::new (storage) T(make()); }).status;
  }

  // Moves the longest prefix of items[0..count) that fits now, in order, with
  // one CAS. Returns how many were moved and ok / full / closed (ok if any).
  BatchResult<SendStatus> try_push_batch(T* items, std::size_t count) noexcept {
    return try_claim(count, [items](std::size_t i, void* storage) noexcept { ::new (storage) T(std::move(items[i])); });
  }

  // Pops up to `max` items in order with one CAS, handing each to
  // `sink(T&&) noexcept`. Returns how many and ok / empty / closed.
  template <class Sink>
  BatchResult<RecvStatus> try_pop_batch(std::size_t max, Sink&& sink) noexcept {
    static_assert(std::is_nothrow_invocable_v<Sink&, T&&>, "the sink runs after the slots are claimed and must not throw");
    if (max == 0) return {0, RecvStatus::ok};
    auto pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      const auto lag = static_cast<std::int64_t>(slot(pos).seq.load(std::memory_order_acquire) - (2 * pos + 1));
      if (lag < 0) {
        // Nothing published at pos. Closed and drained only if no sender ever
        // claimed pos; a claimed but unpublished item is still coming. Until
        // the flag is set, receivers keep off the senders' position.
        if (closed_.load(std::memory_order_acquire)) {
          const auto tail = tail_.load(std::memory_order_acquire);
          if ((tail & ~closed_bit) == pos) return {0, RecvStatus::closed};
        }
        const auto now = head_.load(std::memory_order_relaxed);
        if (now == pos) return {0, RecvStatus::empty};
        pos = now;
        continue;
      }
      if (lag > 0) {  // another receiver took pos; catch up
        pos = head_.load(std::memory_order_relaxed);
        continue;
      }
      std::size_t n = 1;
      while (n < max && n < capacity_ &&
             slot(pos + n).seq.load(std::memory_order_acquire) == 2 * (pos + n) + 1)
        ++n;
      // seq_cst: as for the senders' claim, against a parking sender.
      if (head_.compare_exchange_weak(pos, pos + n, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < n; ++i) {
          Slot& s = slot(pos + i);
          T* value = item(s);
          sink(std::move(*value));
          value->~T();
          s.seq.store(2 * (pos + i + capacity_), std::memory_order_release);
        }
        return {n, RecvStatus::ok};
      }
    }
  }

  // Returns true if this call closed the ring.
  bool close() noexcept {
    const bool first = !(tail_.fetch_or(closed_bit, std::memory_order_seq_cst) & closed_bit);
    // Every caller stores the flag, so none returns (and goes on to wake the
    // parked receivers) before the flag is visible to their re-check.
    closed_.store(true, std::memory_order_release);
    return first;
  }
  // Asked by a receiver about to park, after it queued itself and found
  // nothing: true only if the ring is open and no sender has claimed a
  // position it has not finished with (a claimed item is about to be
  // published, and its sender may have read the waiter count before this
  // receiver was counted). Both loads are seq_cst: see detail/wait_queue.hpp.
  bool receiver_may_park() const noexcept {
    return tail_.load(std::memory_order_seq_cst) == head_.load(std::memory_order_seq_cst);
  }
  // Asked by a sender about to park on a full ring: true only if the ring is
  // open and no receiver has claimed the item whose slot the sender waits
  // for (that slot is about to be freed).
  bool sender_may_park() const noexcept {
    const auto tail = tail_.load(std::memory_order_seq_cst);
    if (tail & closed_bit) return false;
    return head_.load(std::memory_order_seq_cst) + capacity_ <= tail;
  }

  bool is_closed() const noexcept { return tail_.load(std::memory_order_acquire) & closed_bit; }

  // Closed, and every item sent before the close has been taken. Reads the
  // flag first, as receivers do, so it never says drained while try_pop_batch
  // still says empty; while the ring is open it touches only read-only lines.
  bool is_drained() const noexcept {
    if (!closed_.load(std::memory_order_acquire)) return false;
    return (tail_.load(std::memory_order_acquire) & ~closed_bit) == head_.load(std::memory_order_acquire);
  }

  std::size_t size() const noexcept {
    const auto head = head_.load(std::memory_order_relaxed);
    const auto tail = tail_.load(std::memory_order_relaxed) & ~closed_bit;
    // Read in this order the two may cross under concurrency; clamp.
    if (tail <= head) return 0;
    return tail - head < capacity_ ? static_cast<std::size_t>(tail - head) : capacity_;
  }

 private:
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;

  // One slot per cache line: neighbouring slots are written by different
  // threads at the same time (the sender of p+1 while the receiver of p reads).
  struct alignas(cache_line) Slot {
    std::atomic<std::uint64_t> seq;
    alignas(T) unsigned char storage[sizeof(T)];
  };
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the ring needs lock-free 64-bit atomics");

  // Claims the longest run of up to `count` free slots with one CAS and
  // has construct(i, storage) build the i-th item of the run in each.
  template <class Construct>
  BatchResult<SendStatus> try_claim(std::size_t count, Construct&& construct) noexcept {
    if (count == 0) return {0, SendStatus::ok};
    auto pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      if (pos & closed_bit) return {0, SendStatus::closed};
      const auto lag = static_cast<std::int64_t>(slot(pos).seq.load(std::memory_order_acquire) - 2 * pos);
      if (lag < 0) {
        // The slot still holds the item from one lap ago: full, unless the
        // tail moved (or closed) since we read it.
        const auto now = tail_.load(std::memory_order_relaxed);
        if (now == pos) return {0, SendStatus::full};
        pos = now;
        continue;
      }
      if (lag > 0) {  // another sender claimed pos; catch up
        pos = tail_.load(std::memory_order_relaxed);
        continue;
      }
      // Positions pos.. are claimed together, so each must be free for its lap
      // now; a CAS that succeeds proves nobody claimed any of them meanwhile.
      std::size_t n = 1;
      while (n < count && n < capacity_ &&
             slot(pos + n).seq.load(std::memory_order_acquire) == 2 * (pos + n))
        ++n;
      // seq_cst: the claim is what a parking receiver's may_park() must see
      // or be seen by (detail/wait_queue.hpp).
      if (tail_.compare_exchange_weak(pos, pos + n, std::memory_order_seq_cst, std::memory_order_relaxed)) {
        for (std::size_t i = 0; i < n; ++i) {
          Slot& s = slot(pos + i);
          construct(i, static_cast<void*>(s.storage));
          s.seq.store(2 * (pos + i) + 1, std::memory_order_release);
        }
        return {n, SendStatus::ok};
      }
    }
  }

  static std::size_t checked(std::size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("weir: a channel's capacity must be at least 1");
    if (capacity > (std::size_t{1} << 40))
      throw std::invalid_argument("weir: a channel's capacity must be at most 2^40 slots");
    return capacity;
  }

  // Owns the slots, value-initialised. Not std::unique_ptr<Slot[]>: with
  // clang, libstdc++'s unique_ptr (a tuple inside) is not standard-layout,
  // and the layout checks in the constructor need offsetof on the ring.
  struct Slots {
    explicit Slots(std::size_t count) : data(new Slot[count]()) {}
    Slots(const Slots&) = delete;
    Slots& operator=(const Slots&) = delete;
    ~Slots() { delete[] data; }
    Slot& operator[](std::size_t i) const noexcept { return data[i]; }
    Slot* const data;
  };

  Slot& slot(std::uint64_t pos) const noexcept {
    return slots_[index_mask_ ? (pos & index_mask_) : static_cast<std::size_t>(pos % capacity_)];
  }
  static T* item(Slot& s) noexcept { return std::launder(reinterpret_cast<T*>(s.storage)); }

  // Read-only after construction; shared by every thread without contention.
  const std::size_t capacity_;
  const std::size_t index_mask_;  // capacity - 1 for powers of two (capacity 1: 0, which % handles), else 0
  const Slots slots_;
  // Read by receivers that find the ring empty, set by close(): it shares the
  // line of the read-only fields, which no hot path writes.
  std::atomic<bool> closed_{false};
  // Senders hammer tail_, receivers head_: separate lines, and apart from the
  // read-only fields above.
  alignas(cache_line) std::atomic<std::uint64_t> tail_{0};
  alignas(cache_line) std::atomic<std::uint64_t> head_{0};
};

}  // namespace weir::detail
