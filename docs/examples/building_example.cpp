// Building a pipeline in code (docs/embedding.md, "Building a pipeline in
// code"): a YAML start with overrides (from_string's second parameter), an
// object stage given by kind, and its StageContext. Built and run by ctest
// (embed:doc-example:building_example).

#include "expect.hpp"

#include <weir/host.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

// doc:begin object
// An object stage: one instance per replica, so its members need no lock.
class Tagger final : public weir::Processor {
 public:
  explicit Tagger(const weir::StageContext& context)
      : tag_(context.stage + "#" + std::to_string(context.replica)), stop_(context.stop) {}
  void process(weir::Message& m, weir::Emitter& out) override {
    if (stop_.stop_requested()) return;  // the stop was forced: give up long work
    m.attributes.set("tagged_by", tag_);
    out.emit(std::move(m));
  }

 private:
  std::string tag_;
  std::stop_token stop_;  // requested when the stop is forced
};
// doc:end object

int main() {
  std::atomic<int> seen{0};
  // doc:begin building
  const std::string yaml = R"(
pipeline: numbers
stages:
  numbers: {plugin: generate, config: {count: 1000}}
)";
  // The second parameter: overrides, as `weir run --set` gives them
  // ("stage.config.key=value", parsed by weir::parse_override). The third and
  // fourth name the text in diagnostics and anchor its relative paths.
  weir::PipelineBuilder b = weir::PipelineBuilder::from_string(yaml, {weir::parse_override("numbers.config.count=5")},
                                                               "numbers.yaml", std::filesystem::current_path());
  b.stop_grace(std::chrono::milliseconds(500));  // how long a forced stop waits for stage code
  // b.stage(name, kind, maker): `kind` says which interface the made object
  // implements (weir::Kind::source, processor or sink); the maker runs once per
  // replica. b.stage<Tagger>("tag") is the same, with the kind taken from Tagger.
  b.stage("tag", weir::Kind::processor,
          [](const weir::StageContext& context) -> std::unique_ptr<weir::Stage> {
            return std::make_unique<Tagger>(context);
          })
      .input("numbers")
      .replicas(2);
  b.sink("count", [&seen](const weir::Message& m) {
     if (m.attributes.find("tagged_by")) seen.fetch_add(1);
   }).input("tag");
  weir::HostPipeline pipeline(std::move(b));
  // doc:end building
  pipeline.start();
  const weir::RunReport report = pipeline.wait();
  std::printf("%d tagged, %s\n", seen.load(), std::string(weir::to_string(report.status)).c_str());
  example::expect(seen.load() == 5, "the override made it five");
  example::expect(report.status == weir::RunStatus::drained, "drained");
  return example::exit_code();
}
