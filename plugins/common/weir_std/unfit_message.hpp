#pragma once
// What a parsing or matching processor (json, syslog, regex) does with a
// message it cannot take, as its `on_invalid` or `on_mismatch` option says:
// one rule, one set of spellings, for all of them.

#include <weir/plugin.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace weir::weir_std {

enum class UnfitMessage { fail, filter, pass };

// The option's choices: its default first, then the others in the order
// fail, filter, pass (so the listing leads with what happens unless told).
inline std::vector<std::pair<std::string_view, UnfitMessage>> unfit_message_choices(UnfitMessage first) {
  std::vector<std::pair<std::string_view, UnfitMessage>> choices{
      {"fail", UnfitMessage::fail}, {"filter", UnfitMessage::filter}, {"pass", UnfitMessage::pass}};
  std::stable_partition(choices.begin(), choices.end(), [first](const auto& choice) { return choice.second == first; });
  return choices;
}

// True when the message goes on unchanged (`pass`), false when it is dropped
// as filtered; `fail` throws a PermanentError with why(), which the dead
// letter records. why() is called only then, so filtering and passing cost no
// message text.
template <class Why>
bool keep_unfit(UnfitMessage policy, Why&& why) {
  switch (policy) {
    case UnfitMessage::pass: return true;
    case UnfitMessage::filter: return false;
    case UnfitMessage::fail: break;
  }
  throw PermanentError(std::string(why()));
}

}  // namespace weir::weir_std
