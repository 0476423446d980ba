// A shared library with exports, none of them a weir descriptor.
#include <boost/config.hpp>

extern "C" BOOST_SYMBOL_EXPORT int weir_test_not_a_plugin() { return 42; }
