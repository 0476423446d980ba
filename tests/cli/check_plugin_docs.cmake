cmake_minimum_required(VERSION 3.25)

# Generates the plugin reference pages afresh (FRESH) from the built-in
# plugins and compares them with the committed ones (COMMITTED), page by page.

set(ENV{WEIR_PLUGIN_PATH} "")  # only the built-in plugins belong in the docs
file(REMOVE_RECURSE "${FRESH}")
execute_process(COMMAND "${WEIR}" plugins --docs "${FRESH}" RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "weir plugins --docs failed (exit ${code}):\n${out}${err}")
endif()

file(GLOB fresh_pages RELATIVE "${FRESH}" "${FRESH}/*.md")
file(GLOB committed_pages RELATIVE "${COMMITTED}" "${COMMITTED}/*.md")
set(problems "")
foreach(page IN LISTS fresh_pages)
  if(NOT page IN_LIST committed_pages)
    string(APPEND problems "  docs/plugins/${page} is missing\n")
  else()
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${FRESH}/${page}" "${COMMITTED}/${page}"
                    RESULT_VARIABLE differs)
    if(differs)
      string(APPEND problems "  docs/plugins/${page} differs from what the plugin declares\n")
    endif()
  endif()
endforeach()
foreach(page IN LISTS committed_pages)
  if(NOT page IN_LIST fresh_pages)
    string(APPEND problems "  docs/plugins/${page} describes a plugin that no longer exists\n")
  endif()
endforeach()
if(problems)
  message(FATAL_ERROR "docs/plugins/ is stale:\n${problems}"
                      "Regenerate it with `tools/weir plugins --docs docs/plugins` (or build the "
                      "weir_plugin_docs target) and commit the result. Fresh pages: ${FRESH}")
endif()
