#pragma once
// The examples check what they get, so ctest catches an example that no
// longer does what docs/embedding.md says: a failed expectation is printed
// and makes the program exit 1.

#include <cstdio>
#include <string>

namespace example {

inline int failures = 0;

inline void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++failures;
  }
}

inline int exit_code() { return failures == 0 ? 0 : 1; }

}  // namespace example
