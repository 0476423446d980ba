// A second processor named test_upper, in its own folder: whichever folder
// comes first in the search path wins.
#include "test_stages.hpp"

WEIR_PLUGIN(shadow_upper) {
    .name = "test_upper",
    .kind = weir::Kind::processor,
    .description = "Shadowing copy (test library)",
    .example = "",
    .create = weir::construct<weir::test::Passthrough>,
};
