// P producers x C consumers over capacities 1, 2, 7 and 1024, through every
// send and receive flavour: every item arrives exactly once and each
// producer's items arrive in order at every consumer. The producers are the
// channel's writers, so the last one to finish closes it (fan-in).

#include "counted.hpp"
#include "stress.hpp"

#include <weir/channel.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

using weir::Channel;
using weir::RecvStatus;
using weir::SendStatus;
using namespace weir::test;
using namespace std::chrono_literals;

namespace {

enum class Flavour { single, timed, batch };

// Returns how many items could not be sent (none expected). Catch2's
// assertions are not thread-safe, so threads report and the main thread checks.
std::size_t produce(Channel<std::uint64_t>& channel, std::size_t producer, std::size_t count, Flavour flavour) {
  std::size_t seq = 0;
  std::size_t failed = 0;
  switch (flavour) {
    case Flavour::single:
      for (; seq < count; ++seq) failed += !channel.send(make_item(producer, seq));
      break;
    case Flavour::timed:
      // try_send first, then short timed waits that may time out and retry.
      for (; seq < count; ++seq) {
        auto item = make_item(producer, seq);
        if (channel.try_send(std::move(item)) == SendStatus::ok) continue;
        SendStatus status;
        while ((status = channel.send_for(std::move(item), 200us)) == SendStatus::timeout) {
        }
        failed += status != SendStatus::ok;
      }
      break;
    case Flavour::batch: {
      std::vector<std::uint64_t> batch;
      while (seq < count) {
        batch.clear();
        const std::size_t size = 1 + (seq * 7 + producer) % 16;  // varied sizes, including 1 and more than capacity
        for (std::size_t i = 0; i < size && seq < count; ++i) batch.push_back(make_item(producer, seq++));
        failed += batch.size() - channel.send_batch(batch);
      }
      break;
    }
  }
  channel.release_writer();
  return failed;
}

void consume(Channel<std::uint64_t>& channel, Ledger& ledger, OrderCheck& order, Flavour flavour) {
  auto take = [&](std::uint64_t item) {
    ledger.arrived(item);
    order.saw(item);
  };
  switch (flavour) {
    case Flavour::single:
      while (auto item = channel.recv()) take(*item);
      break;
    case Flavour::timed:
      for (;;) {
        auto result = channel.try_recv();
        if (result.status == RecvStatus::empty) result = channel.recv_for(200us);
        if (result.status == RecvStatus::closed) break;
        if (result) take(*result.value);
      }
      break;
    case Flavour::batch: {
      std::vector<std::uint64_t> out;
      for (std::size_t round = 0;; ++round) {
        out.clear();
        if (channel.recv_batch(out, 1 + round % 16) == 0) break;
        for (auto item : out) take(item);
      }
      break;
    }
  }
}

void run(std::size_t producers, std::size_t consumers, std::size_t capacity, Flavour send_flavour,
         Flavour recv_flavour, std::size_t per_producer) {
  Channel<std::uint64_t> channel(capacity, producers);
  Ledger ledger(producers, per_producer);
  std::vector<OrderCheck> orders(consumers, OrderCheck(producers));
  std::atomic<std::size_t> failed_sends{0};
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < consumers; ++c)
    threads.emplace_back([&, c] { consume(channel, ledger, orders[c], recv_flavour); });
  for (std::size_t p = 0; p < producers; ++p)
    threads.emplace_back([&, p] { failed_sends += produce(channel, p, per_producer, send_flavour); });
  for (auto& thread : threads) thread.join();
  INFO(producers << "P x " << consumers << "C, capacity " << capacity);
  REQUIRE(failed_sends == 0);
  REQUIRE(ledger.problems().empty());
  for (const auto& order : orders) REQUIRE(order.violations().empty());
  REQUIRE(channel.is_drained());
}

}  // namespace

TEST_CASE("MPMC stress: exactly once, in per-producer order", "[channel][stress]") {
  const auto capacity = GENERATE(as<std::size_t>{}, 1, 2, 7, 1024);
  const auto shape = GENERATE(std::pair<std::size_t, std::size_t>{1, 1}, std::pair<std::size_t, std::size_t>{2, 2},
                              std::pair<std::size_t, std::size_t>{1, 4}, std::pair<std::size_t, std::size_t>{4, 1},
                              std::pair<std::size_t, std::size_t>{3, 4}, std::pair<std::size_t, std::size_t>{8, 8});
  const auto [producers, consumers] = shape;
  const std::size_t total = 48000 / stress_scale;
  const std::size_t per_producer = total / producers;
  SECTION("send / recv") { run(producers, consumers, capacity, Flavour::single, Flavour::single, per_producer); }
  SECTION("try and timed") { run(producers, consumers, capacity, Flavour::timed, Flavour::timed, per_producer); }
  SECTION("batches") { run(producers, consumers, capacity, Flavour::batch, Flavour::batch, per_producer); }
  SECTION("batches into single receives") {
    run(producers, consumers, capacity, Flavour::batch, Flavour::single, per_producer);
  }
}

TEST_CASE("move-only items cross threads without leaks", "[channel][stress]") {
  REQUIRE(Counted::live == 0);
  {
    Channel<Counted> channel(3, 2);
    std::atomic<long> sum{0};
    std::atomic<int> failed_sends{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < 2; ++p)
      threads.emplace_back([&] {
        for (int i = 1; i <= 2000; ++i) failed_sends += !channel.send(Counted(i));
        channel.release_writer();
      });
    for (int c = 0; c < 2; ++c)
      threads.emplace_back([&] {
        while (auto item = channel.recv()) sum.fetch_add(item->value, std::memory_order_relaxed);
      });
    for (auto& thread : threads) thread.join();
    REQUIRE(failed_sends == 0);
    REQUIRE(sum == 2 * 2000 * 2001 / 2);
  }
  REQUIRE(Counted::live == 0);
}
