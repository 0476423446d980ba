// Single-threaded semantics of weir::Channel: statuses, ownership of values on
// failure, close-and-drain, batches, timeouts, writers, and that every item is
// constructed and destroyed exactly once.

#include "counted.hpp"

#include <weir/channel.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using weir::Channel;
using weir::RecvStatus;
using weir::SendStatus;
using weir::test::Counted;
using namespace std::chrono_literals;

TEST_CASE("a channel of capacity 0 is refused", "[channel]") {
  REQUIRE_THROWS_AS(Channel<int>(0), std::invalid_argument);
}

TEST_CASE("try_send fills up to capacity, then reports full", "[channel]") {
  for (std::size_t capacity : {1u, 2u, 7u, 8u}) {
    Channel<int> channel(capacity);
    for (std::size_t i = 0; i < capacity; ++i) REQUIRE(channel.try_send(static_cast<int>(i)) == SendStatus::ok);
    REQUIRE(channel.size() == capacity);
    REQUIRE(channel.try_send(99) == SendStatus::full);
    for (std::size_t i = 0; i < capacity; ++i) {
      auto result = channel.try_recv();
      REQUIRE(result);
      REQUIRE(*result.value == static_cast<int>(i));
    }
    auto empty = channel.try_recv();
    REQUIRE(empty.status == RecvStatus::empty);
    REQUIRE_FALSE(empty.value);
    REQUIRE(channel.capacity() == capacity);
  }
}

TEST_CASE("the ring wraps around many laps in FIFO order", "[channel]") {
  Channel<int> channel(3);
  int next_out = 0;
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(channel.try_send(int{i}) == SendStatus::ok);
    if (i % 3 == 2) {
      while (auto result = channel.try_recv()) REQUIRE(*result.value == next_out++);
    }
  }
  while (auto result = channel.try_recv()) REQUIRE(*result.value == next_out++);
  REQUIRE(next_out == 1000);
}

TEST_CASE("a failed send leaves the value with the caller", "[channel]") {
  Channel<std::unique_ptr<int>> channel(1);
  REQUIRE(channel.try_send(std::make_unique<int>(1)) == SendStatus::ok);
  auto value = std::make_unique<int>(2);
  REQUIRE(channel.try_send(std::move(value)) == SendStatus::full);
  REQUIRE(value);
  REQUIRE(channel.send_for(std::move(value), 1ms) == SendStatus::timeout);
  REQUIRE(value);
  channel.close();
  REQUIRE(channel.try_send(std::move(value)) == SendStatus::closed);
  REQUIRE(value);
  REQUIRE_FALSE(channel.send(std::move(value)));
  REQUIRE(value);
  REQUIRE(channel.send_for(std::move(value), 1ms) == SendStatus::closed);
  REQUIRE(value);
  REQUIRE(*value == 2);
}

TEST_CASE("receivers drain what was sent before close, then see closed", "[channel]") {
  Channel<std::string> channel(4);
  REQUIRE(channel.send(std::string("a")));
  const std::string b = "b";
  REQUIRE(channel.send(b));
  channel.close();
  channel.close();  // idempotent
  REQUIRE(channel.is_closed());
  REQUIRE_FALSE(channel.is_drained());
  REQUIRE(channel.recv() == "a");
  REQUIRE(*channel.try_recv().value == "b");
  REQUIRE(channel.is_drained());
  REQUIRE(channel.try_recv().status == RecvStatus::closed);
  REQUIRE_FALSE(channel.recv());
  REQUIRE(channel.recv_for(1ms).status == RecvStatus::closed);
  std::vector<std::string> out;
  REQUIRE(channel.recv_batch(out, 8) == 0);
  REQUIRE(channel.try_recv_batch(out, 8) == 0);
  REQUIRE(out.empty());
}

TEST_CASE("timed receives time out on an empty open channel", "[channel]") {
  Channel<int> channel(2);
  REQUIRE(channel.recv_for(1ms).status == RecvStatus::timeout);
  REQUIRE(channel.recv_for(0ns).status == RecvStatus::timeout);
  REQUIRE(channel.recv_until(std::chrono::steady_clock::now() + 1ms).status == RecvStatus::timeout);
  REQUIRE(channel.recv_until(std::chrono::system_clock::now() - 1s).status == RecvStatus::timeout);
  REQUIRE(channel.send_until(1, std::chrono::steady_clock::now() + 1ms) == SendStatus::ok);
  REQUIRE(*channel.recv_for(std::chrono::nanoseconds::max()).value == 1);
}

TEST_CASE("batches move items in order and stop at capacity", "[channel]") {
  Channel<std::unique_ptr<int>> channel(5);
  std::vector<std::unique_ptr<int>> items;
  for (int i = 0; i < 8; ++i) items.push_back(std::make_unique<int>(i));
  REQUIRE(channel.try_send_batch(items) == 5);
  for (int i = 0; i < 5; ++i) REQUIRE_FALSE(items[static_cast<std::size_t>(i)]);
  for (int i = 5; i < 8; ++i) REQUIRE(*items[static_cast<std::size_t>(i)] == i);
  REQUIRE(channel.try_send_batch(std::span(items).subspan(5)) == 0);

  std::vector<std::unique_ptr<int>> out;
  REQUIRE(channel.try_recv_batch(out, 2) == 2);
  REQUIRE(channel.recv_batch(out, 10) == 3);
  REQUIRE(out.size() == 5);
  for (int i = 0; i < 5; ++i) REQUIRE(*out[static_cast<std::size_t>(i)] == i);

  REQUIRE(channel.send_batch(std::span(items).subspan(5)) == 3);
  channel.close();
  std::vector<std::unique_ptr<int>> more{};
  more.push_back(std::make_unique<int>(42));
  REQUIRE(channel.send_batch(more) == 0);
  REQUIRE(*more[0] == 42);
  REQUIRE(channel.recv_batch(out, 0) == 0);
  REQUIRE(channel.recv_batch(out, 10) == 3);
  REQUIRE(*out.back() == 7);
  REQUIRE(channel.recv_batch(out, 10) == 0);
}

TEST_CASE("the last writer to release closes the channel", "[channel]") {
  Channel<int> channel(4, 2);
  channel.add_writer();
  channel.release_writer();
  channel.release_writer();
  REQUIRE_FALSE(channel.is_closed());
  REQUIRE(channel.send(1));
  channel.release_writer();
  REQUIRE(channel.is_closed());
  REQUIRE(channel.recv() == 1);
  REQUIRE_FALSE(channel.recv());
}

TEST_CASE("every item is constructed and destroyed exactly once", "[channel]") {
  REQUIRE(Counted::live == 0);
  {
    Channel<Counted> channel(7);
    for (int i = 0; i < 5; ++i) REQUIRE(channel.try_send(Counted(i)) == SendStatus::ok);
    REQUIRE(Counted::live == 5);
    {
      auto first = channel.recv();
      REQUIRE(first->value == 0);
      REQUIRE(Counted::live == 5);
    }
    REQUIRE(Counted::live == 4);
    Counted rejected(9);
    channel.close();
    REQUIRE(channel.try_send(std::move(rejected)) == SendStatus::closed);
    REQUIRE(rejected.value == 9);
    REQUIRE(Counted::live == 5);
  }
  // The four items left in the channel were destroyed with it.
  REQUIRE(Counted::live == 0);
  {
    Channel<Counted> channel(3);
    REQUIRE(channel.send(Counted(-1)));
    for (int lap = 0; lap < 10; ++lap) {
      std::vector<Counted> batch;
      for (int i = 0; i < 2; ++i) batch.emplace_back(i);
      REQUIRE(channel.send_batch(batch) == 2);
      std::vector<Counted> out;
      REQUIRE(channel.recv_batch(out, 2) == 2);
    }
    REQUIRE(Counted::live == 1);  // the batches and what was received died with each lap
  }
  REQUIRE(Counted::live == 0);
}
