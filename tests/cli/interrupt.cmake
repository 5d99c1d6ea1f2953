# SIGINT during training: kpde stops after the step in progress, keeps a checkpoint that
# --resume accepts, says so, and exits 130.
file(REMOVE_RECURSE ${DIR})
execute_process(COMMAND sh -c "\"${KPDE}\" solve \"${CONFIG}\" --out \"${DIR}\" --n 21 --quiet & pid=$!; sleep 3; kill -INT $pid; wait $pid"
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(NOT rc EQUAL 130 OR NOT e MATCHES "interrupted after [0-9]+ steps: the checkpoint is [^ ]*/checkpoint.h5 \\(continue with --resume")
  message(FATAL_ERROR "kpde solve interrupted: exit ${rc}, expected 130\n${o}\n${e}")
endif()
if(NOT EXISTS ${DIR}/checkpoint.h5 OR EXISTS ${DIR}/solution.h5)
  message(FATAL_ERROR "after an interrupt: a checkpoint and no solution expected")
endif()
execute_process(COMMAND ${KPDE} solve ${CONFIG} --resume ${DIR} --n 21 --quiet --max-wall 1
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(NOT rc EQUAL 0 OR NOT o MATCHES "rel_l2=")
  message(FATAL_ERROR "kpde solve --resume after an interrupt: exit ${rc}\n${o}\n${e}")
endif()
message(STATUS "${e}")
