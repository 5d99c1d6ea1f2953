#pragma once
/// Collocation points for a mesh::Geometry (docs/design.md section 2, "Sampler"):
/// interior points of Omega (holes excluded) by uniform rejection, Latin hypercube or
/// Sobol, and boundary points spread proportionally to the length of each boundary
/// part, with Omega's outward unit normals and part tags. Every sampler is
/// deterministic given its seed (and independent of the number of threads).
#include <cstdint>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "mesh/geometry.hpp"

namespace kpde::mesh {

/// How interior points are drawn (all inside the bounding box, then rejected when
/// phi >= 0, in generation order until n are kept):
///  - uniform: i.i.d. uniform in the box, Rng(seed).
///  - latin_hypercube: Latin hypercube batches (mesh::latin_hypercube) in the box; when
///    Omega is the whole box (nothing rejected) the n points hold exactly one point
///    per stratum (width |box_k| / n) of every axis; with holes the first batch is an
///    LHS of about n / (fraction of the box inside) points, so the strata hold at most
///    one point each and only the strata inside Omega are filled.
///  - sobol: the Sobol sequence (mesh::SobolSequence) in the box; unscrambled it skips
///    point 0 (the box corner) and starts at (0.5, 0.5, ...); scrambled (random digital
///    shift from the seed) it starts at point 0.
enum class InteriorMethod { uniform, latin_hypercube, sobol };

/// "uniform", "latin_hypercube" (or "lhs"), "sobol", case-insensitive.
/// Throws kpde::InputError on any other name, listing the valid ones.
InteriorMethod parse_interior_method(const std::string& name);
/// The canonical name of a method ("uniform", "latin_hypercube", "sobol").
const char* to_string(InteriorMethod method);

/// Settings of sample_interior.
struct InteriorOptions {
  InteriorMethod method = InteriorMethod::uniform;
  std::uint64_t seed = 0;  ///< seeds the Rng of uniform/LHS and the Sobol shift
  /// Sobol only: random digital shift from `seed` (true, so that a new seed gives new
  /// points when a trainer resamples) or the plain sequence (false; seed ignored).
  bool scramble = true;
};

/// n points of the open interior of Omega (phi < 0), [n][dim] LayoutRight.
/// Throws kpde::InputError when n < 0, and kpde::Error when Omega is so small that
/// 1000 n + 10^6 candidates do not give n points.
Mat<double> sample_interior(const Geometry& geometry, int n, const InteriorOptions& options = {});

/// Boundary points with their outward normals and part tags.
struct BoundarySamples {
  Mat<double> x;       ///< [n][dim] points on the boundary of Omega (|phi| <= 1e-10 scale)
  Mat<double> normal;  ///< [n][dim] outward unit normals of Omega
  Vec<int> part;       ///< [n] part id of each point
  std::vector<std::string> part_names;  ///< id -> name (Geometry::part_names())
  int n_points() const { return static_cast<int>(x.extent(0)); }
};

/// How many of n boundary points each part gets: n_k proportional to the part's
/// length on the boundary (Geometry::part_length), rounded by largest remainder (ties:
/// lower id), so sum_k n_k = n. `parts` selects part ids (empty: all parts); parts of
/// zero length get 0. Returns a vector indexed by part id (length n_parts()).
/// Throws kpde::InputError on a bad id, n < 0, or when the selected parts have zero
/// total length (the message names them).
std::vector<int> boundary_counts(const Geometry& geometry, int n, const std::vector<int>& parts = {});

/// n points on the boundary of Omega: boundary_counts(n, parts) points on each part,
/// each uniform in arc length (area in 3-D) over the portion of the part that lies on
/// the boundary of Omega: candidates are drawn uniformly on the primitive's boundary
/// (restricted to Geometry::candidate_cells) and kept when Geometry::on_boundary
/// holds. Points are grouped by part id, in increasing order. Rng(seed).
/// Throws as boundary_counts, and kpde::Error when a part yields no point in
/// 1000 n_k + 10^4 candidates.
BoundarySamples sample_boundary(const Geometry& geometry, int n, std::uint64_t seed,
                                const std::vector<int>& parts = {});

}  // namespace kpde::mesh
