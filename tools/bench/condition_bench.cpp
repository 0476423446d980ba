// Times Condition::matches on the hostile inputs of docs/performance.md
// ("Hostile input"): a pattern that backtracking engines take exponential or
// stack-deep time on, against a long line and a near-miss. Prints, per case,
// the median and the maximum of 7 calls (the first call builds RE2's DFA).
//   build/release/bin/condition_bench

#include <weir/condition.hpp>
#include <weir/message.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

void time_case(const char* name, const char* expression, std::string payload) {
  const auto condition = weir::Condition::parse(expression);
  const weir::Message message{std::move(payload)};
  std::vector<double> us;
  bool matched = false;
  for (int i = 0; i < 7; ++i) {
    const auto began = std::chrono::steady_clock::now();
    matched = condition.matches(message);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - began).count());
  }
  const double max = *std::max_element(us.begin(), us.end());
  std::nth_element(us.begin(), us.begin() + 3, us.end());
  std::printf("%-44s matched=%d  median %.1f us  max %.1f us\n", name, matched ? 1 : 0, us[3], max);
}

}  // namespace

int main() {
  std::string long_line;
  for (int i = 0; i < 400'000; ++i) long_line += i % 2 ? 'a' : 'b';
  time_case("payload matches \"(a|b)*c\", 400 KB line", "payload matches \"(a|b)*c\"", long_line);
  time_case("payload matches \"^(a+)+$\", 34 x 'a' + '!'", "payload matches \"^(a+)+$\"", std::string(34, 'a') + "!");
  return 0;
}
