// A second processor named test_upper, in its own folder: whichever folder
// comes first in the search path wins.
#include "test_stages.hpp"

WEIR_PLUGIN(shadow_upper, processor, "test_upper", "Shadowing copy (test library)", weir_test::Passthrough,
            weir_test::no_options, "")
