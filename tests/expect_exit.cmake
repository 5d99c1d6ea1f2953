# Runs ${KPDE} with ${ARGS} (a ;-list) and fails unless it exits with ${EXPECT} and
# prints an error message on stderr.
execute_process(COMMAND ${KPDE} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL ${EXPECT})
  message(FATAL_ERROR "kpde ${ARGS}: exit ${rc}, expected ${EXPECT}\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT err MATCHES "kpde: error: ")
  message(FATAL_ERROR "kpde ${ARGS}: no 'kpde: error:' message on stderr: ${err}")
endif()
message(STATUS "exit ${rc}: ${err}")
