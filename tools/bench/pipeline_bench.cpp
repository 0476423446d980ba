// Pipeline throughput against its peers (docs/performance.md, "Pipelines").
//
// One graph, four implementations, measured in the same run and interleaved:
//   generate (100-byte payload, 3 attributes) -> set one attribute
//     -> filter (drops 1 in 10) -> count, at most 1024 messages in flight
//   yaml: a weir YAML pipeline of the standard plugins
//   code: the same graph built in code (weir::PipelineBuilder, lambda stages)
//   tbb:  tbb::flow::graph, serial function nodes behind a limiter of 1024
//   go:   a goroutine per stage, buffered channels of 1024 (tools/bench/go/);
//         built with `go build` when `go` is on PATH, skipped otherwise
// and, weir alone: generate -> null, the job queue with zero work time, a
// fan-out to 4 sinks, 8 replicas of a processor; and the job queue with 1 ms
// of sleeping work per job at 1, 2, 4 and 8 replicas against
// `replicas: {min: 1, max: 8}`, timed over the second half of 24,000 jobs
// (once the autoscaler has sized the stage).
//
// Every measurement runs in a child process of its own (this program run with
// --child NAME), so each one's peak RSS is its own (wait4's ru_maxrss) and no
// run warms the next one's allocator. The parent prints medians and ratios.
//
// Also, only when named with --only: fused-head and fused-tail, the graph on
// two threads, fused by hand (see child_fused).
//
//   pipeline_bench [--messages N] [--runs R] [--only NAME,...]

#include <weir/host.hpp>
#include <weir/logging.hpp>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <tbb/flow_graph.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t in_flight = 1024;
constexpr std::size_t payload_bytes = 100;
constexpr std::uint64_t sleep_jobs = 24'000;  // the jobs-sleep-* workloads, whatever --messages says

// --- the work every implementation does, written once ---------------------

weir::Message make_message(std::uint64_t seq) {
  weir::Message m("message " + std::to_string(seq));
  m.payload.resize(payload_bytes, '.');
  m.attributes.set("host", "bench-1");
  m.attributes.set("level", "info");
  m.attributes.set("drop", seq % 10 == 0 ? "1" : "0");
  return m;
}
void tag(weir::Message& m) { m.attributes.set("tagged", "yes"); }
bool keep(const weir::Message& m) {
  const std::string* drop = m.attributes.find("drop");
  return drop != nullptr && *drop == "0";
}

// The YAML form of the same graph: ten templates taken in turn, the first of
// which carries drop: "1", so one message in ten is dropped by the filter.
std::string graph_yaml(std::uint64_t messages) {
  std::ostringstream y;
  y << "pipeline: bench-graph\n"
    << "stages:\n"
    << "  src:\n"
    << "    plugin: generate\n"
    << "    capacity: " << in_flight << "\n"
    << "    config:\n"
    << "      count: " << messages << "\n"
    << "      payload_size: " << payload_bytes << "\n"
    << "      attributes: {host: bench-1, level: info}\n"
    << "      templates:\n";
  for (int i = 0; i < 10; ++i)
    y << "        - {payload: 'message {seq}', attributes: {drop: '" << (i == 0 ? 1 : 0) << "'}}\n";
  y << "  tag: {plugin: set, input: src, capacity: " << in_flight << ", config: {attributes: {tagged: 'yes'}}}\n"
    << "  keep: {plugin: filter, input: tag, capacity: " << in_flight << ", config: {when: 'drop == \"0\"'}}\n"
    << "  out: {plugin: count, input: keep, capacity: " << in_flight << "}\n";
  return y.str();
}

std::string extra_yaml(const std::string& name, std::uint64_t messages) {
  const std::string count = std::to_string(messages);
  if (name == "generate-null")
    return "pipeline: generate-null\nstages:\n"
           "  src: {plugin: generate, config: {count: " + count + ", payload: 'x'}}\n"
           "  out: {plugin: null, input: src}\n";
  if (name == "job-queue-0")
    return "pipeline: job-queue-0\nstages:\n"
           "  jobs:\n    plugin: generate\n    replicas: 3\n    config:\n"
           "      count: " + std::to_string(messages / 3) + "\n"
           "      templates:\n"
           "        - {payload: 'email {seq}', attributes: {kind: email_send}}\n"
           "        - {payload: 'report {seq}', attributes: {kind: report_generate}}\n"
           "  workers:\n    plugin: simulate_work\n    input: jobs\n    replicas: 4\n    capacity: 32\n"
           "    lanes:\n      - {name: urgent, when: 'kind == \"report_generate\"'}\n      - {name: normal}\n"
           "    config: {durations: {email_send: 0s, report_generate: 0s}, default_duration: 0s}\n"
           "  done: {plugin: count, input: workers}\n";
  if (name == "fan-out-4") {
    std::string y = "pipeline: fan-out-4\nstages:\n  src: {plugin: generate, config: {count: " + count +
                    ", payload: 'x'}}\n";
    for (int i = 0; i < 4; ++i) y += "  out" + std::to_string(i) + ": {plugin: null, input: src}\n";
    return y;
  }
  // The job queue with 1 ms of waiting work per job (simulate_work sleeps):
  // fixed replica counts against `replicas: auto`, which must find its own.
  if (name.starts_with("jobs-sleep-")) {
    const std::string replicas = name.substr(std::string("jobs-sleep-").size());
    return "pipeline: " + name + "\nstages:\n"
           "  jobs: {plugin: generate, config: {count: " + std::to_string(sleep_jobs) + ", payload: 'job {seq}'}}\n"
           "  workers: {plugin: simulate_work, input: jobs, capacity: 32, replicas: " +
           (replicas == "auto" ? std::string("{min: 1, max: 8}") : replicas) +
           ", config: {default_duration: 1ms, durations: {}}}\n"
           "  done: {plugin: count, input: workers}\n";
  }
  if (name == "replicas-8")
    return "pipeline: replicas-8\nstages:\n"
           "  src: {plugin: generate, config: {count: " + count + ", payload: 'x'}}\n"
           "  tag: {plugin: set, input: src, replicas: 8, config: {attributes: {tagged: 'yes'}}}\n"
           "  out: {plugin: count, input: tag}\n";
  return {};
}

// --- the children: each prints "elapsed_ns delivered [stage=p50_us ...]" ----

struct Outcome {
  std::int64_t elapsed_ns = 0;
  std::uint64_t delivered = 0;
  std::string stages;  // per stage: name=p50 µs in the plugin per message
};

std::int64_t since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count();
}

// `settled`: time only the second half of the messages reaching `last_stage`
// (the jobs-sleep workloads, so `replicas: auto` is measured once it has
// sized the stage, as the fixed counts are).
Outcome run_weir(weir::HostPipeline pipeline, const std::string& last_stage, std::uint64_t settled = 0) {
  auto start = SteadyClock::now();
  pipeline.start();
  if (settled > 0) {
    // A benchmark's own polling, every 5 ms, of the live report.
    for (;;) {
      const weir::StageReport* last = pipeline.stats().stage(last_stage);
      if (last == nullptr || last->received >= settled / 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    start = SteadyClock::now();
  }
  const weir::RunReport report = pipeline.wait();
  Outcome out{since(start), 0, {}};
  if (report.status != weir::RunStatus::drained || !report.balanced()) {
    std::fprintf(stderr, "pipeline_bench: the run did not drain with balanced books\n");
    std::exit(1);
  }
  std::uint64_t delivered = 0;
  for (const auto& s : report.stages) {
    if (s.kind == "sink" && (last_stage.empty() || s.name == last_stage)) delivered += s.received;
    char entry[96];
    std::snprintf(entry, sizeof entry, " %s=%.2f", s.name.c_str(), s.latency.p50_us);
    out.stages += entry;
  }
  out.delivered = delivered;
  return out;
}

Outcome child_code(std::uint64_t messages) {
  std::atomic<std::uint64_t> counted{0};
  weir::PipelineBuilder b("bench-graph");
  b.source("src", [messages](weir::Emitter& out, std::stop_token stop) {
     for (std::uint64_t seq = 0; seq < messages && !stop.stop_requested(); ++seq)
       if (!out.emit(make_message(seq))) return;
   }).capacity(in_flight);
  b.processor("tag", [](weir::Message& m, weir::Emitter& out) {
     tag(m);
     out.emit(std::move(m));
   }).input("src").capacity(in_flight);
  b.processor("keep", [](weir::Message& m, weir::Emitter& out) {
     if (keep(m)) out.emit(std::move(m));
   }).input("tag").capacity(in_flight);
  b.sink("out", [&counted](const weir::Message&) { counted.fetch_add(1, std::memory_order_relaxed); })
      .input("keep")
      .capacity(in_flight);
  Outcome out = run_weir(weir::HostPipeline(std::move(b)), "out");
  if (out.delivered != counted.load()) {
    std::fprintf(stderr, "pipeline_bench: the report and the sink disagree\n");
    std::exit(1);
  }
  return out;
}


// The same graph on two threads instead of four, fused by hand: what
// chaining neighbouring stages onto one thread could give at best, since no
// runtime work is left between the fused steps. fused-head: the source makes,
// tags and filters, a sink counts; fused-tail: the source makes, the sink
// tags, filters and counts (it owns its batch's messages, so tagging one
// changes nothing that anybody else sees).
Outcome child_fused(std::uint64_t messages, bool head) {
  std::atomic<std::uint64_t> counted{0};
  weir::PipelineBuilder b("bench-graph");
  b.source("src", [messages, head](weir::Emitter& out, std::stop_token stop) {
     for (std::uint64_t seq = 0; seq < messages && !stop.stop_requested(); ++seq) {
       weir::Message m = make_message(seq);
       if (head) {
         tag(m);
         if (!keep(m)) continue;
       }
       if (!out.emit(std::move(m))) return;
     }
   }).capacity(in_flight);
  b.sink("out", [&counted, head](const weir::Message& message) {
     if (!head) {
       auto& m = const_cast<weir::Message&>(message);
       tag(m);
       if (!keep(m)) return;
     }
     counted.fetch_add(1, std::memory_order_relaxed);
   }).input("src").capacity(in_flight);
  Outcome out = run_weir(weir::HostPipeline(std::move(b)), "out");
  out.delivered = counted.load();  // the sink receives the dropped ones too
  return out;
}

Outcome child_tbb(std::uint64_t messages) {
  using namespace tbb::flow;
  graph g;
  std::uint64_t next = 0;
  input_node<weir::Message> src(g, [&](tbb::flow_control& fc) -> weir::Message {
    if (next == messages) {
      fc.stop();
      return {};
    }
    return make_message(next++);
  });
  // An integral decrement type: each 1 sent to the decrementer frees one
  // place. (With continue_msg the decrementer is a continue_receiver, which
  // fires once per as many messages as it has predecessors: two here.)
  limiter_node<weir::Message, int> limit(g, in_flight);
  function_node<weir::Message, weir::Message> tagger(g, serial, [](weir::Message m) {
    tag(m);
    return m;
  });
  // Port 0: kept messages to the sink; port 1: a dropped message frees its
  // place in the limiter, as the sink does for a kept one.
  using Filter = multifunction_node<weir::Message, std::tuple<weir::Message, int>>;
  Filter filter(g, serial, [](const weir::Message& m, Filter::output_ports_type& ports) {
    if (keep(m))
      std::get<0>(ports).try_put(m);
    else
      std::get<1>(ports).try_put(1);
  });
  std::uint64_t counted = 0;
  function_node<weir::Message, int> sink(g, serial, [&](const weir::Message&) {
    ++counted;
    return 1;
  });
  make_edge(src, limit);
  make_edge(limit, tagger);
  make_edge(tagger, filter);
  make_edge(output_port<0>(filter), sink);
  make_edge(output_port<1>(filter), limit.decrementer());
  make_edge(sink, limit.decrementer());
  const auto start = SteadyClock::now();
  src.activate();
  g.wait_for_all();
  return {since(start), counted, {}};
}

Outcome run_child(const std::string& name, std::uint64_t messages) {
  if (name == "yaml") return run_weir(weir::HostPipeline::load_string(graph_yaml(messages)), "out");
  if (name == "code") return child_code(messages);
  if (name == "tbb") return child_tbb(messages);
  if (name == "fused-head") return child_fused(messages, true);
  if (name == "fused-tail") return child_fused(messages, false);
  const std::string yaml = extra_yaml(name, messages);
  if (yaml.empty()) {
    std::fprintf(stderr, "pipeline_bench: no workload named '%s'\n", name.c_str());
    std::exit(2);
  }
  if (name.starts_with("jobs-sleep-")) return run_weir(weir::HostPipeline::load_string(yaml), "done", sleep_jobs);
  return run_weir(weir::HostPipeline::load_string(yaml), "");
}

// --- the parent --------------------------------------------------------------

struct Sample {
  double msg_per_s = 0;
  double ns_per_msg = 0;
  long peak_rss_kb = 0;
  std::uint64_t delivered = 0;
  std::string stages;
};

// Runs argv as a child, reads its one line of output, and takes its peak RSS.
std::optional<Sample> measure(const std::vector<std::string>& argv, std::uint64_t messages) {
  int out[2];
  if (pipe(out) != 0) return std::nullopt;
  const pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  close(out[0]);
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  std::istringstream in(text);
  std::int64_t elapsed_ns = 0;
  Sample s;
  if (!(in >> elapsed_ns >> s.delivered) || elapsed_ns <= 0) return std::nullopt;
  std::getline(in, s.stages);
  s.msg_per_s = static_cast<double>(messages) / (static_cast<double>(elapsed_ns) / 1e9);
  s.ns_per_msg = static_cast<double>(elapsed_ns) / static_cast<double>(messages);
  s.peak_rss_kb = usage.ru_maxrss;
  return s;
}

template <class T, class F>
double median_of(const std::vector<T>& samples, F field) {
  std::vector<double> values;
  for (const auto& s : samples) values.push_back(static_cast<double>(field(s)));
  std::sort(values.begin(), values.end());
  if (values.empty()) return 0;
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Builds the Go peer next to this program; empty when `go` is not there.
std::string build_go(const std::filesystem::path& self) {
  const std::filesystem::path binary = self.parent_path() / "pipeline_bench_go";
  const std::string command = "command -v go >/dev/null 2>&1 && cd '" WEIR_BENCH_GO_DIR "' && GOCACHE='" +
                              (self.parent_path() / "go-cache").string() + "' go build -o '" +
                              binary.string() + "' pipeline.go";
  if (std::system(command.c_str()) != 0) return {};
  return binary.string();
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t messages = 2'000'000;
  int runs = 5;
  std::string child;
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--messages" && has_value) messages = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--runs" && has_value) runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--child" && has_value) child = argv[++i];
    else if (arg == "--only" && has_value) only = split(argv[++i]);
    else {
      std::fprintf(stderr, "usage: pipeline_bench [--messages N] [--runs R] [--only NAME,...]\n");
      return 2;
    }
  }
  if (!child.empty()) {
    // The count sink's summary and other records would only add noise.
    auto quiet = spdlog::null_logger_mt("pipeline_bench");
    weir::set_logger(quiet);
    const Outcome out = run_child(child, messages);
    std::printf("%lld %llu%s\n", static_cast<long long>(out.elapsed_ns),
                static_cast<unsigned long long>(out.delivered), out.stages.c_str());
    return 0;
  }

  const std::filesystem::path self = std::filesystem::canonical("/proc/self/exe");
  const std::string go = build_go(self);
  std::vector<std::string> graph = {"yaml", "code", "tbb"};
  if (!go.empty()) graph.push_back("go");
  const std::vector<std::string> extras = {"generate-null", "job-queue-0", "fan-out-4", "replicas-8",
                                           "jobs-sleep-1", "jobs-sleep-2", "jobs-sleep-4", "jobs-sleep-8",
                                           "jobs-sleep-auto"};
  std::vector<std::string> names = graph;
  names.insert(names.end(), extras.begin(), extras.end());
  if (!only.empty()) {
    // Run only when named: what chaining stages onto fewer threads could
    // give (see child_fused).
    names.insert(names.end(), {"fused-head", "fused-tail"});
    std::erase_if(names, [&](const std::string& n) { return std::find(only.begin(), only.end(), n) == only.end(); });
  }

  std::printf("pipeline_bench: %llu messages, %d runs, interleaved; %s; C++ children allocate with %s "
              "(WEIR_ALLOCATOR)\n",
              static_cast<unsigned long long>(messages), runs,
              go.empty() ? "Go peer skipped (no `go` on PATH; Debian: golang-go)" : "Go peer built with `go build`",
              WEIR_BENCH_ALLOCATOR);
  std::map<std::string, std::vector<Sample>> samples;
  for (int run = 1; run <= runs; ++run) {
    for (const auto& name : names) {
      std::vector<std::string> args;
      if (name == "go") args = {go, std::to_string(messages), std::to_string(in_flight)};
      else args = {self.string(), "--child", name, "--messages", std::to_string(messages)};
      // The jobs-sleep workloads time their second half only (see run_weir).
      const auto s = measure(args, name.starts_with("jobs-sleep-") ? sleep_jobs - sleep_jobs / 2 : messages);
      if (!s) {
        std::fprintf(stderr, "pipeline_bench: %s failed in run %d\n", name.c_str(), run);
        return 1;
      }
      std::printf("  run %d %-16s %11.0f msg/s  %9.1f ns/msg  peak RSS %6.1f MB  delivered %llu\n", run,
                  name.c_str(), s->msg_per_s, s->ns_per_msg, static_cast<double>(s->peak_rss_kb) / 1024,
                  static_cast<unsigned long long>(s->delivered));
      std::fflush(stdout);
      samples[name].push_back(*s);
    }
  }

  std::printf("\n| workload | msg/s (median) | ns/msg | ns/msg per stage | peak RSS MB |\n|---|---:|---:|---:|---:|\n");
  const std::map<std::string, int> stage_count = {{"yaml", 4}, {"code", 4}, {"tbb", 4}, {"go", 4},
                                                  {"generate-null", 2}, {"job-queue-0", 3}, {"fan-out-4", 5},
                                                  {"replicas-8", 3}, {"fused-head", 4}, {"fused-tail", 4}, {"jobs-sleep-1", 3}, {"jobs-sleep-2", 3},
                                                  {"jobs-sleep-4", 3}, {"jobs-sleep-8", 3}, {"jobs-sleep-auto", 3}};
  for (const auto& name : names) {
    const auto& s = samples[name];
    const double rate = median_of(s, [](const Sample& x) { return x.msg_per_s; });
    const double ns = median_of(s, [](const Sample& x) { return x.ns_per_msg; });
    const double rss = median_of(s, [](const Sample& x) { return x.peak_rss_kb; }) / 1024;
    std::printf("| %s | %.0f | %.1f | %.1f | %.1f |\n", name.c_str(), rate, ns, ns / stage_count.at(name), rss);
  }
  auto rate_of = [&](const std::string& name) {
    return median_of(samples[name], [](const Sample& x) { return x.msg_per_s; });
  };
  auto ratio = [&](const char* label, const std::string& a, const std::string& b) {
    if (samples.count(a) && samples.count(b))
      std::printf("%s: %.2fx (medians; per run:", label, rate_of(a) / rate_of(b));
    else return;
    for (std::size_t i = 0; i < samples[a].size() && i < samples[b].size(); ++i)
      std::printf(" %.2f", samples[a][i].msg_per_s / samples[b][i].msg_per_s);
    std::printf(")\n");
  };
  std::printf("\n");
  ratio("yaml / tbb  (target >= 3)", "yaml", "tbb");
  ratio("yaml / go   (target >= 1.5)", "yaml", "go");
  ratio("code / yaml (target >= 1)", "code", "yaml");
  if (samples.count("jobs-sleep-auto")) {
    std::string best;
    for (const char* fixed : {"jobs-sleep-1", "jobs-sleep-2", "jobs-sleep-4", "jobs-sleep-8"})
      if (samples.count(fixed) && (best.empty() || rate_of(fixed) > rate_of(best))) best = fixed;
    if (!best.empty())
      ratio(("replicas auto / best fixed (" + best + ", target >= 0.9)").c_str(), "jobs-sleep-auto", best);
  }
  if (samples.count("yaml")) {
    std::printf("\nyaml, per stage, p50 microseconds in the plugin per message (run 1):%s\n",
                samples["yaml"].front().stages.c_str());
  }
  return 0;
}
