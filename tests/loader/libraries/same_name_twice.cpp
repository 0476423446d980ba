// One library exporting two processors with one name.
#include "test_stages.hpp"

WEIR_PLUGIN(first) {
    .name = "test_twice",
    .kind = weir::Kind::processor,
    .description = "First (test library)",
    .example = "",
    .create = weir::construct<weir::test::Passthrough>,
};
WEIR_PLUGIN(second) {
    .name = "test_twice",
    .kind = weir::Kind::processor,
    .description = "Second (test library)",
    .example = "",
    .create = weir::construct<weir::test::Passthrough>,
};
