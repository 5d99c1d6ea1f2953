# `cmake --install build --prefix P` (docs/coupling.md, "Install"):
#   P/lib/libkpde.so (+ libkpde_fortran.so)      the C API and, in the same library, the C++ API
#   P/include/kpde/kpde.h                        the C API
#   P/include/kpde/<folder>/*.hpp                the C++ headers, in the source layout
#                                                ("pinn/model.hpp", "nn/network.hpp")
#   P/include/kpde/fortran/kpde.mod              the Fortran module (gfortran's format)
#   P/lib/cmake/kpde/kpdeConfig.cmake            find_package(kpde): targets kpde::kpde, kpde::fortran
#   P/lib/pkgconfig/kpde.pc                      pkg-config --cflags --libs kpde
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(KPDE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/kpde)
set(_kpde_targets kpde_shared)
set(KPDE_HAVE_FORTRAN OFF)
if(TARGET kpde_fortran)
  list(APPEND _kpde_targets kpde_fortran)
  set(KPDE_HAVE_FORTRAN ON)
endif()
install(TARGETS ${_kpde_targets} EXPORT kpdeTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/app/c/kpde.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kpde)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kpde
        FILES_MATCHING PATTERN "*.hpp")
foreach(_dir mesh data pinn operators hypernet)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${_dir} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kpde
          FILES_MATCHING PATTERN "*.hpp" PATTERN "models" EXCLUDE)
endforeach()
if(KPDE_HAVE_FORTRAN)
  install(FILES ${KPDE_FORTRAN_MODULE_DIR}/kpde.mod DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kpde/fortran)
endif()
install(EXPORT kpdeTargets NAMESPACE kpde:: DESTINATION ${KPDE_INSTALL_CMAKEDIR})

# What the config file needs to find the same dependencies as this build.
set(KPDE_KOKKOS_DIR "${Kokkos_DIR}")
set(KPDE_EIGEN3_DIR "${Eigen3_DIR}")
set(KPDE_YAML_CPP_DIR "${yaml-cpp_DIR}")
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kpdeConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/kpdeConfig.cmake INSTALL_DESTINATION ${KPDE_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kpdeConfigVersion.cmake VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kpdeConfig.cmake ${PROJECT_BINARY_DIR}/kpdeConfigVersion.cmake
        DESTINATION ${KPDE_INSTALL_CMAKEDIR})

# kpde.pc: relative to its own folder (${pcfiledir}), so any --prefix works.
set(_pc_mpi_cflags "")
foreach(_d ${MPI_C_INCLUDE_DIRS})
  string(APPEND _pc_mpi_cflags " -I${_d}")
endforeach()
set(_pc_mpi_libs "")
foreach(_l ${MPI_C_LIBRARIES})
  string(APPEND _pc_mpi_libs " ${_l}")
endforeach()
if(TARGET Kokkos::kokkoscore)  # a Kokkos of its own (.deps/kokkos, Kokkos_ROOT)
  get_target_property(_pc_kokkos_inc Kokkos::kokkoscore INTERFACE_INCLUDE_DIRECTORIES)
  set(_pc_kokkos_lib kokkoscore)
else()                         # Debian's binary package
  set(_pc_kokkos_inc ${Kokkos_INCLUDE_DIRS})
  set(_pc_kokkos_lib trilinos_kokkoscore)
endif()
list(GET _pc_kokkos_inc 0 _pc_kokkos_inc)
set(KPDE_PC_CFLAGS "-I\${includedir}/kpde -I\${includedir}/kpde/fortran${_pc_mpi_cflags}")
set(KPDE_PC_CXXFLAGS "-I${_pc_kokkos_inc} -I${EIGEN3_INCLUDE_DIR} -fopenmp")
set(KPDE_PC_LIBS "-L\${libdir} -Wl,-rpath,\${libdir} -lkpde${_pc_mpi_libs}")
set(KPDE_PC_CXXLIBS "-L${KPDE_KOKKOS_LIBDIR} -Wl,-rpath,${KPDE_KOKKOS_LIBDIR} -l${_pc_kokkos_lib} -lyaml-cpp -fopenmp")
configure_file(${PROJECT_SOURCE_DIR}/cmake/kpde.pc.in ${PROJECT_BINARY_DIR}/kpde.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/kpde.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
