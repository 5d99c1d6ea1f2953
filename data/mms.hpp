#pragma once
/// Random PDE samples for training data (docs/design.md 3.6-3.8): manufactured solutions in
/// HyPINO's style, and physics-only problems with no known solution.
///
/// A sample is one problem of the shared family on [-1,1]^2 (HyPINO's canonical form)
///   L[u] = c_u u + c_ux u_x + c_uy u_y + c_uxx u_xx + c_uyy u_yy = f,
/// with a domain, Dirichlet and/or Neumann data per boundary part, and
///  - manufactured (has_solution): a random u (random_solution); f = L[u] and the
///    Neumann data n . grad u come from the exact jets of u's expression AST
///    (pde::Expression::eval_jet), never from finite differences;
///  - physics-only: f a random constant, the boundary data the traces of a random
///    function g (g on Dirichlet parts, n . grad g on Neumann parts, so the data are
///    compatible with each other); u unknown (NaN in every solution field).
///
/// The operator's class decides the geometry and the conditions (random_operator):
///  - elliptic (c_uxx c_uyy > 0): [-1,1]^2 minus 0-3 holes (disks, rectangles,
///    triangles, star-shaped polygons, disjoint, inside [-0.9,0.9]^2); every boundary
///    part gets Dirichlet, Neumann or both, at least one part Dirichlet;
///  - parabolic (one second-order term, in x, plus u_y), hyperbolic (c_uxx c_uyy < 0)
///    and first order (no second-order term): y is time; the box [-1,1]^2 without
///    holes; initial value (Dirichlet) on y = -1, for hyperbolic problems also the
///    initial rate (Neumann, n . grad u = -u_y there); the sides x = -1, 1 get
///    Dirichlet, Neumann or both (parabolic, hyperbolic) or, for first order, Dirichlet
///    on the inflow side only; nothing on y = 1.
///
/// Every sample is a pure function of (seed, index): its attempts draw from
/// Rng(mix(seed, index, attempt)), so any subset of indices can be made anywhere (MPI
/// ranks) with the same result.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/types.hpp"

namespace kpde::data {

/// The class of an operator of the family (see the file comment).
enum class OperatorClass { elliptic = 0, parabolic = 1, hyperbolic = 2, first_order = 3 };
const char* to_string(OperatorClass c);
/// "elliptic", "parabolic", "hyperbolic", "first_order"; throws InputError otherwise.
OperatorClass parse_operator_class(const std::string& name);

/// Kinds of holes.
enum class HoleKind { disk = 0, rectangle = 1, triangle = 2, polygon = 3 };
const char* to_string(HoleKind k);
HoleKind parse_hole_kind(const std::string& name);

/// Settings of the generator (the `mms:` section of a generate config, docs/datasets.md).
struct MmsSettings {
  int grid = 224;                 ///< nodes per axis of the gridded channels
  int updates_min = 6, updates_max = 10;  ///< updates of a manufactured solution
  double ab_range = 10;           ///< a, b uniform in [-ab_range, ab_range] ...
  double ab_zero_probability = 0.5;  ///< ... or 0 with this probability
  double cde_range = 6.283185307179586;  ///< c, d, e uniform in [-cde_range, cde_range]
  int terms_min = 1, terms_max = 3;  ///< operator terms drawn from {u, u_x, u_y, u_xx, u_yy}
  double coefficient_range = 2;   ///< each coefficient uniform in [-range, range]
  std::vector<OperatorClass> classes{OperatorClass::elliptic, OperatorClass::parabolic,
                                     OperatorClass::hyperbolic, OperatorClass::first_order};
  int holes_min = 0, holes_max = 3;   ///< elliptic problems only
  std::vector<HoleKind> hole_kinds{HoleKind::disk, HoleKind::rectangle, HoleKind::triangle,
                                   HoleKind::polygon};
  double hole_size_min = 0.1, hole_size_max = 0.4;  ///< radius / half-width / circumradius
  /// Relative odds of Dirichlet, Neumann, and both, on a part that may take either.
  double p_dirichlet = 0.5, p_neumann = 0.25, p_both = 0.25;
  double physics_only_fraction = 0;   ///< share of physics-only samples (by index draw)
  double source_range = 10;           ///< physics-only: f uniform in [-range, range]
  int boundary_updates_min = 2, boundary_updates_max = 4;  ///< physics-only g
  // rejection rules (on the grid nodes of the domain and the boundary points)
  double max_value = 10;        ///< reject |u| > max_value
  double min_std = 0.1;         ///< reject std(u) < min_std over the domain nodes
  double max_source = 1e4;      ///< reject |f| > max_source
  double max_derivative = 1e4;  ///< reject |u_x|, |u_y|, |u_xx|, |u_yy|, |u_xy| > this
  int max_attempts = 2000;      ///< draws per sample before giving up (kpde::InputError)
  /// Half-width of the boundary bands of the mask channels, in pixel diagonals
  /// (mesh::boundary_bands): 0.5 gives bands 1-2 nodes wide on each side, 1.42 about 2
  /// spacings (3 nodes inside a box side), like the masks of HyPINO's benchmarks.
  double band_half_width = 0.5;
  int n_interior = 1024;        ///< interior training points per sample
  int n_boundary = 256;         ///< boundary training points per sample
  /// Throws InputError (naming the setting) on ranges that are empty or out of bounds,
  /// holes that cannot fit in [-0.9,0.9]^2, and class/term/hole combinations that no
  /// draw can satisfy (e.g. only elliptic problems with at most one term).
  void validate() const;
};

/// A random manufactured solution u(x, y) as expression text (parseable by
/// pde::Expression with variables x, y): u = 0, then n updates (n uniform in
/// [updates_min, updates_max]), each with psi from {identity, sin, cos, tanh, sigmoid,
/// 1/(1+s^2)}, a, b (0 with probability ab_zero_probability, else uniform in
/// [-ab_range, ab_range]), c, d, e uniform in [-cde_range, cde_range], and one rule:
///   add: u + d psi(a x + b y + c) + e;  multiply: u (d psi(a x + b y + c) + e);
///   compose: d psi(a u + c) + e.
/// Numbers are printed with 17 significant digits (the text reproduces the draw).
std::string random_solution(Rng& rng, int updates_min, int updates_max, const MmsSettings& s);

/// A random operator: coefficients (c_u, c_ux, c_uy, c_uxx, c_uyy, c_uxy = 0) and its
/// class, drawn until the class is one of s.classes (at most 1000 draws; InputError
/// then). 1 to 3 distinct terms, each coefficient uniform in [-range, range]; then
/// normalised so that y is time where there is one: a draw whose only second-order
/// term is u_yy, or whose only first-order term is u_x, swaps x and y; parabolic
/// draws get c_uy of the sign opposite to c_uxx (forward in time); first-order draws
/// with c_uy < 0 are negated (inflow at y = -1). Draws with no derivative in y after
/// that (u alone, u_xx + u, ...) are degenerate and redrawn.
OperatorClass random_operator(Rng& rng, const MmsSettings& s, std::array<double, 6>* coefficients);

/// One generated sample. Grids are [n][n] row-major, pixel (i, j) at
/// x = -1 + 2j/(n-1), y = 1 - 2i/(n-1) (row 0 at y = +1, as HyPINO).
struct MmsSample {
  std::array<double, 6> coefficients{};  ///< c_u, c_ux, c_uy, c_uxx, c_uyy, c_uxy
  OperatorClass op_class = OperatorClass::elliptic;
  bool has_solution = true;
  std::string solution;        ///< u's expression ("" when unknown)
  std::string boundary_function;  ///< the function whose traces are the boundary data
  std::string geometry;        ///< the domain, e.g. "box [-1,1]^2 - disk 'hole0' (0.1, 0.2) r 0.3"
  std::string conditions;      ///< e.g. "left: dirichlet; hole0: dirichlet+neumann"
  std::string operator_text;   ///< e.g. "1.2*u_xx + 0.7*u_yy"
  double source_constant = 0;  ///< physics-only f (NaN for manufactured samples)
  int attempts = 0;            ///< draws used (1 = first draw accepted)
  std::string last_rejection;  ///< reason of the last rejected draw ("" if none)
  int n = 0;
  std::vector<double> domain_mask, dirichlet_mask, neumann_mask, dirichlet_values,
      neumann_values, source;  ///< [n][n]
  std::vector<double> normals;  ///< [n][n][2], outward normal on boundary-band nodes, 0 elsewhere
  std::vector<double> u, u_x, u_y, u_xx, u_yy, u_xy;  ///< [n][n]; 0 outside, NaN if unknown
  // training points
  std::vector<double> interior_points;    ///< [n_interior][2]
  std::vector<double> interior_source;    ///< [n_interior]
  std::vector<double> interior_solution;  ///< [n_interior] (NaN if unknown)
  std::vector<double> boundary_points;    ///< [n_boundary][2]
  std::vector<double> boundary_normals;   ///< [n_boundary][2]
  std::vector<double> boundary_kind;      ///< [n_boundary]: 0 Dirichlet, 1 Neumann
  std::vector<double> boundary_values;    ///< [n_boundary]: u (Dirichlet) or n . grad u
};

/// Rejection counts by reason, summed over attempts.
struct MmsStats {
  long attempts = 0, accepted = 0;
  long rejected_value = 0, rejected_std = 0, rejected_source = 0, rejected_derivative = 0,
       rejected_nonfinite = 0, rejected_geometry = 0;
  MmsStats& operator+=(const MmsStats& o) {
    attempts += o.attempts, accepted += o.accepted, rejected_value += o.rejected_value;
    rejected_std += o.rejected_std, rejected_source += o.rejected_source;
    rejected_derivative += o.rejected_derivative, rejected_nonfinite += o.rejected_nonfinite;
    rejected_geometry += o.rejected_geometry;
    return *this;
  }
};

/// The sample `index` of the stream `seed` (see the file comment); stats (optional)
/// accumulates rejection counts. Throws kpde::InputError when max_attempts draws
/// are all rejected (the message gives the counts by reason).
MmsSample generate_mms_sample(const MmsSettings& s, std::uint64_t seed, std::uint64_t index,
                              MmsStats* stats = nullptr);

/// A 64-bit hash of (seed, a, b) (splitmix64 rounds), for per-sample seeds.
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0);

}  // namespace kpde::data
