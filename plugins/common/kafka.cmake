# librdkafka, the Kafka C client (Debian: librdkafka-dev), for the kafka source
# and sink. Found with pkg-config, as Debian ships no CMake package config.
if(NOT TARGET PkgConfig::rdkafka)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(rdkafka REQUIRED IMPORTED_TARGET GLOBAL rdkafka)
endif()
