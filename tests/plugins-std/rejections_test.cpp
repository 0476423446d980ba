// Every refusal a standard plugin's constructor can make is reported by
// validation (which constructs every stage) at the YAML position of the
// option it names, and the list below keeps up with the plugins' sources: a
// new reject_option call without a case here fails the last test.

#include "harness.hpp"

#include <weir/config.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <sstream>

using weir::Kind;
using namespace weir::test;

namespace {

struct Refusal {
  std::string plugin;
  Kind kind;
  std::string config;  // the stage's config: lines, indented by 6
  int line;            // where the diagnostic must be, in the pipeline below
  int column;
  std::string says;    // part of the message
};

// The stage's config: lines start at line 8 for a source, 9 for a processor
// or sink (which read `feed`).
std::string pipeline(const Refusal& r) {
  std::string text = "pipeline: refusal\nstages:\n  feed:\n    plugin: generate\n  subject:\n";
  text += fmt::format("    plugin: {}\n", r.plugin);
  if (r.kind != Kind::source) text += "    input: feed\n";
  text += "    config:\n" + r.config;
  if (r.kind != Kind::sink) text += "  after:\n    plugin: null\n    input: subject\n";
  else text += "  after:\n    plugin: null\n    input: feed\n";
  return text;
}

const std::vector<Refusal>& refusals() {
  static const std::vector<Refusal> list{
      {"generate", Kind::source, "      payload_size: 100\n      payload_size_max: 10\n", 9, 25,
       "option 'payload_size_max': 10 is below payload_size 100"},
      {"generate", Kind::source, "      templates:\n        - {payload: 'job {seq'}\n", 9, 30,
       "option 'templates[0].payload': placeholder '{seq' is not closed"},
      {"generate", Kind::source, "      templates:\n        - {attributes: [a, b]}\n", 9, 24,
       "option 'templates[0].attributes': '[a, b]' is not a map"},
      {"generate", Kind::source, "      templates:\n        - {weight: 0}\n", 9, 20,
       "option 'templates[0].weight': '0' is not a positive number"},
      {"generate", Kind::source, "      templates:\n        - {payload: x, colour: blue}\n", 9, 11,
       "option 'templates[0]': unknown key 'colour'"},
      {"json", Kind::processor, "      fields: [level, '', user]\n", 9, 23, "option 'fields[1]': an empty field name"},
      {"set", Kind::processor, "      attributes: {'': x}\n", 9, 19, "option 'attributes': an empty attribute name"},
      {"set", Kind::processor, "      remove: []\n", 5, 3, "option 'attributes': nothing to do"},
      {"file", Kind::source, "      path: /tmp/*/app.log\n      follow: true\n", 8, 13,
       "option 'path': '/tmp/*/app.log' has wildcards in its folder part"},
      {"file", Kind::source, "      path: /nonexistent-weir/app.log\n      follow: true\n", 8, 13,
       "option 'path': folder '/nonexistent-weir' does not exist"},
      {"file", Kind::source, "      path: /nonexistent-weir/app.log\n", 8, 13,
       "option 'path': cannot read '/nonexistent-weir/app.log'"},
      {"nats", Kind::source, "      stream: 'A.B'\n      durable: d\n", 8, 15,
       "option 'stream': 'A.B' is not a valid name"},
      {"nats", Kind::source, "      stream: S\n      durable: d\n      max_deliver: 0\n", 10, 20,
       "option 'max_deliver': 0 deliveries would deliver nothing"},
      {"nats", Kind::sink, "      subject: x\n      tls_cert: /nonexistent-weir.pem\n", 10, 17,
       "option 'tls_cert': '/nonexistent-weir.pem' is not a readable file"},
      {"kafka", Kind::source, "      topics: []\n      group: g\n", 8, 15, "option 'topics': no topic given"},
      {"socket", Kind::source, "      address: localhost5140\n", 8, 16,
       "option 'address': 'localhost5140': expected HOST:PORT"},
      {"kafka", Kind::source, "      topics: [ok, 'bad topic']\n      group: g\n", 8, 20,
       "option 'topics[1]': 'bad topic' is not a Kafka topic name"},
      {"kafka", Kind::source, "      topics: [t]\n      group: ''\n", 9, 14, "option 'group': is empty"},
      {"kafka", Kind::source, "      topics: [t]\n      group: g\n      brokers: ['a b']\n", 10, 16,
       "option 'brokers': 'a b' is not a list of broker addresses"},
      {"kafka", Kind::sink, "      topic: t\n      acks: leader\n", 10, 13,
       "option 'acks': idempotence needs acks: all"},
      {"kafka", Kind::sink, "      topic: t\n      librdkafka_options: {no.such.property: x}\n", 10, 27,
       "No such configuration property"},
      {"http_server", Kind::source, "      address: nowhere\n", 8, 16,
       "option 'address': 'nowhere': expected HOST:PORT"},
      {"http_server", Kind::source, "      tls_cert: /etc/weir/server.crt\n", 5, 3,
       "option 'tls_key': is needed too: TLS takes a certificate and its key"},
      {"http_server", Kind::source, "      paths: [/in, logs]\n", 8, 20,
       "option 'paths[1]': 'logs' does not start with '/'"},
      {"http_server", Kind::source, "      paths: [/ready]\n", 8, 15,
       "option 'paths[0]': '/ready' is also the health or readiness path"},
      {"http_server", Kind::source, "      health_path: health\n", 8, 20,
       "option 'health_path': 'health' does not start with '/'"},
      {"http_client", Kind::sink, "      url: ftp://example.com/\n", 9, 12,
       "option 'url': 'ftp://example.com/': expected a URL starting with http:// or https://"},
      {"http_client", Kind::sink, "      url: http://example.com/\n      tls_ca: /etc/ca.pem\n", 10, 15,
       "option 'tls_ca': is set but the url is not https"},
      {"http_client", Kind::sink, "      url: http://example.com/\n      headers: {'X Tenant': x}\n", 10, 29,
       "option 'headers.X Tenant': is not a header name"},
  };
  return list;
}

// reject_option calls made in start(), not in the constructor: validation
// cannot find those (they depend on the world when the pipeline starts).
const std::map<std::string, int> refusals_in_start = {{"sinks/file/file.cpp", 1}, {"sources/file/file.cpp", 2}};

std::string source_file(const Refusal& r) {
  const std::string folder = r.kind == Kind::source ? "sources" : r.kind == Kind::processor ? "processors" : "sinks";
  return fmt::format("{}/{}/{}.cpp", folder, r.plugin, r.plugin);
}

}  // namespace

TEST_CASE("each refusal of a standard plugin's constructor is reported at its option", "[plugins][validate]") {
  for (const Refusal& r : refusals()) {
    const std::string yaml = pipeline(r);
    INFO(yaml);
    try {
      (void)weir::load_pipeline_string(yaml, registry(), {}, "refusal.yaml");
      FAIL("accepted");
    } catch (const weir::ConfigError& e) {
      REQUIRE(e.diagnostics().size() == 1);
      const weir::Diagnostic& d = e.diagnostics().front();
      INFO(d.to_string());
      CHECK(d.line == r.line);
      CHECK(d.column == r.column);
      CHECK_THAT(d.message, Catch::Contains("stage 'subject'") && Catch::Contains(r.says));
    }
  }
}

TEST_CASE("every reject_option call in a constructor of a standard plugin has a case above", "[plugins][validate]") {
  std::map<std::string, int> cases;
  for (const Refusal& r : refusals()) ++cases[source_file(r)];
  for (const auto& entry : std::filesystem::recursive_directory_iterator(WEIR_TEST_PLUGIN_SOURCES)) {
    if (entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    int calls = 0;
    for (auto at = source.find("reject_option("); at != std::string::npos; at = source.find("reject_option(", at + 1))
      ++calls;
    const std::string file = std::filesystem::relative(entry.path(), WEIR_TEST_PLUGIN_SOURCES).string();
    const auto in_start = refusals_in_start.find(file);
    const int expected = calls - (in_start == refusals_in_start.end() ? 0 : in_start->second);
    INFO(file << " calls reject_option " << calls << " times");
    CHECK(cases[file] >= expected);
  }
}
