# coupling_consumer: kpde installed and used from outside its tree (issue 15, section 2).
#   1. cmake --install BUILD --prefix WORK/prefix
#   2. examples/consumer configured and built against it (find_package(kpde)): C, C++, Fortran
#   3. the three programs run: C trains and saves a model, C++ and Fortran read it
#   4. the C program built once more with pkg-config only (cc $(pkg-config --cflags --libs kpde))
# cmake -DBUILD=... -DSOURCE=... -DWORK=... -DCC=... -P consumer.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
function(run what)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${what}:\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "coupling_consumer: ${what} failed (${rc})")
  endif()
endfunction()
run("install" ${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix)
run("configure the consumer" ${CMAKE_COMMAND} -S ${SOURCE}/examples/consumer -B ${WORK}/build
    -DCMAKE_PREFIX_PATH=${WORK}/prefix -DCMAKE_BUILD_TYPE=Release)
run("build the consumer" ${CMAKE_COMMAND} --build ${WORK}/build -j2)
run("consumer_c" ${WORK}/build/consumer_c ${SOURCE}/examples/consumer/model.yaml ${WORK}/model.h5)
run("consumer_cxx" ${WORK}/build/consumer_cxx ${WORK}/model.h5)
run("consumer_fortran" ${WORK}/build/consumer_fortran ${WORK}/model.h5)
# pkg-config alone
set(ENV{PKG_CONFIG_PATH} ${WORK}/prefix/lib/pkgconfig)
execute_process(COMMAND pkg-config --cflags --libs kpde RESULT_VARIABLE rc OUTPUT_VARIABLE flags
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "coupling_consumer: pkg-config --cflags --libs kpde failed")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run("cc with pkg-config" ${CC} -std=c99 ${SOURCE}/examples/consumer/consumer.c -o ${WORK}/consumer_pc ${flags} -lm)
run("consumer_pc" ${WORK}/consumer_pc ${SOURCE}/examples/consumer/model.yaml ${WORK}/model_pc.h5)
message("coupling_consumer: C, C++, Fortran and pkg-config consumers built and ran")
