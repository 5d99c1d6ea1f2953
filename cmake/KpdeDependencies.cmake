# All of Debian's packaging quirks live here, and only here.
#
# Kokkos, in order of preference:
#   1. -DKokkos_ROOT=<prefix>: the user's own Kokkos (OpenMP, CUDA, HIP ...).
#   2. <source>/.deps/kokkos: Kokkos 3.4.01 with OpenMP, built by setup.sh from
#      Debian's trilinos source package (KPDE_KOKKOS_LOCAL=ON, the default).
#   3. Debian's binary libtrilinos-kokkos-dev (Serial only).
include_guard(GLOBAL)
find_package(PkgConfig REQUIRED)

option(KPDE_KOKKOS_LOCAL "Use the OpenMP Kokkos built by setup.sh in .deps/kokkos when present" ON)
set(_kpde_local_kokkos "${PROJECT_SOURCE_DIR}/.deps/kokkos")
if(NOT Kokkos_ROOT AND NOT DEFINED ENV{Kokkos_ROOT} AND KPDE_KOKKOS_LOCAL
   AND EXISTS "${_kpde_local_kokkos}/.complete")
  set(Kokkos_ROOT "${_kpde_local_kokkos}")
  set(KokkosKernels_ROOT "${_kpde_local_kokkos}")
endif()
if(POLICY CMP0074)
  cmake_policy(SET CMP0074 NEW)
endif()
find_package(Kokkos REQUIRED)
get_target_property(_kk_inc Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
if(_kk_inc MATCHES "/usr/lib/include")
  # Debian's trilinos packaging points Kokkos::kokkos at a directory that does not exist.
  set_target_properties(Kokkos::kokkos PROPERTIES INTERFACE_INCLUDE_DIRECTORIES /usr/include/trilinos)
  foreach(_t Kokkos::kokkoscore Kokkos::kokkoscontainers Kokkos::kokkosalgorithms)
    if(TARGET ${_t})
      set_target_properties(${_t} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES /usr/include/trilinos)
    endif()
  endforeach()
  set(KPDE_KOKKOS_FLAVOUR "Debian binary (Serial)")
elseif(Kokkos_ROOT STREQUAL _kpde_local_kokkos)
  set(KPDE_KOKKOS_FLAVOUR "local OpenMP build (.deps/kokkos)")
else()
  set(KPDE_KOKKOS_FLAVOUR "user-supplied (${Kokkos_DIR})")
endif()
message(STATUS "kpde: Kokkos ${Kokkos_VERSION}: ${KPDE_KOKKOS_FLAVOUR}")

# KokkosKernels: Debian's has no namespaced target; the local build has Kokkos::kokkoskernels.
find_package(KokkosKernels QUIET)
add_library(kpde_kokkoskernels INTERFACE)
if(TARGET Kokkos::kokkoskernels)
  target_link_libraries(kpde_kokkoskernels INTERFACE Kokkos::kokkoskernels)
  target_compile_definitions(kpde_kokkoskernels INTERFACE KPDE_HAVE_KOKKOSKERNELS=1)
elseif(KokkosKernels_FOUND AND KokkosKernels_LIBRARIES)
  target_link_libraries(kpde_kokkoskernels INTERFACE ${KokkosKernels_LIBRARIES})
  target_link_directories(kpde_kokkoskernels INTERFACE /usr/lib/x86_64-linux-gnu)
  target_compile_definitions(kpde_kokkoskernels INTERFACE KPDE_HAVE_KOKKOSKERNELS=1)
else()
  message(STATUS "kpde: KokkosKernels not found: GEMM on non-host memory spaces disabled")
endif()

find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(MPI REQUIRED COMPONENTS C CXX)
pkg_check_modules(PETSC REQUIRED IMPORTED_TARGET PETSc)

# PETSc links the OpenMPI flavour of HDF5: use that one (C API only) so that only one
# HDF5 library is loaded into the process.
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(WARNING "kpde: serial HDF5 found; PETSc links the parallel one")
endif()

find_package(ZLIB REQUIRED)  # PNG encoding (io/plot)
# Figures (io/plot): PLplot (libplplot-dev), drawn by its cairo driver (plplot-driver-cairo).
pkg_check_modules(PLPLOT REQUIRED IMPORTED_TARGET plplot)
find_package(yaml-cpp REQUIRED)
find_package(GTest REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS CXX)
