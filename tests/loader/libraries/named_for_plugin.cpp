// One processor in a library named for it (libweir_processor_NAME.so, as
// weir_add_plugin names a plugin's library): the registry opens such a
// library only when NAME is looked up. NAME and the description come from
// the build (tests/loader/CMakeLists.txt), so one source makes several.
#include "test_stages.hpp"

WEIR_PLUGIN(named_for_plugin) {
    .name = WEIR_TEST_PLUGIN_NAME,
    .kind = weir::Kind::processor,
    .description = WEIR_TEST_PLUGIN_DESCRIPTION,
    .example = "",
    .create = weir::construct<weir::test::Passthrough>,
};
