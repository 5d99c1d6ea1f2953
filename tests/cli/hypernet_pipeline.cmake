# The hypernetwork's commands end to end on a tiny configuration: kpde train (a few steps,
# a resumable stop and --resume, --init-from that model), kpde hypernet with that model (zero-shot and with
# refinement rounds: the outputs of solve, and a model.h5 that kpde eval reads), kpde solve
# --hypernet-model (training starts from the emitted weights), kpde bench hypernet.
set(tiny --set model.input_pool=8 --set model.stem=8 --set "model.widths=[8, 16]" --set model.groups=4
         --set model.cond=16 --set model.head_hidden=32 --set model.small_hidden=16 --set model.head_groups=4
         --set data.pool=4 --set data.validation=2 --set data.points.interior=64 --set data.points.boundary=32
         --set data.stored_interior=256 --set training.batch=2 --set training.checkpoint_every=2
         --set training.stages[0].steps=6 --set training.stages[0].schedule.warmup_steps=1)
file(REMOVE_RECURSE ${DIR})
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what}: exit ${rc}\n${o}\n${e}")
  endif()
  set(out "${o}" PARENT_SCOPE)
endfunction()
run("kpde train --stop-after-steps 3" ${KPDE} train ${SRC}/examples/hypernet/train.yaml ${tiny} --out ${DIR}/train
    --stop-after-steps 3 --quiet)
if(NOT out MATCHES "3 steps" OR NOT EXISTS ${DIR}/train/checkpoint.h5)
  message(FATAL_ERROR "kpde train did not stop after 3 steps with a checkpoint:\n${out}")
endif()
run("kpde train --resume" ${KPDE} train ${SRC}/examples/hypernet/train.yaml ${tiny} --resume ${DIR}/train --quiet)
if(NOT out MATCHES "train hypernet: 6 steps")
  message(FATAL_ERROR "kpde train --resume did not finish the 6 steps:\n${out}")
endif()
foreach(f model.h5 metrics.json loss.png history.h5 config.resolved.yaml)
  if(NOT EXISTS ${DIR}/train/${f})
    message(FATAL_ERROR "kpde train did not write ${f}")
  endif()
endforeach()
set(model ${DIR}/train/model.h5)
# --init-from: a new run from that model (stopped and resumed), whose model file names where it started
run("kpde train --init-from" ${KPDE} train ${SRC}/examples/hypernet/train.yaml ${tiny} --init-from ${model}
    --out ${DIR}/train2 --stop-after-steps 2 --quiet)
run("kpde train --init-from, resumed" ${KPDE} train ${SRC}/examples/hypernet/train.yaml ${tiny} --resume ${DIR}/train2 --quiet)
file(STRINGS ${DIR}/train2/model.h5 lineage REGEX "initialised from .*whose description reads: kpde hypernetwork .*: 6 steps")
if(NOT lineage)
  message(FATAL_ERROR "the model trained --init-from ${model} (and resumed) does not name where it started")
endif()
foreach(k 0 2)
  run("kpde hypernet --refine ${k}" ${KPDE} hypernet ${SRC}/examples/configs/poisson_sin.yaml --model ${model}
      --refine ${k} --n 33 --out ${DIR}/hyper${k} --quiet)
  if(NOT out MATCHES "hypernet poisson_sin: rel_l2=[0-9.e+-]+ " OR NOT out MATCHES "forward_s=")
    message(FATAL_ERROR "kpde hypernet printed no errors:\n${out}")
  endif()
  foreach(f solution.h5 solution.xdmf u.png error.png metrics.json model.h5 loss.png)
    if(NOT EXISTS ${DIR}/hyper${k}/${f})
      message(FATAL_ERROR "kpde hypernet --refine ${k} did not write ${f}")
    endif()
  endforeach()
endforeach()
file(READ ${DIR}/hyper2/metrics.json m)
if(NOT m MATCHES "\"refine\": 2" OR NOT m MATCHES "\"rounds_residual_mse\": \\[[^],]+,[^],]+,[^],]+\\]")
  message(FATAL_ERROR "metrics.json of --refine 2 lacks the three rounds:\n${m}")
endif()
run("kpde eval of the emitted PINN" ${KPDE} eval ${DIR}/hyper2/model.h5 --random 20 --derivatives u_xx
    --out ${DIR}/eval.csv --quiet)
run("kpde solve --hypernet-model" ${KPDE} solve ${SRC}/examples/configs/poisson_sin.yaml --hypernet-model ${model}
    --set training.stages[0].steps=5 --set training.stages[1].steps=5 --n 21 --out ${DIR}/solve)
if(NOT EXISTS ${DIR}/solve/hypernet_init.h5 OR NOT out MATCHES "rel_l2=")
  message(FATAL_ERROR "kpde solve --hypernet-model did not start from the emitted weights:\n${out}")
endif()
run("kpde bench hypernet" ${KPDE} bench hypernet --model ${model} --samples 3)
if(NOT out MATCHES "forward [0-9.]+ ms" OR NOT out MATCHES "W1 +[0-9.e+-]+")
  message(FATAL_ERROR "kpde bench hypernet:\n${out}")
endif()
message(STATUS "hypernet pipeline: train, resume, hypernet (0 and 2 rounds), eval, solve from the emitted weights, bench")
