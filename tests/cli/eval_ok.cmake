# `kpde eval` on the fixture's model: every source of points (a CSV, a grid, random
# points) and both output formats; the output has the promised columns and rows.
foreach(out out.csv out.h5)
  file(REMOVE ${DIR}/${out})
endforeach()
execute_process(COMMAND ${KPDE} eval ${DIR}/model/model.h5 --points ${DIR}/points.csv --derivatives u_x,u_yy,lap
                        --out ${DIR}/out.csv RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "kpde eval --points failed (exit ${rc}):\n${o}\n${e}")
endif()
file(STRINGS ${DIR}/out.csv lines)
list(LENGTH lines n)
list(GET lines 0 header)
if(NOT header STREQUAL "x,y,u,u_x,u_yy,lap" OR NOT n EQUAL 4)
  message(FATAL_ERROR "out.csv: header '${header}', ${n} lines (expected x,y,u,u_x,u_yy,lap and 4 lines)")
endif()
execute_process(COMMAND ${KPDE} eval ${DIR}/model/model.h5 --grid 4 --derivatives u_xy --out ${DIR}/out.h5
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
if(NOT rc EQUAL 0 OR NOT o MATCHES "16 points, columns x,y,u,u_xy")
  message(FATAL_ERROR "kpde eval --grid failed (exit ${rc}):\n${o}\n${e}")
endif()
execute_process(COMMAND ${KPDE} eval ${DIR}/model/model.h5 --random 5 --seed 1 --out ${DIR}/out_r.csv
                RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
file(STRINGS ${DIR}/out_r.csv lines)
list(LENGTH lines n)
if(NOT rc EQUAL 0 OR NOT n EQUAL 6)
  message(FATAL_ERROR "kpde eval --random failed (exit ${rc}, ${n} lines):\n${o}\n${e}")
endif()
