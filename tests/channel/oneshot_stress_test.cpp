// Oneshots across threads: a send, an abandonment or a timeout racing with the
// receiver always ends in exactly one consistent outcome.

#include "stress.hpp"

#include <weir/oneshot.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using weir::OneshotReceiver;
using weir::OneshotSender;
using weir::RecvStatus;
using namespace weir::test;
using namespace std::chrono_literals;

TEST_CASE("oneshot request/reply across threads", "[channel][oneshot][stress]") {
  const int pairs = static_cast<int>(3000 / stress_scale);
  std::vector<OneshotSender<int>> senders;
  std::vector<OneshotReceiver<int>> receivers;
  for (int i = 0; i < pairs; ++i) {
    auto [sender, receiver] = weir::make_oneshot<int>();
    senders.push_back(std::move(sender));
    receivers.push_back(std::move(receiver));
  }
  // Replier 0 answers the even requests; replier 1 abandons the odd ones.
  std::atomic<int> refused{0};
  std::vector<std::thread> repliers;
  for (int r = 0; r < 2; ++r)
    repliers.emplace_back([&, r] {
      for (int i = r; i < pairs; i += 2) {
        if (i % 2 == 0) refused += !senders[static_cast<std::size_t>(i)].send(int{i});
        else auto abandoned_here = std::move(senders[static_cast<std::size_t>(i)]);  // destroyed unsent
      }
    });
  int answered = 0;
  int abandoned = 0;
  for (int i = 0; i < pairs; ++i) {
    auto& receiver = receivers[static_cast<std::size_t>(i)];
    weir::RecvResult<int> result{RecvStatus::timeout, std::nullopt};
    // Alternate between untimed and short timed waits that may time out and retry.
    if (i % 3 == 0) {
      auto value = receiver.recv();
      result = value ? weir::RecvResult<int>{RecvStatus::ok, value} : weir::RecvResult<int>{RecvStatus::closed, {}};
    } else {
      while ((result = receiver.recv_for(50us)).status == RecvStatus::timeout) {
      }
    }
    if (result) {
      REQUIRE(*result.value == i);
      ++answered;
    } else {
      REQUIRE(result.status == RecvStatus::closed);
      ++abandoned;
    }
  }
  for (auto& thread : repliers) thread.join();
  REQUIRE(refused == 0);
  REQUIRE(answered == (pairs + 1) / 2);
  REQUIRE(abandoned == pairs / 2);
}
