// One of two libraries in one folder that both export processor test_dup.
#include "test_stages.hpp"

WEIR_PLUGIN(test_dup_a, processor, "test_dup", "Duplicate a (test library)", weir_test::Passthrough,
            weir_test::no_options, "")
