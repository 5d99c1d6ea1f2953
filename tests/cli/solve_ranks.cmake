# `kpde solve` data-parallel over MPI ranks (issue 15, section 1), on a small poisson_sin:
#  - 2 ranks end at the final loss of 1 rank (the same points for any R; sums differ only
#    in rounding: 1e-8 relative after Adam and L-BFGS steps);
#  - a run stopped on 3 ranks resumes on 1, a run stopped on 1 resumes on 2, both ending
#    where the uninterrupted run ends;
#  - only rank 0 writes (one metrics.json naming 2 ranks);
#  - a rank that fails alone (its output path is a file: rank 0 writes outputs) ends
#    every rank with exit code 2 within the timeout, no hang; a source that is NaN on some
#    points makes every rank stop with exit code 1 (training diverged).
set(_dir "${WORK}/solve_ranks")
file(REMOVE_RECURSE "${_dir}")
file(MAKE_DIRECTORY "${_dir}")
set(args --quiet --set training.interior.n=203 --set training.boundary.n=61 --set model.width=12
    --set model.depth=2 --set output.n=21 --set training.checkpoint_every=5 --set training.monitor_every=0
    --set "training.stages[0].steps=15" --set "training.stages[1].steps=10")
function(solve ranks)
  if(ranks GREATER 1)
    set(_cmd ${MPIEXEC} -n ${ranks} --oversubscribe ${KPDE})
  else()
    set(_cmd ${KPDE})
  endif()
  execute_process(COMMAND ${_cmd} solve ${CONFIG} ${args} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE o
                  ERROR_VARIABLE e TIMEOUT 240)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "kpde solve on ${ranks} rank(s) ${ARGN} failed (exit ${rc}):\n${o}\n${e}")
  endif()
endfunction()
function(final_loss dir var)
  file(READ ${dir}/metrics.json m)
  string(JSON l GET "${m}" final_loss)
  string(JSON s GET "${m}" steps)
  if(NOT s EQUAL 25)
    message(FATAL_ERROR "${dir}: ${s} steps, expected 25")
  endif()
  set(${var} ${l} PARENT_SCOPE)
endfunction()
function(near a b what)
  execute_process(COMMAND ${NEAR} ${a} ${b} 1e-8 RESULT_VARIABLE rc OUTPUT_VARIABLE o)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what}: final loss against one uninterrupted rank: ${o}")
  endif()
  message(STATUS "${what}: ${o}")
endfunction()

solve(1 --out ${_dir}/one)
final_loss(${_dir}/one l1)
solve(2 --out ${_dir}/two)
final_loss(${_dir}/two l2)
near(${l1} ${l2} "2 ranks")
file(READ ${_dir}/two/metrics.json m)
string(JSON r GET "${m}" mpi_ranks)
if(NOT r EQUAL 2)
  message(FATAL_ERROR "metrics.json of the 2-rank run says mpi_ranks=${r}")
endif()
# stopped on 3 ranks inside Adam, resumed on 1
solve(3 --out ${_dir}/three_one --stop-after-steps 8)
if(EXISTS ${_dir}/three_one/metrics.json)
  message(FATAL_ERROR "a stopped run wrote metrics.json")
endif()
solve(1 --resume ${_dir}/three_one)
final_loss(${_dir}/three_one l31)
near(${l1} ${l31} "3 ranks, resumed on 1")
# stopped on 1 rank inside L-BFGS, resumed on 2
solve(1 --out ${_dir}/one_two --stop-after-steps 20)
solve(2 --resume ${_dir}/one_two)
final_loss(${_dir}/one_two l12)
near(${l1} ${l12} "1 rank, resumed on 2")

# rank 0 fails alone: its output folder is a file
file(WRITE ${_dir}/a_file "not a folder\n")
execute_process(COMMAND ${MPIEXEC} -n 2 --oversubscribe ${KPDE} solve ${CONFIG} ${args} --out ${_dir}/a_file
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e TIMEOUT 60)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "rank 0 failing alone: exit '${rc}', expected 2 (a timeout means a hang)\n${o}\n${e}")
endif()
if(NOT e MATCHES "rank 0 of 2.*a_file")
  message(FATAL_ERROR "rank 0 failing alone: the message does not name the rank and the path:\n${e}")
endif()
# NaN on some points: every rank sees the summed NaN and stops with exit 1
execute_process(COMMAND ${MPIEXEC} -n 2 --oversubscribe ${KPDE} solve ${CONFIG} ${args} --out ${_dir}/nan
                        --set "problem.source=sqrt(x-0.5)" --set problem.exact=0
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e TIMEOUT 60)
if(NOT rc EQUAL 1 OR NOT e MATCHES "training diverged")
  message(FATAL_ERROR "NaN source on 2 ranks: exit '${rc}', expected 1 with 'training diverged'\n${o}\n${e}")
endif()
file(REMOVE_RECURSE "${_dir}")
