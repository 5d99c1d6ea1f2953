# kpde train with model.type deeponet or pi_deeponet (CONFIG) on a tiny antiderivative
# run (issue 16): the test error falls below half the untrained model's, every output is
# written, a run stopped after 40 steps resumes to the same final loss as an
# uninterrupted one, and 2 MPI ranks end at 1 rank's loss; bad data (files that are not
# antiderivative datasets, a test set with another sensor count) exits 2.
set(tiny --set data.train.n=200 --set data.test.n=50 --set training.batch=20 --set training.monitor_every=20
         --set training.checkpoint_every=20 --set "training.stages[0].steps=120" --set "training.stages[1].steps=5" --set model.basis=12
         --set model.branch.width=16 --set model.trunk.width=16 --set data.cache=${DIR}/cache --quiet)
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR})
include(${CMAKE_CURRENT_LIST_DIR}/run_checked.cmake)
run("kpde train" ${KPDE} train ${CONFIG} ${tiny} --out ${DIR}/whole)
foreach(f model.h5 metrics.json loss.png test_predictions.png history.h5 checkpoint.h5 config.resolved.yaml)
  if(NOT EXISTS ${DIR}/whole/${f})
    message(FATAL_ERROR "kpde train (${CONFIG}) did not write ${f}")
  endif()
endforeach()
file(READ ${DIR}/whole/metrics.json m)
string(JSON mean GET "${m}" test_rel_l2_mean)
string(JSON loss_whole GET "${m}" final_loss)
message(STATUS "120 steps: test rel_l2 mean ${mean}")
# against the untrained model (1 step at lr 1e-12): the trained test error is below half
run("kpde train, untrained" ${KPDE} train ${CONFIG} ${tiny} 
    --set "training.stages=[{type: adam, steps: 1, lr: 1.0e-12}]" --out ${DIR}/untrained)
file(READ ${DIR}/untrained/metrics.json m0)
string(JSON mean0 GET "${m0}" test_rel_l2_mean)
# (mean < mean0 and |mean0 - mean| > mean0 / 2: mean < mean0 / 2)
execute_process(COMMAND ${NEAR} --less ${mean} ${mean0} RESULT_VARIABLE rc_less OUTPUT_QUIET)
execute_process(COMMAND ${NEAR} ${mean0} ${mean} 0.5 RESULT_VARIABLE rc_near OUTPUT_QUIET)
if(NOT rc_less EQUAL 0 OR rc_near EQUAL 0)
  message(FATAL_ERROR "training did not halve the test error: untrained ${mean0}, trained ${mean}")
endif()
message(STATUS "untrained ${mean0} -> trained ${mean}")
# stop after 40 steps, resume: the same final loss (the batches are replayed)
run("kpde train --stop-after-steps 40" ${KPDE} train ${CONFIG} ${tiny} --out ${DIR}/parts --stop-after-steps 40)
run("kpde train --resume" ${KPDE} train ${CONFIG} ${tiny} --resume ${DIR}/parts)
file(READ ${DIR}/parts/metrics.json mp)
string(JSON loss_parts GET "${mp}" final_loss)
if(NOT loss_whole STREQUAL loss_parts)
  message(FATAL_ERROR "resumed run ends at ${loss_parts}, uninterrupted at ${loss_whole}")
endif()
# on 2 MPI ranks (each its share of every batch): the same final loss to rounding
if(MPIEXEC)
  run("mpirun -n 2 kpde train" ${MPIEXEC} -n 2 --oversubscribe ${KPDE} train ${CONFIG} ${tiny} --out ${DIR}/ranks)
  file(READ ${DIR}/ranks/metrics.json mr)
  string(JSON loss_ranks GET "${mr}" final_loss)
  string(JSON ranks GET "${mr}" mpi_ranks)
  execute_process(COMMAND ${NEAR} ${loss_whole} ${loss_ranks} 1e-8 RESULT_VARIABLE rc OUTPUT_VARIABLE o)
  if(NOT rc EQUAL 0 OR NOT ranks EQUAL 2)
    message(FATAL_ERROR "2 ranks (mpi_ranks ${ranks}) against 1: ${o}")
  endif()
  message(STATUS "2 ranks: ${o}")
endif()
# bad data exits 2 and names the problem
execute_process(COMMAND ${KPDE} train ${CONFIG} ${tiny} --set "data.train={file: ${CONFIG}}" --out ${DIR}/bad
                RESULT_VARIABLE rc ERROR_VARIABLE e)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "a config file given as dataset: exit ${rc}, expected 2\n${e}")
endif()
execute_process(COMMAND ${KPDE} train ${CONFIG} ${tiny} --set "data.test={file: ${DIR}/whole/model.h5}" --out ${DIR}/bad
                RESULT_VARIABLE rc ERROR_VARIABLE e)
if(NOT rc EQUAL 2 OR NOT e MATCHES "model\\.h5")
  message(FATAL_ERROR "a model file given as dataset: exit ${rc}, expected 2 naming the file\n${e}")
endif()
# a test set of 50-sensor functions for a model of 100 sensors: exit 2, naming the sensors
get_filename_component(cfgdir ${CONFIG} DIRECTORY)
run("kpde generate (50 sensors)" ${KPDE} generate ${cfgdir}/../generate/antiderivative.yaml -n 5 --seed 3
    --set antiderivative.sensors=50 --set antiderivative.points=50 --out ${DIR}/sensors50.h5 --quiet)
execute_process(COMMAND ${KPDE} train ${CONFIG} ${tiny} --set "data.test={file: ${DIR}/sensors50.h5}" --out ${DIR}/bad
                RESULT_VARIABLE rc ERROR_VARIABLE e)
if(NOT rc EQUAL 2 OR NOT e MATCHES "sensors")
  message(FATAL_ERROR "a test set with 50 sensors: exit ${rc}, expected 2 naming the sensors\n${e}")
endif()
# kpde eval of the model on input functions: N x P rows of sample, x, u, u_x
run("kpde generate (inputs)" ${KPDE} generate ${cfgdir}/../generate/antiderivative.yaml -n 3 --seed 4
    --out ${DIR}/inputs.h5 --quiet)
run("kpde eval --inputs" ${KPDE} eval ${DIR}/whole/model.h5 --inputs ${DIR}/inputs.h5 --derivatives u_x
    --out ${DIR}/eval.csv --quiet)
file(STRINGS ${DIR}/eval.csv rows)
list(LENGTH rows n_rows)
list(GET rows 0 header)
if(NOT n_rows EQUAL 301 OR NOT header STREQUAL "sample,x,u,u_x")
  message(FATAL_ERROR "kpde eval wrote ${n_rows} rows (expected 1 + 3 x 100) with the header '${header}'")
endif()
# eval with input functions of 50 sensors: exit 2 naming the sensors
execute_process(COMMAND ${KPDE} eval ${DIR}/whole/model.h5 --inputs ${DIR}/sensors50.h5 --out ${DIR}/bad.csv
                RESULT_VARIABLE rc ERROR_VARIABLE e)
if(NOT rc EQUAL 2 OR NOT e MATCHES "50 sensors" OR EXISTS ${DIR}/bad.csv)
  message(FATAL_ERROR "kpde eval with 50-sensor inputs: exit ${rc}, expected 2 naming the sensors\n${e}")
endif()
file(REMOVE_RECURSE ${DIR})
