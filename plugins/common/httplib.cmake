# cpp-httplib (Debian: libcpp-httplib-dev, a compiled library built with
# OpenSSL, zlib and brotli) for the http_server source and http_client sink.
# Its pkg-config file carries the CPPHTTPLIB_*_SUPPORT definitions the
# library was built with; the header must see the same ones. OpenSSL
# (libssl-dev) itself for the http_server source's TLS connections.
if(NOT TARGET PkgConfig::weir_httplib)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(weir_httplib REQUIRED IMPORTED_TARGET GLOBAL cpp-httplib)
  pkg_check_modules(weir_openssl REQUIRED IMPORTED_TARGET GLOBAL openssl)
endif()
