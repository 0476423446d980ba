cmake_minimum_required(VERSION 3.25)

# Runs WEIR with the arguments after `--`, then checks its exit code against
# EXPECTED_EXIT and its output (stdout and stderr together) against the regex
# EXPECTED, showing everything when either differs.
set(args "")
set(collect FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(collect)
    list(APPEND args "${CMAKE_ARGV${i}}")
  elseif("${CMAKE_ARGV${i}}" STREQUAL "--")
    set(collect TRUE)
  endif()
endforeach()
execute_process(COMMAND "${WEIR}" ${args} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
string(REGEX REPLACE "\n" " " flat "${all}")
if(NOT code STREQUAL EXPECTED_EXIT)
  message(FATAL_ERROR "weir ${args}\nexited ${code}, expected ${EXPECTED_EXIT}; output:\n${all}")
endif()
if(NOT flat MATCHES "${EXPECTED}")
  message(FATAL_ERROR "weir ${args}\noutput does not match '${EXPECTED}':\n${all}")
endif()
