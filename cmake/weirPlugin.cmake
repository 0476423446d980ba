# weir_add_plugin(NAME [SOURCES] src... [LIBRARIES lib...] [OUTPUT_DIRECTORY dir])
#
# Builds a weir plugin library: a MODULE (loaded with dlopen, never linked
# against) with hidden visibility, so only its WEIR_PLUGIN descriptors are
# exported, linked to the SDK (weir::framework, a shared library: the host and
# every plugin share one copy of the SDK's type information).
#
# The library is written to OUTPUT_DIRECTORY, by default WEIR_PLUGIN_OUTPUT_DIR:
#   - in weir's own tree, lib/weir/plugins of the build tree, where bin/weir
#     finds its built-in plugins;
#   - out of tree after find_package(weir), <build>/plugins, which a pipeline
#     names in its plugin_path (or WEIR_PLUGIN_PATH names).
# Out of tree, `cmake --install` also puts it in <prefix>/lib/weir/plugins.
function(weir_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  set(sources ${ARG_SOURCES} ${ARG_UNPARSED_ARGUMENTS})
  if(NOT sources)
    message(FATAL_ERROR "weir_add_plugin(${name}): no SOURCES given")
  endif()
  set(output_dir "${WEIR_PLUGIN_OUTPUT_DIR}")
  if(ARG_OUTPUT_DIRECTORY)
    set(output_dir "${ARG_OUTPUT_DIRECTORY}")
  endif()
  if(NOT output_dir)
    set(output_dir "${CMAKE_BINARY_DIR}/plugins")
  endif()

  add_library(${name} MODULE ${sources})
  set(in_weir_tree FALSE)
  if(TARGET weir_framework)
    set(in_weir_tree TRUE)
    target_link_libraries(${name} PRIVATE weir_framework ${ARG_LIBRARIES})
  else()
    target_link_libraries(${name} PRIVATE weir::framework ${ARG_LIBRARIES})
  endif()
  if(TARGET weir_warnings)
    target_link_libraries(${name} PRIVATE weir_warnings)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "weir_${name}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${output_dir}")
  # GCC marks some template statics (std::regex's among them) as GNU-unique
  # symbols, and glibc never unloads a library once one is bound: the plugin
  # would stay mapped after its last stage is gone. Plain weak symbols unload.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${name} PRIVATE -fno-gnu-unique)
  endif()

  if(in_weir_tree)
    # Built-in plugins are installed as one folder by plugins/CMakeLists.txt.
    if(TARGET weir_plugins AND NOT ARG_OUTPUT_DIRECTORY)
      add_dependencies(weir_plugins ${name})
    endif()
  else()
    # The folder the installed weir searches, relative to the install prefix.
    if(NOT WEIR_PLUGIN_INSTALL_DIR)
      include(GNUInstallDirs)
      set(WEIR_PLUGIN_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/weir/plugins")
    endif()
    install(TARGETS ${name} LIBRARY DESTINATION "${WEIR_PLUGIN_INSTALL_DIR}")
  endif()
endfunction()
