#include "routing.hpp"

#include <spdlog/spdlog.h>

namespace weir::runtime {

void Sender::dead_letter_or_fail(Message&& message, const std::string& error, unsigned attempts) {
  if (stage_.dead_letter.target) {
    message.attributes.set("stage", stage_.spec->name);
    message.attributes.set("error", error);
    message.attributes.set("attempts", std::to_string(attempts));
    replica_.dead_lettered.add();
    send(stage_.dead_letter, std::move(message), Clock::now());
    return;
  }
  replica_.failed.add();
  fail_copy(message, AckFailure::failed, error);
  // Rate-limited: a failure drill must not flood the log.
  const auto n = ++replica_.failures_logged;
  if (n <= 5 || n % 1000 == 0)
    replica_.logger->warn("message {} failed after {} attempt(s): {}{}", message.id, attempts, error,
                          n == 5 ? " (further failures are logged every 1000th)" : "");
}

}  // namespace weir::runtime
