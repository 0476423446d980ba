// One of two libraries in one folder that both export processor test_dup.
#include "test_stages.hpp"

WEIR_PLUGIN(test_dup_b, processor, "test_dup", "Duplicate b (test library)", weir_test::Passthrough,
            weir_test::no_options, "")
