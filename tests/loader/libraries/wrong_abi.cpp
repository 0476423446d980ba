// A descriptor as a plugin built against a future SDK would export it: the
// handshake says ABI version sdk_abi_version + 1, and everything after the
// handshake is deliberately unusable, so a loader that read past the
// handshake would crash instead of reporting.
#include <weir/plugin.hpp>

namespace {
const weir::PluginDescriptor future_descriptor{.abi_version = weir::sdk_abi_version + 1,
                                               .weir_version = "99.0.0",
                                               .kind = static_cast<weir::Kind>(99)};
}  // namespace

BOOST_DLL_ALIAS(future_descriptor, weir_plugin_test_future)
