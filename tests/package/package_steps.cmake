# Helpers for the package tests' scripts (include()d, run with cmake -P).

# step(WHAT COMMAND...): runs COMMAND; on a non-zero exit stops the test with
# WHAT and everything the command printed. Sets step_output (stdout and
# stderr) in the caller.
function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "${what} failed (exit ${code}):\n${ARGN}\n${out}${err}")
  endif()
  set(step_output "${out}${err}" PARENT_SCOPE)
endfunction()

# expect(WHAT TEXT LINE...): every LINE must occur in TEXT.
function(expect what text)
  foreach(line IN LISTS ARGN)
    string(FIND "${text}" "${line}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "${what}: expected to see '${line}' in:\n${text}")
    endif()
  endforeach()
endfunction()
