#pragma once
// What a plugin threw, as text for a message naming the stage: what() of a
// std::exception, else the thrown type's name. A plugin may throw anything
// (an int, a type of its own), and every hook the runtime calls catches it.

#include <boost/core/demangle.hpp>

#include <cxxabi.h>
#include <exception>
#include <string>

namespace weir::runtime {

// Call only inside a catch block.
inline std::string current_exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return type ? "an exception of type " + boost::core::demangle(type->name()) + " (not a std::exception)"
                : std::string("an unknown exception");
  }
}

}  // namespace weir::runtime
