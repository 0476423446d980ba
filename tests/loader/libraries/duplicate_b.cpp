// One of two libraries in one folder that both export processor test_dup.
#include "test_stages.hpp"

WEIR_PLUGIN(test_dup_b) {
    .name = "test_dup",
    .kind = weir::Kind::processor,
    .description = "Duplicate b (test library)",
    .example = "",
    .create = weir::construct<weir::test::Passthrough>,
};
