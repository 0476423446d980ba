// Single-threaded semantics of weir::Lanes: strict priority, weighted shares,
// per-lane capacity, close-and-drain.

#include "counted.hpp"

#include <weir/lanes.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

using weir::LaneConfig;
using weir::LanePolicy;
using weir::Lanes;
using weir::RecvStatus;
using weir::SendStatus;
using weir::test::Counted;
using namespace std::chrono_literals;

TEST_CASE("lane sets refuse nonsense configurations", "[channel][lanes]") {
  REQUIRE_THROWS_AS(Lanes<int>({}, LanePolicy::strict), std::invalid_argument);
  REQUIRE_THROWS_AS(Lanes<int>({{4, 1}, {0, 1}}, LanePolicy::strict), std::invalid_argument);
  REQUIRE_THROWS_AS(Lanes<int>({{4, 0}}, LanePolicy::weighted), std::invalid_argument);
  REQUIRE_THROWS_AS(Lanes<int>({{4, 60000}, {4, 60000}}, LanePolicy::weighted), std::invalid_argument);
}

TEST_CASE("strict lanes serve the highest non-empty lane first", "[channel][lanes]") {
  Lanes<int> lanes({{4}, {4}, {4}}, LanePolicy::strict);
  REQUIRE(lanes.lane_count() == 3);
  REQUIRE(lanes.try_send(2, 20) == SendStatus::ok);
  REQUIRE(lanes.try_send(1, 10) == SendStatus::ok);
  REQUIRE(lanes.try_send(2, 21) == SendStatus::ok);
  REQUIRE(lanes.try_send(0, 0) == SendStatus::ok);
  REQUIRE(lanes.size(2) == 2);
  std::vector<int> order;
  while (auto item = lanes.try_recv()) {
    REQUIRE(item->lane == static_cast<std::size_t>(item->value / 10));
    order.push_back(item->value);
  }
  REQUIRE(order == std::vector<int>{0, 10, 20, 21});
  REQUIRE_FALSE(lanes.is_drained());
  // As with Channel: empty while open, closed once closed and drained.
  REQUIRE(lanes.try_recv().status == RecvStatus::empty);
  lanes.close();
  REQUIRE(lanes.try_recv().status == RecvStatus::closed);
}

TEST_CASE("one lane's oldest item can be taken whatever the policy", "[channel][lanes]") {
  Lanes<int> lanes({{4}, {4}}, LanePolicy::strict);
  REQUIRE(lanes.try_send(0, 10) == SendStatus::ok);
  REQUIRE(lanes.try_send(1, 20) == SendStatus::ok);
  REQUIRE(lanes.try_send(1, 21) == SendStatus::ok);
  auto low = lanes.try_recv(1);
  REQUIRE(low);
  CHECK(low->lane == 1);
  CHECK(low->value == 20);
  CHECK(lanes.size(0) == 1);
  CHECK(lanes.try_recv(1)->value == 21);
  CHECK(lanes.try_recv(1).status == RecvStatus::empty);
  CHECK(lanes.try_recv(0)->value == 10);
  REQUIRE(lanes.try_send(0, 11) == SendStatus::ok);
  lanes.close();
  CHECK(lanes.try_recv(1).status == RecvStatus::closed);  // that lane is closed and drained
  CHECK(lanes.try_recv(0)->value == 11);                   // this one still drains
  CHECK(lanes.try_recv(0).status == RecvStatus::closed);
}

TEST_CASE("each lane is bounded by its own capacity", "[channel][lanes]") {
  Lanes<int> lanes({{1}, {2}}, LanePolicy::strict);
  REQUIRE(lanes.capacity(0) == 1);
  REQUIRE(lanes.capacity(1) == 2);
  REQUIRE(lanes.try_send(1, 1) == SendStatus::ok);
  REQUIRE(lanes.try_send(1, 2) == SendStatus::ok);
  REQUIRE(lanes.try_send(1, 3) == SendStatus::full);
  REQUIRE(lanes.send_for(1, 3, 1ms) == SendStatus::timeout);
  REQUIRE(lanes.try_send(0, 0) == SendStatus::ok);  // a full low lane does not block a high one
}

TEST_CASE("strict batches take from the highest lanes first", "[channel][lanes]") {
  Lanes<int> lanes({{8}, {8}}, LanePolicy::strict);
  for (int i = 0; i < 3; ++i) REQUIRE(lanes.send(1, 10 + i));
  for (int i = 0; i < 2; ++i) REQUIRE(lanes.send(0, i));
  std::vector<Lanes<int>::Item> out;
  REQUIRE(lanes.recv_batch(out, 4) == 4);
  std::vector<int> values;
  for (auto& item : out) values.push_back(item.value);
  REQUIRE(values == std::vector<int>{0, 1, 10, 11});
}

TEST_CASE("weighted lanes follow their weights while every lane has items", "[channel][lanes]") {
  Lanes<int> lanes({{64, 3}, {64, 1}}, LanePolicy::weighted);
  for (int i = 0; i < 40; ++i) {
    REQUIRE(lanes.try_send(0, int{i}) == SendStatus::ok);
    REQUIRE(lanes.try_send(1, 100 + i) == SendStatus::ok);
  }
  std::vector<std::size_t> picks;
  for (int i = 0; i < 40; ++i) picks.push_back(lanes.recv()->lane);
  // Smooth weighted round-robin: 0 0 1 0 per round of four.
  for (std::size_t i = 0; i < picks.size(); ++i) REQUIRE(picks[i] == (i % 4 == 2 ? 1u : 0u));
  // A batch honours the same schedule.
  std::vector<Lanes<int>::Item> out;
  REQUIRE(lanes.recv_batch(out, 8) == 8);
  std::size_t low = 0;
  for (auto& item : out) low += item.lane;
  REQUIRE(low == 2);
}

TEST_CASE("weighted lanes never starve the low lane, and never idle when one lane is empty", "[channel][lanes]") {
  Lanes<int> lanes({{1024, 100}, {1024, 1}}, LanePolicy::weighted);
  for (int i = 0; i < 1000; ++i) REQUIRE(lanes.try_send(0, int{i}) == SendStatus::ok);
  REQUIRE(lanes.try_send(1, -1) == SendStatus::ok);
  std::size_t received = 0;
  std::size_t low_at = 0;
  while (auto item = lanes.try_recv()) {
    ++received;
    if (item->lane == 1) low_at = received;
  }
  REQUIRE(received == 1001);
  REQUIRE(low_at >= 1);
  REQUIRE(low_at <= 101);  // within one round of 101 picks
}

TEST_CASE("a closed lane set drains every lane, then reports drained", "[channel][lanes]") {
  REQUIRE(Counted::live == 0);
  {
    Lanes<Counted> lanes({{2}, {2}}, LanePolicy::strict, 2);
    REQUIRE(lanes.send(1, Counted(1)));
    REQUIRE(lanes.send(0, Counted(0)));
    REQUIRE(lanes.send(1, Counted(2)));
    lanes.release_writer();
    REQUIRE_FALSE(lanes.is_closed());
    lanes.release_writer();
    REQUIRE(lanes.is_closed());
    Counted rejected(7);
    REQUIRE(lanes.try_send(0, std::move(rejected)) == SendStatus::closed);
    REQUIRE(rejected.value == 7);
    REQUIRE_FALSE(lanes.send(1, std::move(rejected)));
    REQUIRE(rejected.value == 7);
    REQUIRE(lanes.recv()->value.value == 0);
    REQUIRE_FALSE(lanes.is_drained());
  }
  REQUIRE(Counted::live == 0);  // the two items left were destroyed with the lanes

  Lanes<int> lanes({{2}, {2}}, LanePolicy::weighted);
  REQUIRE(lanes.send(1, 5));
  lanes.close();
  REQUIRE(lanes.recv_for(1ms)->value == 5);
  REQUIRE(lanes.is_drained());
  REQUIRE_FALSE(lanes.recv());
  REQUIRE(lanes.recv_for(1ms).status == RecvStatus::closed);
  std::vector<Lanes<int>::Item> out;
  REQUIRE(lanes.recv_batch(out, 4) == 0);
}

TEST_CASE("recv_for times out on empty open lanes", "[channel][lanes]") {
  Lanes<int> lanes({{2}, {2}}, LanePolicy::strict);
  const auto result = lanes.recv_for(1ms);
  REQUIRE(result.status == RecvStatus::timeout);
  REQUIRE_FALSE(result.value);
  REQUIRE_FALSE(lanes.is_drained());
}
