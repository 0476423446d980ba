# weir_add_plugin(NAME SOURCES...) builds a weir plugin library: a MODULE with
# hidden visibility, linked to the SDK, written to WEIR_PLUGIN_OUTPUT_DIR.
# It works the same in weir's own tree and, after find_package(weir), out of tree.
function(weir_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBRARIES" ${ARGN})
  set(sources ${ARG_SOURCES} ${ARG_UNPARSED_ARGUMENTS})
  add_library(${name} MODULE ${sources})
  if(TARGET weir::framework)
    target_link_libraries(${name} PRIVATE weir::framework ${ARG_LIBRARIES})
  else()
    target_link_libraries(${name} PRIVATE weir_framework ${ARG_LIBRARIES})
  endif()
  if(TARGET weir_warnings)
    target_link_libraries(${name} PRIVATE weir_warnings)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "weir_${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${WEIR_PLUGIN_OUTPUT_DIR}")
endfunction()
