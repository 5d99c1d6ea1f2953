# Training whose loss becomes NaN (here: a source sqrt(0.99 - x^2) that is NaN for
# |x| > 0.995, hit once resampling draws such a point) must stop with exit code 1 and a
# message naming the step, keep the last good checkpoint, and write no results.
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${KPDE} solve ${CONFIG} --out ${OUT} --quiet --set training.interior.n=32
                        --set training.boundary.n=16 --set model.width=8 --set model.depth=2
                        --set "problem.source=sqrt(0.99 - x^2)" --set training.interior.resample_every=3
                        --set training.checkpoint_every=3 --set training.interior.method=uniform
                        --set "training.stages[0].steps=40" --set "training.stages[1].steps=5"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "expected exit code 1, got ${rc}:\n${out}\n${err}")
endif()
if(NOT err MATCHES "training diverged: the loss is nan .residual term nan.* at step [0-9]+\\. The last good checkpoint is .*checkpoint.h5 \\(step [0-9]+\\)")
  message(FATAL_ERROR "unexpected message:\n${err}")
endif()
if(NOT EXISTS ${OUT}/checkpoint.h5)
  message(FATAL_ERROR "the last good checkpoint is gone")
endif()
foreach(f metrics.json solution.h5)
  if(EXISTS ${OUT}/${f})
    message(FATAL_ERROR "a diverged run wrote ${f}")
  endif()
endforeach()
