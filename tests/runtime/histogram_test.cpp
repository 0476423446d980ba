// The runtime's latency histogram: each duration is counted under the first
// Prometheus bound at or above it (docs/reference: `le`), whether the bound is
// found by the per-bucket table or by the search.

#include "runtime/histogram.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

using weir::DurationHistogram;
using weir::runtime::Histogram;

namespace {

// The first bound at or above `ns`, by a plain scan over the bounds in
// seconds: how `le` reads, with no table and no search.
std::size_t expected_bound(std::uint64_t ns) {
  std::size_t i = 0;
  while (i < DurationHistogram::bounds_s.size() &&
         static_cast<std::uint64_t>(DurationHistogram::bounds_s[i] * 1e9 + 0.5) < ns)
    ++i;
  return i;
}

std::size_t recorded_bound(std::uint64_t ns) {
  Histogram histogram;
  histogram.record(ns);
  Histogram::Totals totals;
  histogram.add_to(totals);
  std::size_t found = totals.at_bounds.size();
  for (std::size_t i = 0; i < totals.at_bounds.size(); ++i)
    if (totals.at_bounds[i] == 1) found = i;
  return found;
}

}  // namespace

TEST_CASE("a duration is counted under the first bound at or above it", "[runtime][histogram]") {
  std::vector<std::uint64_t> durations;
  for (std::uint64_t ns = 0; ns <= 3000; ++ns) durations.push_back(ns);
  for (double bound : DurationHistogram::bounds_s) {
    const auto ns = static_cast<std::uint64_t>(bound * 1e9 + 0.5);
    for (std::uint64_t d = ns - 3; d <= ns + 3; ++d) durations.push_back(d);
  }
  for (int bit = 0; bit < 64; ++bit) {
    const std::uint64_t power = std::uint64_t{1} << bit;
    durations.push_back(power);
    durations.push_back(power - 1);
    durations.push_back(power + 1);
  }
  durations.push_back(~std::uint64_t{0});
  for (std::uint64_t ns : durations) {
    INFO("duration " << ns << " ns");
    CHECK(recorded_bound(ns) == expected_bound(ns));
  }
}

TEST_CASE("a percentile is the midpoint of the fine bucket that holds it", "[runtime][histogram]") {
  const auto p50_us = [](std::uint64_t ns) {
    Histogram histogram;
    for (int i = 0; i < 3; ++i) histogram.record(ns);
    Histogram::Totals totals;
    histogram.add_to(totals);
    return Histogram::percentiles(totals).p50_us;
  };
  CHECK(p50_us(5) == Approx(0.005));    // below 8 ns a bucket is one nanosecond: itself
  CHECK(p50_us(1000) == Approx(0.992)); // 960..1023 ns (8 buckets per power of two): its middle
  CHECK(p50_us(960) == Approx(0.992));
  CHECK(p50_us(1024) == Approx(1.088)); // 1024..1151 ns
}
