# solution.xdmf in a real ParaView: kpde solve CONFIG (tiny), kpde eval of its model.h5 at
# a few asymmetric nodes of the output grid, then pvbatch reads solution.xdmf with its
# XDMF reader and probes u there (paraview_probe.py): the values must agree, so the
# grid's axes, extents and field layout are what ParaView expects.
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${KPDE} solve ${CONFIG} --out ${OUT} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "kpde solve failed (exit ${rc}):\n${o}\n${e}")
endif()
execute_process(COMMAND ${KPDE} eval ${OUT}/model.h5 --points ${POINTS} --out ${OUT}/probe.csv --quiet
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "kpde eval failed (exit ${rc}):\n${o}\n${e}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=PYTHONPATH --unset=PYTHONHOME ${PVBATCH}
                        ${CMAKE_CURRENT_LIST_DIR}/paraview_probe.py ${OUT}/solution.xdmf ${OUT}/probe.csv
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
message("${o}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pvbatch (exit ${rc}):\n${o}\n${e}")
endif()
