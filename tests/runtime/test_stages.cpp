#include "test_stages.hpp"

namespace weir::test {

WEIR_PLUGIN(test_seq) {
    .name = "seq",
    .kind = Kind::source,
    .description = "numbered messages",
    .options = {SeqSource::count, SeqSource::kinds},
    .example = "",
    .create = construct<SeqSource>,
};
WEIR_PLUGIN(test_pass) {
    .name = "pass",
    .kind = Kind::processor,
    .description = "passes, filters, fans out, fails",
    .options = {PassProcessor::fanout, PassProcessor::filter_every, PassProcessor::fail_every,
                PassProcessor::fail_attempts, PassProcessor::retryable, PassProcessor::work_us},
    .example = "",
    .create = construct<PassProcessor>,
};
WEIR_PLUGIN(test_collect) {
    .name = "collect",
    .kind = Kind::sink,
    .description = "records what arrives",
    .options = {CollectSink::work_us},
    .example = "",
    .create = construct<CollectSink>,
};
WEIR_PLUGIN(test_gate) {
    .name = "gate",
    .kind = Kind::sink,
    .description = "blocks until released",
    .example = "",
    .create = construct<GateSink>,
};

WEIR_PLUGIN(test_ack_seq) {
    .name = "ack_seq",
    .kind = Kind::source,
    .description = "numbered messages with acknowledgements",
    .options = {AckSeqSource::count},
    .example = "",
    .create = construct<AckSeqSource>,
};
WEIR_PLUGIN(test_hold) {
    .name = "hold",
    .kind = Kind::sink,
    .description = "holds acknowledgements until flush",
    .example = "",
    .create = construct<HoldSink>,
};

void register_test_stages(PluginRegistry& registry) {
  registry.add(weir_plugin_descriptor_test_seq);
  registry.add(weir_plugin_descriptor_test_pass);
  registry.add(weir_plugin_descriptor_test_collect);
  registry.add(weir_plugin_descriptor_test_gate);
  registry.add(weir_plugin_descriptor_test_ack_seq);
  registry.add(weir_plugin_descriptor_test_hold);
}

}  // namespace weir::test
