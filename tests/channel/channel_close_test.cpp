// close() racing with parked and busy senders and receivers: every parked
// thread wakes, a send that loses the race keeps its value, and every item
// whose send succeeded is received exactly once — none lost, none duplicated.

#include "stress.hpp"

#include <weir/channel.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using weir::Channel;
using weir::RecvStatus;
using weir::SendStatus;
using namespace weir::test;
using namespace std::chrono_literals;

namespace {

using Payload = std::unique_ptr<std::uint64_t>;

Payload payload(std::size_t producer, std::size_t seq) { return std::make_unique<std::uint64_t>(make_item(producer, seq)); }

// Parking is likely after this pause, not guaranteed; the assertions hold
// either way (a thread that had not parked yet sees the close directly).
void let_threads_park() { std::this_thread::sleep_for(20ms); }

}  // namespace

TEST_CASE("close wakes every parked receiver", "[channel][close]") {
  Channel<Payload> channel(4);
  std::atomic<int> saw_closed{0};
  // A fixed array: growing a vector<thread> here trips a false -Warray-bounds
  // in g++ 12 at -O3.
  std::thread receivers[] = {
      std::thread([&] { saw_closed += !channel.recv(); }),
      std::thread([&] { saw_closed += channel.recv_for(1h).status == RecvStatus::closed; }),
      std::thread([&] {
        saw_closed +=
            channel.recv_until(std::chrono::system_clock::now() + 1h).status == RecvStatus::closed;
      }),
      std::thread([&] {
        std::vector<Payload> out;
        saw_closed += channel.recv_batch(out, 8) == 0 && out.empty();
      }),
  };
  let_threads_park();
  channel.close();
  for (auto& thread : receivers) thread.join();
  REQUIRE(saw_closed == 4);
}

TEST_CASE("close wakes every parked sender, which keeps its value", "[channel][close]") {
  Channel<Payload> channel(2);
  REQUIRE(channel.send(payload(0, 0)));
  REQUIRE(channel.send(payload(0, 1)));
  std::atomic<int> refused_untouched{0};
  std::thread senders[] = {
      std::thread([&] {
        auto value = payload(1, 0);
        refused_untouched += !channel.send(std::move(value)) && value && *value == make_item(1, 0);
      }),
      std::thread([&] {
        auto value = payload(2, 0);
        refused_untouched += channel.send_for(std::move(value), 1h) == SendStatus::closed && value;
      }),
      std::thread([&] {
        auto value = payload(3, 0);
        refused_untouched += channel.send_until(std::move(value), std::chrono::steady_clock::now() +
                                                                      1h) == SendStatus::closed &&
                             value;
      }),
      std::thread([&] {
        std::vector<Payload> batch;
        batch.push_back(payload(4, 0));
        batch.push_back(payload(4, 1));
        refused_untouched += channel.send_batch(batch) == 0 && batch[0] && batch[1];
      }),
  };
  let_threads_park();
  channel.close();
  for (auto& thread : senders) thread.join();
  REQUIRE(refused_untouched == 4);
  // What was buffered before the close still comes out, then closed.
  REQUIRE(*channel.recv().value() == make_item(0, 0));
  REQUIRE(*channel.recv().value() == make_item(0, 1));
  REQUIRE_FALSE(channel.recv());
}

TEST_CASE("close racing with busy senders and receivers loses nothing", "[channel][close]") {
  const auto capacity = GENERATE(as<std::size_t>{}, 1, 2, 7, 64);
  const std::size_t rounds = 120 / stress_scale;
  const std::size_t producers = 3;
  const std::size_t consumers = 3;
  const std::size_t per_producer = 400;
  for (std::size_t round = 0; round < rounds; ++round) {
    Channel<Payload> channel(capacity);
    Ledger ledger(producers, per_producer);
    // sent[p][i]: 1 if producer p's item i was accepted; 2 if refused with its value intact; 0 otherwise.
    std::vector<std::vector<std::uint8_t>> sent(producers, std::vector<std::uint8_t>(per_producer, 0));
    std::vector<OrderCheck> orders(consumers, OrderCheck(producers));
    std::atomic<std::size_t> received{0};
    const std::size_t close_after = (round * 37) % (producers * per_producer / 2);
    std::vector<std::thread> threads;
    for (std::size_t p = 0; p < producers; ++p)
      threads.emplace_back([&, p] {
        auto& outcome = sent[p];
        std::size_t seq = 0;
        while (seq < per_producer) {
          // Each producer uses every flavour, so each one races with close().
          switch ((seq + p) % 3) {
            case 0: {
              auto value = payload(p, seq);
              const bool ok = channel.send(std::move(value));
              outcome[seq] = ok ? 1 : (value && *value == make_item(p, seq) ? 2 : 0);
              ++seq;
              break;
            }
            case 1: {
              auto value = payload(p, seq);
              auto status = SendStatus::timeout;
              while ((status = channel.send_for(std::move(value), 100us)) == SendStatus::timeout) {
              }
              outcome[seq] = status == SendStatus::ok ? 1 : (value && *value == make_item(p, seq) ? 2 : 0);
              ++seq;
              break;
            }
            default: {
              std::vector<Payload> batch;
              for (std::size_t i = 0; i < 5 && seq + i < per_producer; ++i) batch.push_back(payload(p, seq + i));
              const auto accepted = channel.send_batch(batch);
              for (std::size_t i = 0; i < batch.size(); ++i)
                outcome[seq + i] = i < accepted ? 1 : (batch[i] && *batch[i] == make_item(p, seq + i) ? 2 : 0);
              seq += batch.size();
            }
          }
        }
      });
    for (std::size_t c = 0; c < consumers; ++c)
      threads.emplace_back([&, c] {
        auto take = [&](const Payload& item) {
          ledger.arrived(*item);
          orders[c].saw(*item);
          // The consumer that takes item number close_after closes the channel
          // while everybody else is mid-flight.
          if (received.fetch_add(1) == close_after) channel.close();
        };
        if (c == 0) {
          std::vector<Payload> out;
          for (std::size_t max = 1; channel.recv_batch(out, max) != 0; max = max % 4 + 1, out.clear())
            for (auto& item : out) take(item);
        } else {
          for (;;) {
            auto result = c == 1 ? channel.recv_for(100us) : channel.try_recv();
            if (result.status == RecvStatus::closed) break;
            if (result) take(*result.value);
            else if (c == 2) {
              if (auto item = channel.recv()) take(*item);
              else break;
            }
          }
        }
      });
    // Producers may all finish before the trigger item; close for them then.
    for (std::size_t p = 0; p < producers; ++p) threads[p].join();
    channel.close();
    for (std::size_t c = 0; c < consumers; ++c) threads[producers + c].join();

    INFO("round " << round << ", capacity " << capacity);
    std::size_t accepted = 0;
    for (std::size_t p = 0; p < producers; ++p)
      for (std::size_t i = 0; i < per_producer; ++i) {
        INFO("producer " << p << " item " << i);
        REQUIRE(sent[p][i] != 0);  // refused sends keep their value
        REQUIRE(ledger.count(p, i) == (sent[p][i] == 1 ? 1u : 0u));
        accepted += sent[p][i] == 1;
      }
    REQUIRE(received == accepted);
    for (const auto& order : orders) REQUIRE(order.violations().empty());
    REQUIRE(channel.is_drained());
  }
}

TEST_CASE("close while an item is still being written: every receiver ends, the item arrives once", "[channel][close]") {
  // close() wakes the receivers while the item is not there yet; they park
  // again, the publish wakes one, and whoever takes the last item must wake
  // the rest.
  Channel<SlowMove> channel(4);
  const auto result = close_with_item_in_flight(
      channel, [&] { return channel.send(SlowMove{1, true}); },
      [&] { return channel.recv_for(60s).status == RecvStatus::ok; });
  REQUIRE(result.ended_in_time == 3);
  REQUIRE(result.items == (result.sent ? 1 : 0));
}

TEST_CASE("a timed receiver that gives up after a wake-up hands it on", "[channel][close]") {
  // R1 (timed) parks first, then R2 and R3. S1 claims position p and sits in
  // its slow move; S2 publishes p+1 and wakes R1, which finds p unpublished
  // and times out. The wake-up meant for p+1 must go on to R2 or R3: S1's own
  // publish wakes only one of them, and the other would sleep beside an item.
  Channel<SlowMove> channel(8);
  std::mutex mutex;
  std::condition_variable changed;
  int received = 0;
  const auto receive = [&] {
    if (!channel.recv()) return;
    std::lock_guard lock(mutex);
    ++received;
    changed.notify_all();
  };
  std::thread r1([&] { (void)channel.recv_for(50ms); });
  std::this_thread::sleep_for(10ms);
  std::thread r2(receive);
  std::this_thread::sleep_for(10ms);
  std::thread r3(receive);
  std::this_thread::sleep_for(10ms);
  std::atomic<int> sent{0};
  std::thread s1([&] { sent += channel.send(SlowMove{1, true}); });
  std::this_thread::sleep_for(10ms);
  std::thread s2([&] { sent += channel.send(SlowMove{2, false}); });
  s1.join();
  s2.join();
  r1.join();
  int before_close = 0;
  {
    // A stranded receiver would leave this at 1 for the whole minute.
    std::unique_lock lock(mutex);
    changed.wait_for(lock, 60s, [&] { return received == 2; });
    before_close = received;
  }
  channel.close();  // frees a stranded receiver, so the test ends either way
  r2.join();
  r3.join();
  REQUIRE(sent == 2);
  REQUIRE(before_close == 2);
}
