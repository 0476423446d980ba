cmake_minimum_required(VERSION 3.25)

# Run by ctest (see CMakeLists.txt here): BUILD_DIR, WORK_DIR, GENERATOR,
# CXX_COMPILER, and PACKAGE: `installed` (find_package(weir) from an install
# prefix made from the build) or `build-tree` (-Dweir_DIR=BUILD_DIR, nothing
# installed). Every step that fails stops the test with what it printed.

include("${CMAKE_CURRENT_LIST_DIR}/package_steps.cmake")

# The author's environment must not leak in: only what the test names counts.
set(ENV{WEIR_PLUGIN_PATH} "")
file(REMOVE_RECURSE "${WORK_DIR}")

if(PACKAGE STREQUAL "installed")
  set(prefix "${WORK_DIR}/prefix")
  set(weir "${prefix}/bin/weir")
  set(find_weir "-DCMAKE_PREFIX_PATH=${prefix}")
  step("installing the build" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
elseif(PACKAGE STREQUAL "build-tree")
  set(weir "${BUILD_DIR}/bin/weir")
  set(find_weir "-Dweir_DIR=${BUILD_DIR}")
else()
  message(FATAL_ERROR "PACKAGE must be installed or build-tree, not '${PACKAGE}'")
endif()

# new-plugin NAME KIND, then what `weir plugins NAME` and the project's own
# pipeline must print.
function(check_new_plugin name kind description)
  cmake_parse_arguments(ARG "" "" "RUN_PRINTS" ${ARGN})
  set(project "${WORK_DIR}/${name}")
  step("weir new-plugin ${name}" "${weir}" new-plugin ${name} --kind ${kind} --dir "${project}")
  step("configuring ${name} against the ${PACKAGE} weir (${find_weir})"
    ${CMAKE_COMMAND} -S "${project}" -B "${project}/build" -G "${GENERATOR}"
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "${find_weir}"
    "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Wpedantic -Werror")
  step("building ${name}" ${CMAKE_COMMAND} --build "${project}/build")
  # Named for its one plugin, so weir opens it only when a pipeline uses it.
  if(NOT EXISTS "${project}/build/plugins/libweir_${kind}_${name}.so")
    message(FATAL_ERROR "the build of ${name} did not write build/plugins/libweir_${kind}_${name}.so")
  endif()

  step("weir plugins --plugin-path" "${weir}" plugins --plugin-path "${project}/build/plugins" ${name})
  expect("weir plugins ${name}" "${step_output}" "${name} (${kind})" "${description}" "Example stage:")

  # The project's own pipeline, from its own folder: plugin_path is relative
  # to the YAML, the built-in generate and stdout plugins come from the prefix.
  execute_process(COMMAND "${weir}" run pipeline.yaml WORKING_DIRECTORY "${project}"
    RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "${name}: weir run pipeline.yaml exited ${code}:\n${out}${err}")
  endif()
  expect("${name}: weir run pipeline.yaml" "${out}" ${ARG_RUN_PRINTS})
endfunction()

check_new_plugin(shout processor "Upper-cases each payload and appends a suffix"
  RUN_PRINTS "HELLO 0!\n" "HELLO 1!\n" "HELLO 2!\n" "HELLO 3!\n" "HELLO 4!\n")
check_new_plugin(greet source "Produces numbered greetings"
  RUN_PRINTS "hello 0\n" "hello 4\n")
check_new_plugin(show sink "Prints payloads behind a prefix"
  RUN_PRINTS "show: hello 0\n" "show: hello 4\n")

if(NOT PACKAGE STREQUAL "installed")
  return()
endif()
# Installed next to weir's own plugins, a plugin needs no plugin path at all.
step("installing shout" ${CMAKE_COMMAND} --install "${WORK_DIR}/shout/build" --prefix "${prefix}")
step("weir plugins after install" "${weir}" plugins shout)
expect("weir plugins shout (installed)" "${step_output}" "${prefix}/lib/weir/plugins/libweir_processor_shout.so")
