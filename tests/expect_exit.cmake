# Runs ${KPDE} with ${ARGS} (a ;-list) and fails unless it exits with ${EXPECT} and
# prints an error message on stderr. Optional:
#   EXPECT_REGEX  stderr must also match this regular expression (CMake syntax) and hold
#                 exactly one "kpde: error:" message.
#   SCRATCH       a folder (in the build tree) for checking that the run writes nothing:
#                 the script makes a fresh empty folder RUN inside it, replaces @OUT@ in
#                 ARGS by RUN/out, runs kpde with RUN as its working directory (so default
#                 output folders such as kpde_out/ land there too), and fails unless RUN is
#                 still empty afterwards. Nothing that existed before is ever removed.
set(_cwd "")
if(DEFINED SCRATCH)
  string(RANDOM LENGTH 12 _tag)
  set(_run "${SCRATCH}/run_${_tag}")
  if(EXISTS "${_run}")
    message(FATAL_ERROR "scratch folder ${_run} exists already")
  endif()
  file(MAKE_DIRECTORY "${_run}")
  string(REPLACE "@OUT@" "${_run}/out" ARGS "${ARGS}")
  set(_cwd WORKING_DIRECTORY "${_run}")
endif()
execute_process(COMMAND ${KPDE} ${ARGS} ${_cwd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL ${EXPECT})
  message(FATAL_ERROR "kpde ${ARGS}: exit ${rc}, expected ${EXPECT}\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT err MATCHES "kpde: error: ")
  message(FATAL_ERROR "kpde ${ARGS}: no 'kpde: error:' message on stderr: ${err}")
endif()
if(DEFINED EXPECT_REGEX)
  if(NOT err MATCHES "${EXPECT_REGEX}")
    message(FATAL_ERROR "kpde ${ARGS}: the message does not match '${EXPECT_REGEX}':\n${err}")
  endif()
  string(REGEX MATCHALL "kpde: error: " _errors "${err}")
  list(LENGTH _errors _n_errors)
  if(NOT _n_errors EQUAL 1)
    message(FATAL_ERROR "kpde ${ARGS}: ${_n_errors} error messages, expected one:\n${err}")
  endif()
endif()
if(DEFINED SCRATCH)
  file(GLOB_RECURSE _written LIST_DIRECTORIES true "${_run}/*")
  if(_written)
    message(FATAL_ERROR "kpde ${ARGS}: exited ${rc} but wrote: ${_written}")
  endif()
  file(REMOVE_RECURSE "${_run}")  # the empty folder this script made above
endif()
message(STATUS "exit ${rc}: ${err}")
