#pragma once
// State shared by the replicas of one stage (a throttle's bucket, a dedupe
// window, an output file): replicas are separate instances, but the limit or
// window a user configures is per stage. Entries die with their last user.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace weir::weir_std {

template <class State>
std::shared_ptr<State> shared_by_key(const std::string& key, const std::function<std::shared_ptr<State>()>& make) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<State>> states;
  std::lock_guard lock(mutex);
  for (auto it = states.begin(); it != states.end();) it = it->second.expired() ? states.erase(it) : std::next(it);
  if (auto existing = states[key].lock()) return existing;
  auto created = make();
  states[key] = created;
  return created;
}

}  // namespace weir::weir_std
