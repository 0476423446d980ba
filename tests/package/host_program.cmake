cmake_minimum_required(VERSION 3.25)

# Run by ctest (see CMakeLists.txt here) after package:out-of-tree-plugin has
# installed the build into PREFIX: builds the example host program of
# docs/embedding.md against the installed package with find_package(weir),
# the way a host application does, and runs it. EXAMPLE_DIR, PREFIX,
# WORK_DIR, GENERATOR, CXX_COMPILER.

include("${CMAKE_CURRENT_LIST_DIR}/package_steps.cmake")

if(NOT EXISTS "${PREFIX}/lib/cmake/weir/weirConfig.cmake")
  message(FATAL_ERROR "no installed weir in ${PREFIX}: package:out-of-tree-plugin installs it first")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")

step("configuring the host program against the installed weir"
  ${CMAKE_COMMAND} -S "${EXAMPLE_DIR}" -B "${WORK_DIR}" -G "${GENERATOR}"
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_PREFIX_PATH=${PREFIX}"
  "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Wpedantic -Werror")
step("building the host program" ${CMAKE_COMMAND} --build "${WORK_DIR}")

# Outside the prefix, the program finds the installed standard plugins the
# way docs/embedding.md tells a host to.
set(ENV{WEIR_PLUGIN_PATH} "${PREFIX}/lib/weir/plugins")
step("running the host program" "${WORK_DIR}/host_example")
expect("host_example" "${step_output}" "yaml: drained, 3 orders" "code: drained, 3 answers, 8 logged")
