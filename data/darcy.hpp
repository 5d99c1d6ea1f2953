#pragma once
/// Darcy flow samples for the neural operators (the FNO benchmark's setting, and
/// MT-DeepONet's geometry transfer):
///
///   -div(a grad u) = f in Omega (inside (0,1)^2),  u = 0 on its boundary,  f = source (1),
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
///
/// Geometries (DarcySettings::geometry): Omega is a binary mask on the n x n nodes; a
/// node on a shape's edge (to 1e-9) is in the shape:
///   square    every node                                               (area 1)
///   disk      (x - 1/2)^2 + (y - 1/2)^2 <= 1/4                         (pi/4)
///   triangle  y >= 0, y <= sqrt(3) x, y <= sqrt(3) (1 - x): equilateral, base [0, 1]
///             on y = 0, apex (1/2, sqrt(3)/2)                          (sqrt(3)/4)
///   lshape    x <= 1/2 or y <= 1/2: the square minus (1/2, 1] x (1/2, 1] (3/4)
///   cross     the square minus the open plus sign {|x - 1/2| < 0.1, |y - 1/2| < 0.3}
///             u {|x - 1/2| < 0.3, |y - 1/2| < 0.1}                     (0.8)
/// A mask node is interior when its four axis neighbours exist (it is not on the
/// square's edge) and are in the mask. The equation holds at the interior nodes; u = 0
/// at every other node (mask nodes next to the outside and nodes outside the mask). For
/// the square that is the plain square problem, solved exactly as before geometries
/// existed (same samples, bit for bit); the other shapes go to the reference solver as
/// a grid mask (FdProblem::grid_mask).
#include <cstdint>
#include <string>
#include <vector>

namespace kpde::data {

/// The Darcy domains, in the order of darcy_geometries().
enum class DarcyGeometry { square, disk, triangle, lshape, cross };
/// The names "square", "disk", "triangle", "lshape", "cross".
const std::vector<std::string>& darcy_geometries();
/// The geometry named `name` (case-insensitive); InputError naming darcy.geometry and
/// the choices otherwise.
DarcyGeometry parse_darcy_geometry(const std::string& name);
/// The name of g.
std::string darcy_geometry_name(DarcyGeometry g);

struct DarcySettings {
  int grid = 64;             ///< nodes per axis (including the boundary), 8..1025
  DarcyGeometry geometry = DarcyGeometry::square;
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
  std::vector<double> solution;      ///< u at the nodes [n][n] (0 off the interior nodes)
  std::vector<double> mask;          ///< 1 at the nodes of Omega, 0 elsewhere [n][n]
  int iterations = 0;                ///< Krylov iterations of the solve
  double solve_s = 0;                ///< wall time of the solve
};

/// The Gaussian random field g at the n x n nodes ([n][n], row 0 at y = 1), from
/// Rng(mix_seed(seed, index)).
std::vector<double> darcy_field(const DarcySettings& s, std::uint64_t seed, std::uint64_t index);

/// The geometry's mask at the n x n nodes ([n][n], row 0 at y = 1): 1 in Omega.
std::vector<double> darcy_mask(DarcyGeometry g, int n);

/// The interior nodes of `mask` ([n][n]): 1 where the node and its four axis
/// neighbours are in the mask (a node on the square's edge is never interior).
std::vector<double> darcy_interior(const std::vector<double>& mask, int n);

/// Sample `index` of stream `seed`: the field, the permeability, the mask and the
/// solution from the PETSc reference solver on MPI_COMM_SELF (PETSc must be
/// initialised). Depends only on (settings, seed, index).
DarcySample generate_darcy_sample(const DarcySettings& s, std::uint64_t seed, std::uint64_t index);

/// The discrete residual r = -div_h(a grad_h u) - f at the interior nodes of `mask`
/// ([n][n], 0 at the other nodes; an empty mask is the whole square), with the 5-point
/// conservative stencil and face coefficients (a_P + a_N) / 2 (the discretisation the
/// reference solver uses here).
std::vector<double> darcy_residual(int n, const std::vector<double>& permeability,
                                   const std::vector<double>& solution, double source,
                                   const std::vector<double>& mask = {});

}  // namespace kpde::data
