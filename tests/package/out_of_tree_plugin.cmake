cmake_minimum_required(VERSION 3.25)

# Run by ctest (see CMakeLists.txt here): BUILD_DIR, WORK_DIR, GENERATOR,
# CXX_COMPILER. Every step that fails stops the test with what it printed.

include("${CMAKE_CURRENT_LIST_DIR}/package_steps.cmake")

set(prefix "${WORK_DIR}/prefix")
set(project "${WORK_DIR}/shout")
set(weir "${prefix}/bin/weir")
# The author's environment must not leak in: only what the test names counts.
set(ENV{WEIR_PLUGIN_PATH} "")

file(REMOVE_RECURSE "${WORK_DIR}")
step("installing the build" ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")

step("weir new-plugin" "${weir}" new-plugin shout --kind processor --dir "${project}")

step("configuring the plugin against the installed weir"
  ${CMAKE_COMMAND} -S "${project}" -B "${project}/build" -G "${GENERATOR}"
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX_COMPILER} "-DCMAKE_PREFIX_PATH=${prefix}"
  "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Wpedantic -Werror")
step("building the plugin" ${CMAKE_COMMAND} --build "${project}/build")
if(NOT EXISTS "${project}/build/plugins/libweir_shout.so")
  message(FATAL_ERROR "the build did not write build/plugins/libweir_shout.so")
endif()

step("weir plugins --plugin-path" "${weir}" plugins --plugin-path "${project}/build/plugins" shout)
expect("weir plugins shout" "${step_output}"
  "shout (processor)" "Upper-cases each payload and appends a suffix" "suffix" "Example stage:")

# The project's own pipeline, from its own folder: plugin_path is relative to
# the YAML, the built-in generate and stdout plugins come from the prefix.
execute_process(COMMAND "${weir}" run pipeline.yaml WORKING_DIRECTORY "${project}"
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "weir run pipeline.yaml exited ${code}:\n${out}${err}")
endif()
expect("weir run pipeline.yaml" "${out}" "HELLO 0!\n" "HELLO 1!\n" "HELLO 2!\n" "HELLO 3!\n" "HELLO 4!\n")

# Installed next to weir's own plugins, it needs no plugin path at all.
step("installing the plugin" ${CMAKE_COMMAND} --install "${project}/build" --prefix "${prefix}")
step("weir plugins after install" "${weir}" plugins shout)
expect("weir plugins shout (installed)" "${step_output}" "${prefix}/lib/weir/plugins/libweir_shout.so")
