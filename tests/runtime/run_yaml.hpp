#pragma once
// Runs a YAML pipeline of the test stages (test_stages.hpp) to its end, with
// fresh collections and ledger, and checks that the report's books balance.

#include "test_stages.hpp"

#include <weir/config.hpp>
#include <weir/pipeline.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <thread>

namespace weir::test {

inline RunReport run_yaml(const std::string& yaml, const std::function<void(Pipeline&)>& during = {}) {
  Collected::instance().clear();
  AckLedger::instance().take();
  PluginRegistry registry;
  register_test_stages(registry);
  Pipeline pipeline(load_pipeline_string(yaml, registry), registry);
  pipeline.start();
  if (during) during(pipeline);
  RunReport report = pipeline.wait();
  INFO(report.to_json());
  CHECK(report.balanced());
  return report;
}

// An endless `source` into a shut `gate` sink (capacity 8) until a forced stop
// (see stop_at_the_gate); returns its report.
inline RunReport run_stuck_at_the_gate(const std::string& source) {
  GateSink::set(false);
  std::thread opener;
  auto report = run_yaml(R"(
pipeline: stuck
defaults: {drain_timeout: 50ms}
stages:
  src: {plugin: )" + source + R"(, config: {count: 0}}
  out: {plugin: gate, input: src, capacity: 8}
)",
                         [&opener](Pipeline& p) { stop_at_the_gate(p, opener); });
  opener.join();
  return report;
}

}  // namespace weir::test
