#pragma once
/// The canonical PDE specification read by the hypernetwork (docs/design.md 3.7,
/// HyPINO's input): on [-1,1]^2,
///   L[u] = c_u u + c_ux u_x + c_uy u_y + c_uxx u_xx + c_uyy u_yy = f,
/// given as the coefficient vector (c_u, c_ux, c_uy, c_uxx, c_uyy) and five n x n grids
/// (n = 224): Dirichlet mask, Neumann mask, Dirichlet values g (u = g on the mask),
/// Neumann values h (n . grad u = h on the mask, n the OUTWARD unit normal of Omega;
/// an initial rate u_t = r on y = -1 is h = -r) and the source f. Pixel (i, j) sits at
/// x = -1 + 2j/(n-1), y = 1 - 2i/(n-1) (row 0 is y = +1). y is time for problems with
/// a time axis (initial line y = -1).
///
/// Beside the five channels the network reads, a Spec carries what the residual of an
/// emitted PINN needs (refinement, the output projection, metrics): the domain mask
/// (1 where the PDE holds) and the outward normals on the Neumann nodes. A Spec comes
/// from a `kpde solve` YAML problem (rasterised with mesh/), a generated sample
/// (data/mms) or a group of a benchmark file (hypino_benchmarks.h5).
#include <array>
#include <string>
#include <vector>

#include "data/mms.hpp"
#include "data/problem.hpp"

namespace kpde::hypernet {

/// Nodes per axis of the canonical grids.
constexpr int kGrid = 224;
/// Band half-width (in pixel diagonals, mesh::boundary_bands) of the boundary masks that
/// kpde draws: nodes within about 2 spacings of the boundary, so 3 nodes inside a box
/// side and 5 across an interior boundary, as the masks of HyPINO's benchmarks.
constexpr double kBandHalfWidth = 1.42;

struct Spec {
  std::string name;                          ///< for messages ("PS-C", "sample 12")
  std::array<double, 5> coefficients{};      ///< c_u, c_ux, c_uy, c_uxx, c_uyy
  int n = kGrid;
  std::vector<double> dirichlet_mask, neumann_mask, dirichlet_values, neumann_values, source;  ///< [n][n]
  std::vector<double> domain_mask;           ///< [n][n], 1 where the PDE holds
  std::vector<double> normals;               ///< [n][n][2] outward normals (0 off the Neumann mask)
  std::vector<double> reference;             ///< [n][n] a known solution (empty: none)

  std::size_t size() const { return static_cast<std::size_t>(n) * static_cast<std::size_t>(n); }
  /// Whether the operator is elliptic (c_uxx c_uyy > 0), which needs Dirichlet data.
  bool elliptic() const { return coefficients[3] * coefficients[4] > 0; }
  /// Throws kpde::InputError, naming `name` and what was expected, when a grid is not
  /// n x n with n = kGrid, a value is not finite (naming the channel and pixel), a mask
  /// is not 0/1, a coefficient is not finite or all are 0, the Dirichlet mask is empty on
  /// an elliptic problem (the solution would not be unique), or the Neumann mask has a
  /// node without a unit normal.
  void validate() const;
};

/// The spec of a generated sample (its domain mask, normals and, for a manufactured
/// solution, u as the reference). The sample's grid must be kGrid.
Spec spec_from_sample(const data::MmsSample& sample, const std::string& name);

/// Group `group` of a benchmark file in the layout of hypino_benchmarks.h5
/// (dirichlet_mask, dirichlet_conditions, neumann_mask, neumann_conditions,
/// source_function, domain_mask, optional reference_solution, neumann_normals [2][n][n]
/// and a `coefficients` attribute). HyPINO's Neumann convention (normals of the shapes,
/// (0, +1) on the initial line) is turned into outward normals of Omega: a node whose
/// given normal points into Omega (the domain mask grows along it) gets both normal and
/// value negated. Throws InputError naming the file and group.
Spec spec_from_benchmark(const std::string& path, const std::string& group);

/// The names of the groups of a benchmark file that hold a spec.
std::vector<std::string> benchmark_groups(const std::string& path);

/// A 2-D linear problem with constant coefficients (no u_xy, no Robin conditions; y as
/// the time axis, if any) rasterised on the canonical grid. The bounding box [a,b]x[c,d]
/// of the domain is mapped affinely onto [-1,1]^2 (x' = 2(x-a)/(b-a) - 1, ...), which
/// multiplies c_ux by k_x = 2/(b-a), c_uxx by k_x^2 (likewise in y) and Neumann data by
/// |K^-1 n| (K = diag(k_x, k_y); curved Neumann parts need k_x = k_y). Masks: mesh::boundary_bands with kBandHalfWidth; the
/// data of a band node are those at its closest boundary point. Throws InputError
/// (naming the problem and the unsupported feature) otherwise.
Spec spec_from_problem(const data::Problem& problem);

/// The affine map of spec_from_problem: canonical [-1,1]^2 coordinates of the box
/// [lo, hi]: x' = 2 (x - lo) / (hi - lo) - 1 per axis.
struct BoxMap {
  std::array<double, 2> lo{-1, -1}, hi{1, 1};
  double to_canonical(int axis, double v) const { return 2 * (v - lo[axis]) / (hi[axis] - lo[axis]) - 1; }
  double from_canonical(int axis, double v) const { return lo[axis] + (v + 1) * (hi[axis] - lo[axis]) / 2; }
  /// d x'/d x along axis: 2 / (hi - lo).
  double scale(int axis) const { return 2 / (hi[axis] - lo[axis]); }
};
/// The map used by spec_from_problem for this problem.
BoxMap box_map(const data::Problem& problem);

}  // namespace kpde::hypernet
