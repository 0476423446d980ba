#pragma once
// How each enum of the pipeline vocabulary is written in YAML, declared once:
// the loader reads the spellings from these tables (and lists them, in this
// order, when a value is wrong), and to_string(), which the reporter, `weir
// graph`, `weir plugins` and the plugin pages print with, looks them up here.

#include <weir/spec.hpp>

#include <span>
#include <string_view>

namespace weir::config {

template <class Enum>
struct Spelling {
  std::string_view text;
  Enum value;
};

inline constexpr Spelling<Kind> kind_spellings[] = {
    {"source", Kind::source}, {"processor", Kind::processor}, {"sink", Kind::sink}};
inline constexpr Spelling<WhenFull> when_full_spellings[] = {
    {"block", WhenFull::block}, {"drop_newest", WhenFull::drop_newest}, {"drop_oldest", WhenFull::drop_oldest}};
inline constexpr Spelling<LanePolicy> lane_policy_spellings[] = {
    {"strict", LanePolicy::strict}, {"weighted", LanePolicy::weighted}};

// The table of `Enum`, so code generic over the enum finds it by type.
template <class Enum>
constexpr std::span<const Spelling<Enum>> spellings() noexcept;
template <>
constexpr std::span<const Spelling<Kind>> spellings<Kind>() noexcept { return kind_spellings; }
template <>
constexpr std::span<const Spelling<WhenFull>> spellings<WhenFull>() noexcept { return when_full_spellings; }
template <>
constexpr std::span<const Spelling<LanePolicy>> spellings<LanePolicy>() noexcept { return lane_policy_spellings; }

// "?" for a value outside the enum (a cast from a bad integer).
template <class Enum>
constexpr std::string_view spelling_of(Enum value) noexcept {
  for (const Spelling<Enum>& spelling : spellings<Enum>())
    if (spelling.value == value) return spelling.text;
  return "?";
}

}  // namespace weir::config
