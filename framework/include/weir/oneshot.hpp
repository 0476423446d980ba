#pragma once
// weir::Oneshot<T>: one value, sent once, received once — the reply half of a
// request/reply exchange.
//
//   auto [reply_to, reply] = weir::make_oneshot<Answer>();
//   hand `reply_to` (an OneshotSender) to whoever answers; they call
//   reply_to.send(answer) once.
//   reply.recv() parks until the answer arrives; reply.recv_for(timeout) gives
//   up after a while.
//
// Both sides are move-only handles on one shared state (the only allocation).
// A sender destroyed without sending wakes the receiver with "closed" (recv()
// returns nullopt), so a request whose handler died never hangs its caller. A
// receiver destroyed first makes send() return false. The state is a single
// 32-bit parking word (detail/park.hpp): the sender issues the wake-up only if
// the receiver actually parked.

#include <weir/status.hpp>

#pragma push_macro("WEIR_DETAIL_INCLUDE_OK")
#undef WEIR_DETAIL_INCLUDE_OK
#define WEIR_DETAIL_INCLUDE_OK 1
#include <weir/detail/park.hpp>
#pragma pop_macro("WEIR_DETAIL_INCLUDE_OK")

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace weir {

template <class T>
class OneshotSender;
template <class T>
class OneshotReceiver;

// The two ends, as returned by make_oneshot(); unpack with structured bindings.
template <class T>
struct Oneshot {
  OneshotSender<T> sender;
  OneshotReceiver<T> receiver;
};

namespace detail {

template <class T>
struct OneshotState {
  static_assert(std::is_nothrow_move_constructible_v<T>, "oneshot values must be nothrow move-constructible");

  // Low bits: what happened; parked_bit: the receiver is (about to be) asleep.
  static constexpr std::uint32_t pending = 0;
  static constexpr std::uint32_t sent = 1;
  static constexpr std::uint32_t abandoned = 2;  // the sender went away without sending
  static constexpr std::uint32_t taken = 3;      // the receiver took the value
  static constexpr std::uint32_t outcome_mask = 3;
  static constexpr std::uint32_t parked_bit = 4;

  // Ends the pending state; wakes the receiver if it parked.
  void settle(std::uint32_t outcome) noexcept {
    if (word.exchange(outcome, std::memory_order_acq_rel) & parked_bit) park_wake(word, 1);
  }

  std::atomic<std::uint32_t> word{pending};
  std::atomic<bool> receiver_gone{false};
  std::optional<T> value;  // written by the sender before `sent`, read by the receiver after
};

}  // namespace detail

template <class T>
class OneshotSender {
 public:
  OneshotSender(OneshotSender&&) noexcept = default;
  OneshotSender& operator=(OneshotSender&& other) noexcept {
    if (this != &other) {
      abandon();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~OneshotSender() { abandon(); }

  // Delivers the value. False if already sent, moved from, or the receiver is
  // gone (then the value is dropped).
  bool send(T value) noexcept {
    if (!state_) return false;
    auto state = std::move(state_);
    if (state->receiver_gone.load(std::memory_order_acquire)) return false;
    state->value.emplace(std::move(value));
    state->settle(detail::OneshotState<T>::sent);
    return true;
  }

  // False once sent, abandoned or moved from.
  bool valid() const noexcept { return state_ != nullptr; }
  // The receiver is gone: no point computing the value.
  bool receiver_gone() const noexcept { return !state_ || state_->receiver_gone.load(std::memory_order_acquire); }

 private:
  template <class U>
  friend Oneshot<U> make_oneshot();
  explicit OneshotSender(std::shared_ptr<detail::OneshotState<T>> state) noexcept : state_(std::move(state)) {}

  void abandon() noexcept {
    if (state_) std::exchange(state_, nullptr)->settle(detail::OneshotState<T>::abandoned);
  }

  std::shared_ptr<detail::OneshotState<T>> state_;
};

template <class T>
class OneshotReceiver {
  using State = detail::OneshotState<T>;

 public:
  OneshotReceiver(OneshotReceiver&&) noexcept = default;
  OneshotReceiver& operator=(OneshotReceiver&& other) noexcept {
    if (this != &other) {
      leave();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  ~OneshotReceiver() { leave(); }

  // ok (once) / empty (nothing yet) / closed (sender gone without sending, or
  // the value was already taken).
  RecvResult<T> try_recv() noexcept { return take(); }

  // Parks until the value arrives; nullopt if the sender went away without sending.
  std::optional<T> recv() noexcept { return wait(detail::no_deadline).value; }

  // ok / closed / timeout.
  RecvResult<T> recv_for(std::chrono::nanoseconds timeout) noexcept { return wait(detail::deadline_after(timeout)); }
  template <class DeadlineClock, class Duration>
  RecvResult<T> recv_until(std::chrono::time_point<DeadlineClock, Duration> deadline) noexcept {
    return wait(detail::to_steady(deadline));
  }

 private:
  template <class U>
  friend Oneshot<U> make_oneshot();
  explicit OneshotReceiver(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}

  RecvResult<T> take() noexcept {
    if (!state_) return {RecvStatus::closed, std::nullopt};
    const auto word = state_->word.load(std::memory_order_acquire);
    switch (word & State::outcome_mask) {
      case State::pending: return {RecvStatus::empty, std::nullopt};
      case State::sent: {
        RecvResult<T> result{RecvStatus::ok, std::move(state_->value)};
        state_->value.reset();
        state_->word.store(State::taken, std::memory_order_relaxed);
        return result;
      }
      default: return {RecvStatus::closed, std::nullopt};
    }
  }

  RecvResult<T> wait(detail::SteadyTime deadline) noexcept {
    for (;;) {
      auto result = take();
      if (result.status != RecvStatus::empty) return result;
      // Announce the sleep in the word itself; if the sender settled in
      // between, the CAS fails and we take the value instead of sleeping.
      std::uint32_t expected = State::pending;
      if (!state_->word.compare_exchange_strong(expected, State::pending | State::parked_bit,
                                                std::memory_order_acq_rel) &&
          expected != (State::pending | State::parked_bit))
        continue;
      if (!detail::park_wait(state_->word, State::pending | State::parked_bit, deadline)) {
        result = take();
        return result.status == RecvStatus::empty ? RecvResult<T>{RecvStatus::timeout, std::nullopt} : std::move(result);
      }
    }
  }

  void leave() noexcept {
    if (state_) std::exchange(state_, nullptr)->receiver_gone.store(true, std::memory_order_release);
  }

  std::shared_ptr<State> state_;
};

template <class T>
Oneshot<T> make_oneshot() {
  auto state = std::make_shared<detail::OneshotState<T>>();
  return {OneshotSender<T>(state), OneshotReceiver<T>(std::move(state))};
}

}  // namespace weir
