// generate: the seed's job producers, templates, rate, sizes, stopping.

#include "harness.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

using namespace weir::test;
using weir::Kind;

namespace {

std::vector<weir::Message> run_source(weir::StageInstance& stage, std::stop_token stop = {}) {
  Collector out;
  as<weir::Source>(stage).run(out, stop);
  return std::move(out.messages);
}

const char* job_queue_config =
    "{count: 100, templates: ["
    "{payload: 'email {seq} by {replica}', attributes: {kind: email_send}},"
    "{payload: 'resize {seq} by {replica}', attributes: {kind: image_resize}},"
    "{payload: 'report {seq} by {replica}', attributes: {kind: report_generate}, priority: 5}]}";

}  // namespace

TEST_CASE("generate: the seed's job producers cycle three kinds, 100 per replica", "[plugins][generate]") {
  std::map<std::string, int> kinds;
  for (unsigned replica = 0; replica < 3; ++replica) {
    auto stage = make_stage("generate", Kind::source, job_queue_config, replica, 3);
    auto messages = run_source(stage);
    REQUIRE(messages.size() == 100);
    CHECK(messages[0].payload == "email 0 by " + std::to_string(replica));
    CHECK(messages[1].attributes.get("kind") == "image_resize");
    CHECK(messages[2].priority == 5);
    CHECK(messages[0].priority == 0);
    CHECK(messages[99].payload == "email 99 by " + std::to_string(replica));
    for (const auto& m : messages) ++kinds[m.attributes.get("kind")];
  }
  CHECK(kinds == std::map<std::string, int>{{"email_send", 102}, {"image_resize", 99}, {"report_generate", 99}});
}

TEST_CASE("generate: a single payload template with shared attributes", "[plugins][generate]") {
  auto stage = make_stage("generate", Kind::source,
                          "{count: 3, payload: '{greeting} #{seq} ({stage}) {{literal}}', "
                          "attributes: {greeting: hello, number: 'n{seq}', braces: '{{x}}'}, priority: 2}");
  auto messages = run_source(stage);
  REQUIRE(messages.size() == 3);
  CHECK(messages[2].payload == "hello #2 (subject) {literal}");
  CHECK(messages[2].priority == 2);
  // Values that read nothing are rendered once and copied; the others per message.
  for (std::size_t i = 0; i < messages.size(); ++i) {
    CHECK(messages[i].attributes.get("greeting") == "hello");
    std::string number = "n";
    number += std::to_string(i);
    CHECK(messages[i].attributes.get("number") == number);
    CHECK(messages[i].attributes.get("braces") == "{x}");
  }
}

TEST_CASE("generate: weighted order follows the weights and repeats with the seed", "[plugins][generate]") {
  const std::string config =
      "{count: 2000, order: weighted, seed: 42, templates: [{payload: a, weight: 9}, {payload: b, weight: 1}]}";
  auto one = make_stage("generate", Kind::source, config);
  auto two = make_stage("generate", Kind::source, config);
  auto first = run_source(one);
  auto second = run_source(two);
  REQUIRE(first.size() == 2000);
  auto as_ = std::count_if(first.begin(), first.end(), [](const auto& m) { return m.payload == "a"; });
  CHECK(as_ > 1600);
  CHECK(as_ < 1990);
  for (std::size_t i = 0; i < first.size(); ++i) REQUIRE(first[i].payload == second[i].payload);
}

TEST_CASE("generate: payload sizes pad, cut and vary within bounds", "[plugins][generate]") {
  auto fixed = make_stage("generate", Kind::source, "{count: 2, payload: 'abc', payload_size: 8}");
  for (const auto& m : run_source(fixed)) CHECK(m.payload == "abc.....");
  auto cut = make_stage("generate", Kind::source, "{count: 1, payload: 'abcdef', payload_size: 2}");
  CHECK(run_source(cut)[0].payload == "ab");
  auto varied = make_stage("generate", Kind::source, "{count: 200, payload_size: 10, payload_size_max: 20}");
  std::set<std::size_t> sizes;
  for (const auto& m : run_source(varied)) {
    CHECK(m.payload.size() >= 10);
    CHECK(m.payload.size() <= 20);
    sizes.insert(m.payload.size());
  }
  CHECK(sizes.size() > 5);
  CHECK_THROWS_WITH(make_stage("generate", Kind::source, "{payload_size: 10, payload_size_max: 5}"),
                    Catch::Contains("payload_size_max"));
}

TEST_CASE("generate: stops when the emitter refuses or the stop token fires", "[plugins][generate]") {
  auto endless = make_stage("generate", Kind::source, "{count: 0}");
  Collector out;
  out.on_emit = [&](const weir::Message&) { return out.messages.size() < 5; };
  as<weir::Source>(endless).run(out, {});
  CHECK(out.messages.size() == 5);

  // A slow rate parks between messages; the stop request must end the wait
  // at once rather than after the next slot (10 s away).
  auto slow = make_stage("generate", Kind::source, "{count: 0, rate: 0.1}");
  std::stop_source stop;
  Collector got;
  got.on_emit = [&](const weir::Message&) {
    stop.request_stop();
    return true;
  };
  std::jthread runner([&] { as<weir::Source>(slow).run(got, stop.get_token()); });
  runner.join();
  CHECK(got.messages.size() == 1);
}

TEST_CASE("generate: bad templates are rejected naming the template", "[plugins][generate]") {
  CHECK_THROWS_WITH(make_stage("generate", Kind::source, "{templates: [{payload: a, colour: red}]}"),
                    Catch::Contains("templates[0]") && Catch::Contains("colour"));
  CHECK_THROWS_WITH(make_stage("generate", Kind::source, "{templates: [{payload: a}, {weight: -1}]}"),
                    Catch::Contains("templates[1].weight"));
  CHECK_THROWS_WITH(make_stage("generate", Kind::source, "{templates: [{priority: high}]}"),
                    Catch::Contains("templates[0].priority"));
}
