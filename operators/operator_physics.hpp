#pragma once
/// The physics of a physics-informed DeepONet (Wang, Wang & Perdikaris 2021): a
/// data::Problem (the `physics.problem` section, the same loader and the same residual
/// code as the PINN: data::Residual) in which the input function v of a sample enters the
/// source,
///   R[G(v)](x) = f(x) + v(x)  in Omega,   B[G(v)] = g on the boundary,
/// so the residual at point x_j is r_j = R[G(v)](x_j) - f(x_j) - v(x_j). The residual
/// points are the sensors x_j (v is known there exactly); R's derivatives come from the
/// trunk's derivative channels (DeepOnet::forward with channels). The antiderivative
/// s' = v, s(0) = 0 is `operator: {c_ux: 1}`, `source: 0`, Dirichlet 0 on the left end.
#include <memory>

#include "core/types.hpp"
#include "data/problem.hpp"
#include "data/residual.hpp"

namespace kpde::operators {

struct OperatorPhysics {
  std::shared_ptr<const data::Problem> problem;
  std::shared_ptr<const data::Residual> residual;
  Mat<double> x;                 ///< [m][d] residual points (the sensors)
  data::Residual::Points at_x;   ///< f and the coefficients at x
  data::BoundaryTargets boundary;  ///< boundary points with their targets
  Mat<double> x_dirichlet, x_flux; ///< [n][d] the boundary sets' points

  /// The physics of `problem` with residual points `sensors` [m][d] (d = problem.dim) and
  /// n_boundary points sampled on the parts that carry conditions (Rng(seed)). Throws
  /// InputError when the problem has no conditions or the dimensions differ.
  static OperatorPhysics make(std::shared_ptr<const data::Problem> problem, const Mat<double>& sensors,
                              int n_boundary, std::uint64_t seed);
};

}  // namespace kpde::operators
