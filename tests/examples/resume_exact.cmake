# A run stopped after 17 steps (inside Adam), resumed and stopped again after 46 steps
# (inside L-BFGS, at its iteration 16, where it draws fresh points: it does so every 4
# iterations, and weighs the residual's low modes, which Adam does not),
# then resumed to the end, must end at the same loss as one uninterrupted run, to 1e-10
# relative (in practice bit for bit).
set(args --quiet --set training.interior.n=256 --set training.boundary.n=64 --set model.width=16
    --set model.depth=2 --set output.n=21 --set training.checkpoint_every=10
    --set "training.stages[0].steps=30" --set "training.stages[1].steps=30"
    --set training.interior.resample_every=7 --set training.weights.balance=grad_norm
    --set training.weights.balance_every=5 --set "training.adaptive={every: 11, candidates: 512}"
    --set "training.stages[1].resample_every=4" --set training.weights.modes=3
    --set training.weights.modes_weight=50 --set "training.stages[0].modes_weight=0")
file(REMOVE_RECURSE ${OUT})
function(run)
  execute_process(COMMAND ${KPDE} solve ${CONFIG} ${args} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "kpde solve ${ARGN} failed (exit ${rc}):\n${o}\n${e}")
  endif()
endfunction()
run(--out ${OUT}/whole)
run(--out ${OUT}/parts --stop-after-steps 17)
if(EXISTS ${OUT}/parts/metrics.json)
  message(FATAL_ERROR "a stopped run wrote metrics.json")
endif()
run(--resume ${OUT}/parts --stop-after-steps 46)
run(--resume ${OUT}/parts)
file(READ ${OUT}/whole/metrics.json a)
file(READ ${OUT}/parts/metrics.json b)
string(JSON la GET "${a}" final_loss)
string(JSON lb GET "${b}" final_loss)
string(JSON sa GET "${a}" steps)
string(JSON sb GET "${b}" steps)
if(NOT sa EQUAL sb)
  message(FATAL_ERROR "steps differ: ${sa} vs ${sb}")
endif()
# The issue asks for 1e-10 relative; the run is deterministic (fixed reduction orders,
# the whole optimiser state in the checkpoint), so the test asks for equality of the
# 17-digit values, which implies it.
message(STATUS "uninterrupted final_loss=${la}, resumed final_loss=${lb}")
# The L-BFGS resampling must take effect: without it the same run ends elsewhere.
run(--out ${OUT}/fixed --set "training.stages[1].resample_every=0")
file(READ ${OUT}/fixed/metrics.json c)
string(JSON lc GET "${c}" final_loss)
if(la STREQUAL lc)
  message(FATAL_ERROR "resample_every on the L-BFGS stage changed nothing (final_loss ${la})")
endif()
if(NOT la STREQUAL lb)
  message(FATAL_ERROR "resumed run ends at ${lb}, uninterrupted at ${la}")
endif()
