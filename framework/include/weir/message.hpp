#pragma once
// weir::Message: what flows between stages.

#include <boost/config.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
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
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  const_iterator begin() const noexcept { return entries_.begin(); }
  const_iterator end() const noexcept { return entries_.end(); }
  friend bool operator==(const Attributes&, const Attributes&) = default;

 private:
  std::vector<value_type> entries_;
};

// Fires once every copy of a message (after fan-out) is finished with: the
// hook for at-least-once delivery from brokers. Messages that come from
// sources without acknowledgement carry a null pointer and pay nothing.
class BOOST_SYMBOL_VISIBLE Acknowledgement {
 public:
  virtual ~Acknowledgement() = default;
  // Called by the runtime when one copy failed permanently; the broker source
  // decides whether to redeliver. Default: nothing.
  virtual void fail(std::string_view /*reason*/) noexcept {}
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
