#pragma once
/// Rasterising a 2-D mesh::Geometry onto an n x n grid of nodes, the input format of
/// the HyPINO-style hypernetwork (docs/design.md 3.7): a domain mask, a map of boundary
/// bands (the part id of each pixel near the boundary) and, from a map
/// part -> condition kind, the Dirichlet and Neumann mask channels.
#include <map>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "mesh/geometry.hpp"

namespace kpde::mesh {

/// An n x n grid of nodes on the box [x_lo, x_hi] x [y_lo, y_hi], both ends included.
/// Pixel (i, j) (row i, column j) sits at
///   x_j = x_lo + (x_hi - x_lo) j / (n - 1),
///   y_i = y_hi - (y_hi - y_lo) i / (n - 1)   (top_row_first, HyPINO: row 0 is y_hi)
///   y_i = y_lo + (y_hi - y_lo) i / (n - 1)   (!top_row_first: row 0 is y_lo, the
///                                              layout of kpde's solution.h5)
/// HyPINO's canonical grid is Grid::hypino(224): [-1,1]^2, x = -1 + 2j/223,
/// y = 1 - 2i/223.
struct Grid {
  int n = 224;                                  ///< nodes per axis, >= 2
  double x_lo = -1, x_hi = 1, y_lo = -1, y_hi = 1;  ///< the box the nodes span
  bool top_row_first = true;                    ///< row 0 at y_hi (HyPINO) or at y_lo

  /// HyPINO's grid on [-1,1]^2 with n nodes per axis.
  static Grid hypino(int n = 224) { return Grid{n, -1, 1, -1, 1, true}; }
  /// The grid on the bounding box of a 2-D geometry.
  static Grid bounding(const Geometry& geometry, int n, bool top_row_first = true);
  /// x of column j; the last column is x_hi exactly.
  double x(int j) const { return j == n - 1 ? x_hi : x_lo + (x_hi - x_lo) * j / (n - 1); }
  /// y of row i (see the struct comment); the last row is y_lo (or y_hi) exactly.
  double y(int i) const {
    if (top_row_first) return i == n - 1 ? y_lo : y_hi - (y_hi - y_lo) * i / (n - 1);
    return i == n - 1 ? y_hi : y_lo + (y_hi - y_lo) * i / (n - 1);
  }
  /// Node spacings hx = (x_hi - x_lo) / (n - 1), hy = (y_hi - y_lo) / (n - 1).
  double hx() const { return (x_hi - x_lo) / (n - 1); }
  double hy() const { return (y_hi - y_lo) / (n - 1); }
  /// Throws kpde::InputError unless n >= 2, x_lo < x_hi, y_lo < y_hi, all finite.
  void validate() const;
};

/// Domain mask [n][n] (LayoutRight, [i][j] as in Grid): 1 where the node lies in the
/// closure of Omega, 0 elsewhere: phi < 0, or |phi| <= 1e-12 scale and one of 8 points
/// at distance 1e-8 scale around the node has phi < 0 (so nodes on the boundary count,
/// as in HyPINO's masks, but not e.g. the far corner of a quadrant cut from a box,
/// where phi = max(0, -0) = 0 too). Throws kpde::InputError when the geometry is not 2-D or the
/// grid is invalid.
Mat<double> domain_mask(const Geometry& geometry, const Grid& grid);

/// The same closure rule as domain_mask at any 2-D points x [n][2]: 1 where the point
/// lies in the closure of Omega, else 0.
std::vector<double> closure_mask(const Geometry& geometry, const Mat<const double>& x);

/// Boundary bands [n][n]: the id of the closest boundary part (Geometry::closest_part)
/// at every node with |phi| <= w, -1 elsewhere. w = band_half_width pixels times
/// sqrt(hx^2 + hy^2); the default 0.5 (half a pixel diagonal) gives bands one to two
/// nodes wide on both sides of the boundary. (The masks in hypino_benchmarks.h5 are
/// wider: about 3 nodes inside and 2-3 outside.) Throws as domain_mask, and on
/// band_half_width <= 0.
Mat<int> boundary_bands(const Geometry& geometry, const Grid& grid, double band_half_width = 0.5);

/// Kind of a boundary condition on a part.
enum class BoundaryKind { dirichlet, neumann, robin };

/// Dirichlet and Neumann mask channels [n][n], 1 on the band nodes of parts mapped to
/// dirichlet (resp. neumann), 0 elsewhere; robin parts and parts not in the map are in
/// neither (HyPINO has no Robin channel).
struct ConditionMasks {
  Mat<double> dirichlet;
  Mat<double> neumann;
};

/// The mask channels from `bands` (as returned by boundary_bands) and a map part
/// name -> kind. Throws kpde::InputError naming an unknown or zero-length part
/// (Geometry::part_id) or when bands is not square.
ConditionMasks condition_masks(const Geometry& geometry, const Mat<const int>& bands,
                               const std::map<std::string, BoundaryKind>& conditions);

}  // namespace kpde::mesh
