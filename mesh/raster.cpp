#include "mesh/raster.hpp"

#include <cmath>
#include <vector>

#include "core/error.hpp"

namespace kpde::mesh {

namespace {
void require_2d(const Geometry& g) {
  if (g.dim() != 2)
    throw InputError("raster: rasterising needs a 2-D geometry, this one is " +
                     std::to_string(g.dim()) + "-D");
}
}  // namespace

Grid Grid::bounding(const Geometry& geometry, int n, bool top_row_first) {
  require_2d(geometry);
  return Grid{n, geometry.lo()[0], geometry.hi()[0], geometry.lo()[1], geometry.hi()[1],
              top_row_first};
}

void Grid::validate() const {
  if (n < 2) throw InputError("raster: the grid needs n >= 2 nodes per axis, got " + std::to_string(n));
  if (!std::isfinite(x_lo) || !std::isfinite(x_hi) || !std::isfinite(y_lo) || !std::isfinite(y_hi) ||
      !(x_lo < x_hi) || !(y_lo < y_hi))
    throw InputError("raster: the grid box needs finite x_lo < x_hi and y_lo < y_hi");
}

namespace {

/// 1 when x lies in the closure of Omega: phi < 0, or |phi| <= 1e-12 scale and one of 8
/// points at distance 1e-8 scale around x has phi < 0.
double in_closure(const Geometry* g, const Point& x, double tol, double eps) {
  const double phi = g->sdf(x);
  bool in = phi < 0;
  for (int k = 0; k < 8 && !in && phi <= tol; ++k) {
    const double a = 0.7853981633974483 * k;
    in = g->sdf(Point{x[0] + eps * std::cos(a), x[1] + eps * std::sin(a), 0}) < 0;
  }
  return in ? 1.0 : 0.0;
}

}  // namespace

Mat<double> domain_mask(const Geometry& g, const Grid& grid) {
  require_2d(g);
  grid.validate();
  const int n = grid.n;
  Mat<double> mask("domain_mask", n, n);
  const double tol = 1e-12 * g.scale(), eps = 1e-8 * g.scale();
  const Geometry* gp = &g;
  Kokkos::parallel_for("kpde::mesh::domain_mask", Kokkos::RangePolicy<HostExec>(0, n * n), [=](int p) {
    const int i = p / n, j = p % n;
    mask(i, j) = in_closure(gp, Point{grid.x(j), grid.y(i), 0}, tol, eps);
  });
  Kokkos::fence();
  return mask;
}

std::vector<double> closure_mask(const Geometry& g, const Mat<const double>& x) {
  require_2d(g);
  std::vector<double> mask(x.extent(0));
  const double tol = 1e-12 * g.scale(), eps = 1e-8 * g.scale();
  const Geometry* gp = &g;
  double* m = mask.data();
  Kokkos::parallel_for("kpde::mesh::closure_mask", Kokkos::RangePolicy<HostExec>(0, x.extent(0)),
                       [=](std::size_t p) { m[p] = in_closure(gp, Point{x(p, 0), x(p, 1), 0}, tol, eps); });
  Kokkos::fence();
  return mask;
}

Mat<int> boundary_bands(const Geometry& g, const Grid& grid, double band_half_width) {
  require_2d(g);
  grid.validate();
  if (!(band_half_width > 0))
    throw InputError("raster: the band half width must be > 0 pixels");
  const int n = grid.n;
  Mat<int> bands("boundary_bands", n, n);
  const double w = band_half_width * std::hypot(grid.hx(), grid.hy());
  const Geometry* gp = &g;
  Kokkos::parallel_for("kpde::mesh::boundary_bands", Kokkos::RangePolicy<HostExec>(0, n * n),
                       [=](int p) {
                         const int i = p / n, j = p % n;
                         const Point x{grid.x(j), grid.y(i), 0};
                         bands(i, j) = std::abs(gp->sdf(x)) <= w ? gp->closest_part(x) : -1;
                       });
  Kokkos::fence();
  return bands;
}

ConditionMasks condition_masks(const Geometry& g, const Mat<const int>& bands,
                               const std::map<std::string, BoundaryKind>& conditions) {
  if (bands.extent(0) != bands.extent(1))
    throw InputError("raster: the band map must be square (n x n)");
  std::vector<int> kind(g.n_parts(), -1);
  for (const auto& [name, k] : conditions) kind[g.part_id(name)] = static_cast<int>(k);
  const int n = static_cast<int>(bands.extent(0));
  ConditionMasks m{Mat<double>("dirichlet_mask", n, n), Mat<double>("neumann_mask", n, n)};
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const int id = bands(i, j);
      const int k = id >= 0 && id < g.n_parts() ? kind[id] : -1;
      m.dirichlet(i, j) = k == static_cast<int>(BoundaryKind::dirichlet) ? 1.0 : 0.0;
      m.neumann(i, j) = k == static_cast<int>(BoundaryKind::neumann) ? 1.0 : 0.0;
    }
  return m;
}

}  // namespace kpde::mesh
