// weir::Oneshot: one value, one waiter; abandonment and timeouts.

#include "counted.hpp"

#include <weir/oneshot.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <thread>

using weir::RecvStatus;
using weir::test::Counted;
using namespace std::chrono_literals;

TEST_CASE("a oneshot delivers one value once", "[channel][oneshot]") {
  auto [sender, receiver] = weir::make_oneshot<std::unique_ptr<int>>();
  REQUIRE(receiver.try_recv().status == RecvStatus::empty);
  REQUIRE(sender.valid());
  REQUIRE(sender.send(std::make_unique<int>(5)));
  REQUIRE_FALSE(sender.valid());
  REQUIRE_FALSE(sender.send(std::make_unique<int>(6)));
  auto value = receiver.recv();
  REQUIRE(value);
  REQUIRE(**value == 5);
  REQUIRE(receiver.try_recv().status == RecvStatus::closed);
  REQUIRE_FALSE(receiver.recv());
}

TEST_CASE("a oneshot receiver times out while nothing is sent", "[channel][oneshot]") {
  auto [sender, receiver] = weir::make_oneshot<int>();
  REQUIRE(receiver.recv_for(1ms).status == RecvStatus::timeout);
  REQUIRE(receiver.recv_until(std::chrono::steady_clock::now() + 1ms).status == RecvStatus::timeout);
  REQUIRE(sender.send(3));
  auto result = receiver.recv_for(1ms);
  REQUIRE(result);
  REQUIRE(*result.value == 3);
}

TEST_CASE("a sender destroyed without sending wakes the receiver with nothing", "[channel][oneshot]") {
  auto pair = weir::make_oneshot<int>();
  auto receiver = std::move(pair.receiver);
  std::thread abandoner([sender = std::move(pair.sender)]() mutable {
    auto dropped = std::move(sender);  // destroyed at the end of this scope, unsent
  });
  REQUIRE_FALSE(receiver.recv());
  abandoner.join();
  REQUIRE(receiver.recv_for(1ms).status == RecvStatus::closed);
}

TEST_CASE("a parked receiver is woken by the send", "[channel][oneshot]") {
  for (int round = 0; round < 200; ++round) {
    auto [sender, receiver] = weir::make_oneshot<int>();
    bool sent = false;
    std::thread replier([&sender, &sent, round] { sent = sender.send(int{round}); });
    REQUIRE(receiver.recv() == round);
    replier.join();
    REQUIRE(sent);
  }
}

TEST_CASE("send fails once the receiver is gone, and nothing leaks", "[channel][oneshot]") {
  REQUIRE(Counted::live == 0);
  {
    auto [sender, receiver] = weir::make_oneshot<Counted>();
    { auto gone = std::move(receiver); }
    REQUIRE(sender.receiver_gone());
    REQUIRE_FALSE(sender.send(Counted(1)));
  }
  {
    auto [sender, receiver] = weir::make_oneshot<Counted>();
    REQUIRE(sender.send(Counted(2)));
    REQUIRE(Counted::live == 1);  // sent, never received: owned by the shared state
  }
  REQUIRE(Counted::live == 0);
}
