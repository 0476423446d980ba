// One library exporting two processors with one name.
#include "test_stages.hpp"

WEIR_PLUGIN(first, processor, "test_twice", "First (test library)", weir_test::Passthrough, weir_test::no_options, "")
WEIR_PLUGIN(second, processor, "test_twice", "Second (test library)", weir_test::Passthrough, weir_test::no_options, "")
