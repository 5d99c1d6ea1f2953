#pragma once
/// Darcy flow samples for the neural operators (the FNO benchmark's setting):
///
///   -div(a grad u) = f on (0,1)^2,  u = 0 on the boundary,  f = source (1),
///   a = a_plus where g > 0 and a_minus elsewhere (12 and 3),
///   g a Gaussian random field with covariance (-lap + tau^2 I)^(-alpha) (tau = 3,
///   alpha = 2) under Neumann conditions: g = sum_k xi_k (pi^2 |k|^2 + tau^2)^(-alpha/2)
///   cos(pi k1 x) cos(pi k2 y), xi_k ~ N(0,1) i.i.d., k in {0..n-1}^2 without k = 0
///   (the mean mode is dropped, so a takes both values in about equal shares; the
///   scale of g does not matter for the threshold).
///
/// The permeability is defined by its values at the n x n grid nodes; the reference
/// solver (data/reference) discretises -div(a grad u) conservatively with a at the
/// half-way points taken as the mean of the two neighbouring node values, which is what
/// darcy_residual() applies. Grids are [n][n], row 0 at y = 1 (as the MMS datasets),
/// node (i, j) at x = j/(n-1), y = 1 - i/(n-1).
#include <cstdint>
#include <string>
#include <vector>

namespace kpde::data {

struct DarcySettings {
  int grid = 64;             ///< nodes per axis (including the boundary), 8..1025
  double a_plus = 12, a_minus = 3;
  double tau = 3, alpha = 2;
  double source = 1;
  std::string solver = "auto";  ///< reference solver (data::FdOptions::solver)
  double rtol = 1e-10;
  /// Throws InputError naming the setting when out of range.
  void validate() const;
};

struct DarcySample {
  int n = 0;
  std::vector<double> field;         ///< g at the nodes [n][n]
  std::vector<double> permeability;  ///< a at the nodes [n][n]
  std::vector<double> solution;      ///< u at the nodes [n][n] (0 on the boundary)
  int iterations = 0;                ///< Krylov iterations of the solve
  double solve_s = 0;                ///< wall time of the solve
};

/// The Gaussian random field g at the n x n nodes ([n][n], row 0 at y = 1), from
/// Rng(mix_seed(seed, index)).
std::vector<double> darcy_field(const DarcySettings& s, std::uint64_t seed, std::uint64_t index);

/// Sample `index` of stream `seed`: the field, the permeability and the solution from
/// the PETSc reference solver on MPI_COMM_SELF (PETSc must be initialised). Depends
/// only on (settings, seed, index).
DarcySample generate_darcy_sample(const DarcySettings& s, std::uint64_t seed, std::uint64_t index);

/// The discrete residual r = -div_h(a grad_h u) - f at the interior nodes ([n][n], 0
/// on the boundary), with the 5-point conservative stencil and face coefficients
/// (a_P + a_N) / 2 (the discretisation the reference solver uses here).
std::vector<double> darcy_residual(int n, const std::vector<double>& permeability,
                                   const std::vector<double>& solution, double source);

}  // namespace kpde::data
