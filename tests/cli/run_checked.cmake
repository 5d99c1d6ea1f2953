# run(what COMMAND...): runs the command; a nonzero exit fails the test with its output.
# Its standard output is left in `out` in the caller's scope.
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what}: exit ${rc}\n${o}\n${e}")
  endif()
  set(out "${o}" PARENT_SCOPE)
endfunction()
