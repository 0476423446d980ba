#pragma once
// A stage's on_error policy: a plugin hook that throws a retryable
// StageError is tried again, up to `retries` times, after an exponential,
// capped, jittered backoff; then the message is dead-lettered or counted as
// failed (Sender::dead_letter_or_fail). A forced stop ends the retrying.

#include "exception_text.hpp"
#include "routing.hpp"

#include <weir/plugin.hpp>

#include <optional>
#include <string>

namespace weir::runtime {

struct AttemptError {
  std::string message;
  bool retryable = false;
};

// Runs `work`; what it throws, as an error and whether it may be retried.
template <class F>
std::optional<AttemptError> attempt(F&& work) {
  try {
    work();
    return std::nullopt;
  } catch (const StageError& e) {
    return AttemptError{e.what(), e.retryable()};
  } catch (...) {
    return AttemptError{current_exception_text(), false};
  }
}

class RetryPolicy {
 public:
  RetryPolicy(RunState& run, StageRuntime& stage, Replica& replica, Sender& sender)
      : run_(run), policy_(stage.spec->on_error), replica_(replica), sender_(sender) {}

  // Runs `work` on `message` under the policy; true on success. On failure
  // the message has been dead-lettered or counted as failed.
  template <class Work>
  bool run(Message& message, Work&& work) {
    for (unsigned attempts = 1;; ++attempts) {
      auto error = attempt([&] { work(message); });
      if (!error) return true;
      if (error->retryable && attempts <= policy_.retries && !run_.stop_forced.load(std::memory_order_relaxed)) {
        replica_.retried.add();
        back_off(attempts);
        if (!run_.stop_forced.load(std::memory_order_relaxed)) continue;
      }
      sender_.dead_letter_or_fail(std::move(message), error->message, attempts);
      return false;
    }
  }

 private:
  // Waits before attempt `attempts` + 1 (retry_policy.cpp); a forced stop cuts it short.
  void back_off(unsigned attempts);

  RunState& run_;
  const ErrorPolicy& policy_;
  Replica& replica_;
  Sender& sender_;
};

}  // namespace weir::runtime
