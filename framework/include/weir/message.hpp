#pragma once
// weir::Message: what flows between stages.

#include <boost/config.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weir {

using Clock = std::chrono::steady_clock;

// String keys to string values. Messages carry a handful of attributes, so a
// flat vector beats a tree or hash map on both lookups and copies.
class Attributes {
 public:
  using value_type = std::pair<std::string, std::string>;
  using const_iterator = std::vector<value_type>::const_iterator;

  Attributes() = default;
  Attributes(std::initializer_list<value_type> init) {
    for (const auto& [key, value] : init) set(key, value);
  }

  const std::string* find(std::string_view key) const noexcept {
    for (const auto& entry : entries_)
      if (entry.first == key) return &entry.second;
    return nullptr;
  }
  bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
  std::string get(std::string_view key, std::string_view fallback = {}) const {
    const std::string* value = find(key);
    return value ? *value : std::string(fallback);
  }
  void set(std::string key, std::string value) {
    for (auto& entry : entries_)
      if (entry.first == key) {
        entry.second = std::move(value);
        return;
      }
    entries_.emplace_back(std::move(key), std::move(value));
  }
  bool erase(std::string_view key) noexcept {
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->first == key) {
        entries_.erase(it);
        return true;
      }
    return false;
  }
  void clear() noexcept { entries_.clear(); }
  // Room for `count` attributes without another allocation.
  void reserve(std::size_t count) { entries_.reserve(count); }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  const_iterator begin() const noexcept { return entries_.begin(); }
  const_iterator end() const noexcept { return entries_.end(); }
  friend bool operator==(const Attributes&, const Attributes&) = default;

 private:
  std::vector<value_type> entries_;
};

// Why a copy of a message did not finish well.
//  - failed: a stage gave up on it (after its retries, with no dead-letter
//    stage); the pipeline decided, so redelivering would fail again;
//  - dropped: a full channel with `when_full: drop_*` discarded it;
//  - abandoned: a forced stop left it unfinished (still queued, or never
//    sent); it was not handled at all and should be delivered again.
enum class AckFailure : std::uint8_t { failed, dropped, abandoned };

inline std::string_view to_string(AckFailure failure) noexcept {
  switch (failure) {
    case AckFailure::failed: return "failed";
    case AckFailure::dropped: return "dropped";
    case AckFailure::abandoned: return "abandoned";
  }
  return "?";
}

// End-to-end acknowledgement: a source that must know when a message is
// finished (a broker, a checkpoint) attaches one to the messages it emits.
// Every copy (fan-out, retries, dead letters, a processor's outputs) shares
// it, so its destructor runs exactly once, when the last copy is gone: every
// sink that got a copy has written it durably (a buffering sink holds the
// `ack` pointer until its flush), or the copy was filtered or routed nowhere.
// Before that, the runtime calls fail() for each copy that did not finish
// well. Messages from sources without acknowledgement carry a null pointer
// and pay nothing.
class BOOST_SYMBOL_VISIBLE Acknowledgement {
 public:
  virtual ~Acknowledgement() = default;
  // Called from any stage's thread, possibly for several copies at once.
  virtual void fail(AckFailure /*why*/, std::string_view /*reason*/) noexcept {}
};

// A base for a source's acknowledgement: it keeps the weightiest failure of
// any copy (abandoned over dropped over failed: the one that most calls for a
// redelivery), which the derived destructor reads with failure().
class BOOST_SYMBOL_VISIBLE TrackedAcknowledgement : public Acknowledgement {
 public:
  void fail(AckFailure why, std::string_view /*reason*/) noexcept override {
    const auto code = static_cast<std::uint8_t>(static_cast<std::uint8_t>(why) + 1);
    std::uint8_t seen = failure_.load(std::memory_order_relaxed);
    while (seen < code && !failure_.compare_exchange_weak(seen, code, std::memory_order_relaxed)) {
    }
  }

 protected:
  // Read from the destructor: the last copy's release of the shared pointer
  // orders every fail() before it, so relaxed is enough.
  std::optional<AckFailure> failure() const noexcept {
    const std::uint8_t code = failure_.load(std::memory_order_relaxed);
    if (code == 0) return std::nullopt;
    return static_cast<AckFailure>(code - 1);
  }

 private:
  std::atomic<std::uint8_t> failure_{0};
};

struct Message {
  std::string payload;
  Attributes attributes;
  std::int64_t priority = 0;
  std::uint64_t id = 0;          // unique within a run, set by the runtime
  Clock::time_point entered{};   // when the message entered the pipeline
  std::shared_ptr<Acknowledgement> ack;  // null unless the source acknowledges

  Message() = default;
  explicit Message(std::string body) : payload(std::move(body)) {}
};

}  // namespace weir
