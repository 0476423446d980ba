// channel_bench: weir::Channel against its peers, same workloads, same run.
//
//   channel_bench [--runs N] [--items N] [--samples N]
//
// Prints Markdown tables (medians of N runs, ratios against the peers) ready
// for docs/performance.md. Workloads, as issue 3 asks: throughput of 8-byte
// items for 1P1C, 2P2C, 3P4C and 8P8C at capacities 1024 and 32 (every run
// sum-checked); ping-pong round trip; wake-up latency of a parked receiver and
// the CPU it burns while waiting.

#include "peers.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <latch>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace weir::bench {
namespace {

using Clock = std::chrono::steady_clock;
using Peers = std::tuple<WeirChannel, TbbBoundedQueue, MutexRing, AtomicQueue, MoodycamelQueue, BoostLockfreeQueue>;
constexpr std::size_t peer_count = std::tuple_size_v<Peers>;
using PerPeer = std::array<std::vector<double>, peer_count>;

template <std::size_t I>
using Peer = std::tuple_element_t<I, Peers>;

struct Settings {
  std::size_t runs = 5;
  // Sized so the default run stays within about three minutes on a busy
  // two-core machine, where the spinning peers crawl when oversubscribed.
  std::size_t items = 100'000;  // per throughput run; 1P1C moves ten times as many (see run_throughput)
  std::size_t samples = 100;    // wake-ups per run
  std::size_t round_trips = 5'000;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Items per second. Producers send 1..n (0 is the stop marker each consumer
// gets once at the end); consumers sum what they receive and the total must
// match, so a queue that loses or duplicates an item is caught, not timed.
template <class Queue>
double throughput(std::size_t producers, std::size_t consumers, std::size_t capacity, std::size_t items) {
  Queue queue(capacity);
  const std::size_t per_producer = items / producers;
  // Per consumer, 8 apart so each has a cache line of its own.
  std::vector<std::uint64_t> sums(consumers * 8, 0);
  std::vector<std::atomic<std::uint64_t>> counts(consumers * 8);
  // Workers report ready, then wait for the start signal; the clock starts
  // before the signal, so a main thread descheduled at the wrong moment can
  // only make a run look slower, never faster.
  std::latch ready(static_cast<std::ptrdiff_t>(producers + consumers));
  std::latch start(1);
  std::vector<std::thread> producer_threads;
  std::vector<std::thread> consumer_threads;
  for (std::size_t c = 0; c < consumers; ++c)
    consumer_threads.emplace_back([&, c] {
      ready.count_down();
      start.wait();
      std::uint64_t sum = 0;
      std::uint64_t count = 0;
      for (Item item; (item = queue.pop()) != 0;) {
        sum += item;
        counts[c * 8].store(++count, std::memory_order_relaxed);
      }
      sums[c * 8] = sum;
    });
  for (std::size_t p = 0; p < producers; ++p)
    producer_threads.emplace_back([&, p] {
      ready.count_down();
      start.wait();
      const Item first = p * per_producer + 1;
      for (Item item = first; item < first + per_producer; ++item) queue.push(item);
    });
  ready.wait();
  const auto began = Clock::now();
  start.count_down();
  for (auto& thread : producer_threads) thread.join();
  if constexpr (requires { Queue::orders_across_producers; }) {
    const auto counted = [&] {
      std::uint64_t total = 0;
      for (std::size_t c = 0; c < consumers; ++c) total += counts[c * 8].load(std::memory_order_relaxed);
      return total;
    };
    while (counted() < producers * per_producer) std::this_thread::yield();
  }
  for (std::size_t c = 0; c < consumers; ++c) queue.push(0);
  for (auto& thread : consumer_threads) thread.join();
  const double elapsed = seconds_since(began);
  std::uint64_t total = 0;
  for (std::size_t c = 0; c < consumers; ++c) total += sums[c * 8];
  const std::uint64_t n = producers * per_producer;
  if (total != n * (n + 1) / 2) {
    std::fprintf(stderr, "channel_bench: %s lost or duplicated items (%zuP%zuC, capacity %zu): sum %llu, expected %llu\n",
                 Queue::name, producers, consumers, capacity, static_cast<unsigned long long>(total),
                 static_cast<unsigned long long>(n * (n + 1) / 2));
    std::exit(1);
  }
  return static_cast<double>(n) / elapsed;
}

// Mean round trip in microseconds: one item there over one queue, back over another.
template <class Queue>
double round_trip_us(std::size_t round_trips) {
  Queue there(32);
  Queue back(32);
  std::thread echo([&] {
    for (Item item; (item = there.pop()) != 0;) back.push(item);
  });
  const auto began = Clock::now();
  for (Item i = 1; i <= round_trips; ++i) {
    there.push(i);
    if (back.pop() != i) {
      std::fprintf(stderr, "channel_bench: %s returned the wrong item in the ping-pong\n", Queue::name);
      std::exit(1);
    }
  }
  const double elapsed = seconds_since(began);
  there.push(0);
  echo.join();
  return elapsed * 1e6 / static_cast<double>(round_trips);
}

struct Wakeups {
  std::vector<double> latencies_us;
  double cpu_fraction = 0;  // receiver CPU time / wall time, mostly spent waiting
};

// A receiver waits on an empty queue; 1 ms later the sender stamps the time
// and sends it. The receiver measures how long the item took to reach it.
template <class Queue>
Wakeups wakeups(std::size_t samples) {
  Queue queue(32);
  Wakeups result;
  result.latencies_us.reserve(samples);
  std::thread receiver([&] {
    const double cpu_before = thread_cpu_seconds();
    const auto began = Clock::now();
    for (Item stamp; (stamp = queue.pop()) != 0;) {
      const auto sent = Clock::time_point(Clock::duration(stamp));
      result.latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
    }
    result.cpu_fraction = (thread_cpu_seconds() - cpu_before) / seconds_since(began);
  });
  for (std::size_t i = 0; i < samples; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    queue.push(static_cast<Item>(Clock::now().time_since_epoch().count()));
  }
  queue.push(0);
  receiver.join();
  return result;
}

template <class Body>
void for_each_peer(Body&& body) {
  [&]<std::size_t... I>(std::index_sequence<I...>) { (body(std::integral_constant<std::size_t, I>{}), ...); }
  (std::make_index_sequence<peer_count>{});
}

const char* peer_name(std::size_t index) {
  const char* name = "";
  for_each_peer([&](auto i) {
    if (i == index) name = Peer<i>::name;
  });
  return name;
}

void print_header(std::string_view first_column) {
  std::printf("| %.*s |", static_cast<int>(first_column.size()), first_column.data());
  for (std::size_t i = 0; i < peer_count; ++i) std::printf(" %s |", peer_name(i));
  std::printf("\n|---|");
  for (std::size_t i = 0; i < peer_count; ++i) std::printf("---:|");
  std::printf("\n");
}

struct Check {
  std::string what;
  double ratio;
  double target;
};
std::vector<Check> checks;

void check(std::string what, double ratio, double target) { checks.push_back({std::move(what), ratio, target}); }

void run_throughput(const Settings& settings) {
  struct Shape {
    std::size_t producers, consumers;
  };
  constexpr std::array<Shape, 4> shapes{{{1, 1}, {2, 2}, {3, 4}, {8, 8}}};
  for (std::size_t capacity : {1024u, 32u}) {
    std::printf("\n### Throughput, capacity %zu (million items/s, median of %zu runs; ratio = weir / peer)\n\n",
                capacity, settings.runs);
    print_header("workload");
    double weir_2p2c = 0;
    for (const auto& shape : shapes) {
      PerPeer results;
      // Runs interleave the peers, so a slow phase of the machine hits all alike.
      // 1P1C is the fastest shape: at 100 000 items a run lasts about 3 ms,
      // short enough for one scheduler hiccup to decide it. Ten times the
      // items keeps its runs as long as the others'.
      const std::size_t items = shape.producers == 1 ? settings.items * 10 : settings.items;
      for (std::size_t run = 0; run < settings.runs; ++run)
        for_each_peer([&](auto i) {
          results[i].push_back(throughput<Peer<i>>(shape.producers, shape.consumers, capacity, items) / 1e6);
        });
      std::array<double, peer_count> medians{};
      for (std::size_t i = 0; i < peer_count; ++i) medians[i] = median(results[i]);
      const std::string label = std::to_string(shape.producers) + "P" + std::to_string(shape.consumers) + "C";
      std::printf("| %s |", label.c_str());
      for (std::size_t i = 0; i < peer_count; ++i) {
        if (i == 0) std::printf(" **%.2f** |", medians[i]);
        else std::printf(" %.2f (%.2fx) |", medians[i], medians[0] / medians[i]);
      }
      std::printf("\n");
      std::fflush(stdout);
      const std::string at = label + " cap " + std::to_string(capacity);
      if (shape.producers == 1) {
        check(at + ": weir / oneTBB", medians[0] / medians[1], 3);
        check(at + ": weir / atomic_queue", medians[0] / medians[3], 1);
      } else {
        check(at + ": weir / best of (oneTBB, mutex ring)", medians[0] / std::max(medians[1], medians[2]), 2);
      }
      if (shape.producers == 2) weir_2p2c = medians[0];
      if (shape.producers == 8) check(at + ": weir 8P8C / weir 2P2C", medians[0] / weir_2p2c, 0.5);
    }
  }
}

void run_round_trips(const Settings& settings) {
  std::printf("\n### Ping-pong round trip, capacity 32 (µs, median of %zu runs; ratio = peer / weir)\n\n", settings.runs);
  print_header("");
  PerPeer results;
  for (std::size_t run = 0; run < settings.runs; ++run)
    for_each_peer([&](auto i) { results[i].push_back(round_trip_us<Peer<i>>(settings.round_trips)); });
  std::printf("| round trip |");
  const double weir = median(results[0]);
  for (std::size_t i = 0; i < peer_count; ++i) {
    if (i == 0) std::printf(" **%.2f** |", weir);
    else std::printf(" %.2f (%.2fx) |", median(results[i]), median(results[i]) / weir);
  }
  std::printf("\n");
  std::fflush(stdout);
}

void run_wakeups(const Settings& settings) {
  std::printf("\n### Wake-up of a parked receiver, one item per ms (%zu samples per peer)\n\n",
              settings.runs * settings.samples);
  print_header("");
  PerPeer latencies;
  PerPeer cpu;
  for (std::size_t run = 0; run < settings.runs; ++run)
    for_each_peer([&](auto i) {
      auto result = wakeups<Peer<i>>(settings.samples);
      latencies[i].insert(latencies[i].end(), result.latencies_us.begin(), result.latencies_us.end());
      cpu[i].push_back(result.cpu_fraction * 100);
    });
  std::printf("| p50 latency (µs) |");
  for (std::size_t i = 0; i < peer_count; ++i) std::printf(" %.1f |", percentile(latencies[i], 0.5));
  std::printf("\n| p99 latency (µs) |");
  for (std::size_t i = 0; i < peer_count; ++i) std::printf(" %.1f |", percentile(latencies[i], 0.99));
  std::printf("\n| receiver CPU while waiting (%% of a core) |");
  for (std::size_t i = 0; i < peer_count; ++i) std::printf(" %.1f |", median(cpu[i]));
  std::printf("\n");
  check("wake-up p50 (µs, at most)", percentile(latencies[0], 0.5), 5);
  // Thread CPU clocks tick in steps; differences under 0.1 point are noise.
  check("idle CPU weir minus mutex ring (percentage points, at most)", median(cpu[0]) - median(cpu[2]), 0.1);
}

void print_checks() {
  std::printf("\n### Targets of issue 3\n\n| target | measured | goal | met |\n|---|---:|---:|:---:|\n");
  for (const auto& c : checks) {
    const bool at_most = c.what.find("at most") != std::string::npos;
    const bool met = at_most ? c.ratio <= c.target : c.ratio >= c.target;
    std::printf("| %s | %.2f | %s%.2f | %s |\n", c.what.c_str(), c.ratio, at_most ? "<= " : ">= ", c.target,
                met ? "yes" : "**no**");
  }
}

std::size_t parse_count(const char* flag, const char* value) {
  char* end = nullptr;
  const auto parsed = value ? std::strtoull(value, &end, 10) : 0;
  if (!value || *end != '\0' || parsed == 0) {
    std::fprintf(stderr, "channel_bench: %s needs a positive whole number, got '%s'\n", flag, value ? value : "");
    std::exit(2);
  }
  return static_cast<std::size_t>(parsed);
}

}  // namespace
}  // namespace weir::bench

int main(int argc, char** argv) {
  using namespace weir::bench;
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (flag == "--runs") settings.runs = parse_count("--runs", value), ++i;
    else if (flag == "--items") settings.items = parse_count("--items", value), ++i;
    else if (flag == "--samples") settings.samples = parse_count("--samples", value), ++i;
    else {
      std::fprintf(stderr, "usage: channel_bench [--runs N] [--items N] [--samples N]\n  unknown option '%s'\n", argv[i]);
      return 2;
    }
  }
  std::printf("## channel_bench: %u hardware threads, %zu runs, %zu items per throughput run (1P1C: %zu)\n",
              std::thread::hardware_concurrency(), settings.runs, settings.items, settings.items * 10);
  run_throughput(settings);
  run_round_trips(settings);
  run_wakeups(settings);
  print_checks();
}
