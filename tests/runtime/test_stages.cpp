#include "test_stages.hpp"

WEIR_PLUGIN(test_seq, source, "seq", "numbered messages", weir::test::SeqSource, weir::test::SeqSource::options, "")
WEIR_PLUGIN(test_pass, processor, "pass", "passes, filters, fans out, fails", weir::test::PassProcessor,
            weir::test::PassProcessor::options, "")
WEIR_PLUGIN(test_collect, sink, "collect", "records what arrives", weir::test::CollectSink,
            weir::test::CollectSink::options, "")
WEIR_PLUGIN(test_ack_seq, source, "ack_seq", "numbered messages with acknowledgements", weir::test::AckSeqSource,
            weir::test::AckSeqSource::options, "")
WEIR_PLUGIN(test_hold, sink, "hold", "holds acknowledgements until flush", weir::test::HoldSink,
            weir::test::HoldSink::options, "")
WEIR_PLUGIN(test_gate, sink, "gate", "blocks until released", weir::test::GateSink, weir::test::GateSink::options, "")

namespace weir::test {

void register_test_stages(PluginRegistry& registry) {
  registry.add(weir_plugin_detail_test_seq::descriptor);
  registry.add(weir_plugin_detail_test_pass::descriptor);
  registry.add(weir_plugin_detail_test_collect::descriptor);
  registry.add(weir_plugin_detail_test_gate::descriptor);
  registry.add(weir_plugin_detail_test_ack_seq::descriptor);
  registry.add(weir_plugin_detail_test_hold::descriptor);
}

}  // namespace weir::test
