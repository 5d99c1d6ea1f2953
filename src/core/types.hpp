#pragma once
/// Kokkos View aliases used across kpde. Layouts are spelled out: kpde's host kernels
/// assume LayoutRight (C order) for point sets and parameter buffers.
#include <Kokkos_Core.hpp>

namespace kpde {

using HostSpace = Kokkos::HostSpace;
using HostExec = Kokkos::DefaultHostExecutionSpace;

/// A flat parameter or gradient buffer (docs/design.md 3.2), host memory.
template <class T>
using Vec = Kokkos::View<T*, Kokkos::LayoutRight, HostSpace>;
/// A host matrix in C order: [rows][cols].
template <class T>
using Mat = Kokkos::View<T**, Kokkos::LayoutRight, HostSpace>;
/// A host rank-3 array in C order.
template <class T>
using Arr3 = Kokkos::View<T***, Kokkos::LayoutRight, HostSpace>;
/// A host rank-4 array in C order.
template <class T>
using Arr4 = Kokkos::View<T****, Kokkos::LayoutRight, HostSpace>;

}  // namespace kpde
