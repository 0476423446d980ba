#pragma once
// An acknowledgement that also keeps why a copy failed, for a source that
// passes the reason on (an HTTP answer's body, a dead letter's `error`
// header). The first reason given is kept: it names the failure that set the
// message's fate; later copies failing for the same cause add nothing.

#include <weir/message.hpp>

#include <mutex>
#include <string>
#include <string_view>

namespace weir::weir_std {

class AcknowledgementWithReason : public TrackedAcknowledgement {
 public:
  void fail(AckFailure why, std::string_view reason) noexcept override {
    TrackedAcknowledgement::fail(why, reason);
    std::lock_guard lock(reason_mutex_);
    if (reason_.empty()) reason_ = std::string(reason);
  }

 protected:
  // The first reason a copy failed with; empty when none failed.
  std::string reason() const {
    std::lock_guard lock(reason_mutex_);
    return reason_;
  }

 private:
  mutable std::mutex reason_mutex_;
  std::string reason_;
};

}  // namespace weir::weir_std
