#pragma once
// What a sink that sends a whole batch at once (kafka, nats) says when some
// of its messages failed: the runtime then writes the batch again one
// message at a time, and the message names how many failed and the first
// reason, in the same words for every such sink.

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace weir::weir_std {

// `doing`: what failed ("producing to Kafka"); `first`: the first failed
// message's reason.
inline std::string batch_failure_text(std::string_view doing, std::size_t failed, std::size_t batch_size,
                                      std::string_view first) {
  if (batch_size == 1) return fmt::format("{} failed: {}", doing, first);
  return fmt::format("{} failed for {} of {} messages: {}", doing, failed, batch_size, first);
}

}  // namespace weir::weir_std
