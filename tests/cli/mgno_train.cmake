# A tiny run of examples/operators/darcy_mgno.yaml (17 x 17 grid, 3 levels, 6 channels):
# every output is written; the test error falls below the untrained model's by FACTOR; a
# run stopped after 30 steps resumes to the same final loss as an uninterrupted one; 2
# MPI ranks (sharing each batch) end at the same loss to 1e-5 (float32); kpde eval runs
# the model on the resolution test's 33 x 33 inputs and reports the error; configs that
# cannot work exit 2 naming the key. The 33 x 33 resolution test is reported natively
# and resampled through the training grid.
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})
set(tiny --set data.cache=${DIR}/cache --quiet --set data.train.set.grid=17 --set data.train.n=32
    --set data.test.set.grid=17 --set data.test.n=8 --set data.resolution_tests[0].set.grid=33
    --set data.resolution_tests[0].n=4 --set model.channels=6 --set model.layers=2 "--set" "model.smoothing=[1, 1, 2]"
    --set training.batch=4 --set training.stages[0].steps=80 --set training.stages[0].lr=3.0e-3
    --set training.checkpoint_every=10 --set training.monitor_every=20)
include(${CMAKE_CURRENT_LIST_DIR}/run_checked.cmake)
run("kpde train" ${KPDE} train ${CONFIG} ${tiny} --out ${DIR}/run)
foreach(f model.h5 metrics.json loss.png history.h5 checkpoint.h5 config.resolved.yaml test_median_prediction.png
          test_worst_error.png)
  if(NOT EXISTS ${DIR}/run/${f})
    message(FATAL_ERROR "kpde train (${CONFIG}) did not write ${f}")
  endif()
endforeach()
file(READ ${DIR}/run/metrics.json m)
string(JSON mean GET "${m}" test_rel_l2_mean)
string(JSON loss_whole GET "${m}" final_loss)
string(JSON fine GET "${m}" resolution_tests grid169 rel_l2_mean)
string(JSON fine_grid GET "${m}" resolution_tests grid169 grid)
string(JSON fine_resampled GET "${m}" resolution_tests grid169 resampled rel_l2_mean)
if(NOT fine_grid EQUAL 33)
  message(FATAL_ERROR "the resolution test ran on a ${fine_grid} grid, expected 33")
endif()
run("kpde train, untrained" ${KPDE} train ${CONFIG} ${tiny} --set "training.stages=[{type: adam, steps: 1, lr: 1.0e-12}]"
    --out ${DIR}/untrained)
file(READ ${DIR}/untrained/metrics.json m0)
string(JSON mean0 GET "${m0}" test_rel_l2_mean)
execute_process(COMMAND ${NEAR} --less ${mean} ${mean0} RESULT_VARIABLE rc_less OUTPUT_QUIET)
execute_process(COMMAND ${NEAR} ${mean0} ${mean} ${FACTOR} RESULT_VARIABLE rc_near OUTPUT_QUIET)
if(NOT rc_less EQUAL 0 OR rc_near EQUAL 0)
  message(FATAL_ERROR "training did not lower the test error by the factor ${FACTOR}: untrained ${mean0}, trained ${mean}")
endif()
message(STATUS "untrained ${mean0} -> trained ${mean} (33 x 33 zero-shot ${fine}, resampled ${fine_resampled})")
# stop after 30 steps, resume: the same final loss (the batches are replayed)
run("kpde train --stop-after-steps" ${KPDE} train ${CONFIG} ${tiny} --stop-after-steps 30 --out ${DIR}/parts)
run("kpde train --resume" ${KPDE} train ${CONFIG} ${tiny} --resume ${DIR}/parts)
file(READ ${DIR}/parts/metrics.json mp)
string(JSON loss_parts GET "${mp}" final_loss)
if(NOT loss_parts STREQUAL loss_whole)
  message(FATAL_ERROR "resumed run ends at ${loss_parts}, uninterrupted at ${loss_whole}")
endif()
if(MPIEXEC)
  run("mpirun -n 2 kpde train" ${MPIEXEC} -n 2 --oversubscribe ${KPDE} train ${CONFIG} ${tiny} --out ${DIR}/ranks)
  file(READ ${DIR}/ranks/metrics.json mr)
  string(JSON loss_ranks GET "${mr}" final_loss)
  execute_process(COMMAND ${NEAR} ${loss_ranks} ${loss_whole} 1e-5 RESULT_VARIABLE rc OUTPUT_VARIABLE o)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "2 ranks end at ${loss_ranks}, 1 rank at ${loss_whole}\n${o}")
  endif()
endif()
# kpde eval on the 33 x 33 inputs: a row per node and sample, the error printed
file(GLOB cached ${DIR}/cache/darcy-n4-*.h5)
run("kpde eval" ${KPDE} eval ${DIR}/run/model.h5 --inputs ${cached} --out ${DIR}/eval.csv)
if(NOT out MATCHES "4 inputs on a 33 x 33 grid.*rel_l2 mean.*resampled .*rel_l2 mean")
  message(FATAL_ERROR "kpde eval printed: ${out}")
endif()
file(STRINGS ${DIR}/eval.csv rows)
list(LENGTH rows nrows)
if(NOT nrows EQUAL 4357)  # a header and 4 x 33^2 rows
  message(FATAL_ERROR "eval.csv has ${nrows} lines, expected 4357")
endif()
# configs that cannot work
foreach(bad "model.smoothing=[1, 1, 1, 1, 1, 1]|too small for 6 levels"
            "data.train={generate: ${ROOT}/examples/generate/antiderivative.yaml, n: 8, seed: 0}|gridded data"
            "model.padding=mirror|padding 'mirror'"
            "data.test.set.grid=21|differ from the training data")
  string(REPLACE "|" ";" parts "${bad}")
  list(GET parts 0 set)
  list(GET parts 1 word)
  execute_process(COMMAND ${KPDE} train ${CONFIG} ${tiny} --set "${set}" --out ${DIR}/bad RESULT_VARIABLE rc ERROR_VARIABLE e)
  # the key is named by its line in the config, or by the --set that gave it
  if(NOT rc EQUAL 2 OR NOT e MATCHES "(darcy_mgno\\.yaml:[0-9]+:[0-9]+|--set [a-z_.0-9]+): .*${word}")
    message(FATAL_ERROR "--set ${set}: exit ${rc}, expected 2 naming the key and '${word}'\n${e}")
  endif()
endforeach()
file(REMOVE_RECURSE ${DIR})
