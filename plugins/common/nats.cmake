# cnats, the NATS C client with JetStream (Debian: libnats-dev), for the nats
# source and sink. Found with pkg-config: Debian's CMake package config also
# names a static library the package does not ship, and fails.
if(NOT TARGET PkgConfig::libnats)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(libnats REQUIRED IMPORTED_TARGET GLOBAL libnats)
endif()
