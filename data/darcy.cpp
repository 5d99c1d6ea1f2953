#include "data/darcy.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/mms.hpp"
#include "data/reference/reference_solver.hpp"
#include "mesh/shape.hpp"

namespace kpde::data {

namespace {
constexpr double kPi = 3.141592653589793238462643383;
constexpr double kEdge = 1e-9;  // a node this close to a shape's edge is on it

std::size_t at(int n, int i, int j) { return static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j); }

/// Whether (x, y) is in the closed shape g (the table of darcy.hpp).
bool in_shape(DarcyGeometry g, double x, double y) {
  switch (g) {
    case DarcyGeometry::square: return true;
    case DarcyGeometry::disk: return (x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5) <= 0.25 + kEdge;
    case DarcyGeometry::triangle: {
      const double s3 = std::sqrt(3.0);
      return y >= -kEdge && y <= s3 * x + kEdge && y <= s3 * (1 - x) + kEdge;
    }
    case DarcyGeometry::lshape: return x <= 0.5 + kEdge || y <= 0.5 + kEdge;
    case DarcyGeometry::cross: {
      const double dx = std::abs(x - 0.5), dy = std::abs(y - 0.5);
      const bool hole = (dx < 0.1 - kEdge && dy < 0.3 - kEdge) || (dx < 0.3 - kEdge && dy < 0.1 - kEdge);
      return !hole;
    }
  }
  return false;
}
}  // namespace

const std::vector<std::string>& darcy_geometries() {
  static const std::vector<std::string> names{"square", "disk", "triangle", "lshape", "cross"};
  return names;
}

DarcyGeometry parse_darcy_geometry(const std::string& name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto& names = darcy_geometries();
  for (std::size_t k = 0; k < names.size(); ++k)
    if (lower == names[k]) return static_cast<DarcyGeometry>(k);
  throw InputError("darcy.geometry: unknown geometry '" + name + "' (expected one of: square, disk, triangle, lshape, cross)");
}

std::string darcy_geometry_name(DarcyGeometry g) { return darcy_geometries().at(static_cast<std::size_t>(g)); }

std::vector<double> darcy_mask(DarcyGeometry g, int n) {
  std::vector<double> m(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double x = static_cast<double>(j) / (n - 1), y = 1 - static_cast<double>(i) / (n - 1);
      m[at(n, i, j)] = in_shape(g, x, y) ? 1.0 : 0.0;
    }
  return m;
}

std::vector<double> darcy_interior(const std::vector<double>& mask, int n) {
  std::vector<double> r(mask.size(), 0.0);
  for (int i = 1; i < n - 1; ++i)
    for (int j = 1; j < n - 1; ++j)
      r[at(n, i, j)] = mask[at(n, i, j)] != 0 && mask[at(n, i - 1, j)] != 0 && mask[at(n, i + 1, j)] != 0 &&
                               mask[at(n, i, j - 1)] != 0 && mask[at(n, i, j + 1)] != 0
                           ? 1.0
                           : 0.0;
  return r;
}

void DarcySettings::validate() const {
  if (grid < 8 || grid > 1025) throw InputError("grid: expected 8 to 1025 nodes per axis for darcy, got " + std::to_string(grid));
  if (!(a_plus > 0) || !(a_minus > 0)) throw InputError("darcy.a_plus, darcy.a_minus: the permeability must be > 0");
  if (!(tau > 0) || !(alpha > 0)) throw InputError("darcy.tau, darcy.alpha: expected > 0");
  if (!std::isfinite(source)) throw InputError("darcy.source: expected a finite number");
  if (!(rtol > 0 && rtol < 1)) throw InputError("darcy.rtol: expected in (0, 1)");
  if (static_cast<int>(geometry) < 0 || static_cast<int>(geometry) > 4) throw InputError("darcy.geometry: not a geometry");
}

std::vector<double> darcy_field(const DarcySettings& s, std::uint64_t seed, std::uint64_t index) {
  const int n = s.grid;
  Rng rng(mix_seed(seed, index, 0xda5cULL));
  // coefficients xi_k (pi^2 |k|^2 + tau^2)^(-alpha/2), k1 (rows of X) along x, k2 along y
  Eigen::MatrixXd X(n, n);
  for (int k1 = 0; k1 < n; ++k1)
    for (int k2 = 0; k2 < n; ++k2) {
      const double xi = rng.normal();
      const double lam = kPi * kPi * (static_cast<double>(k1) * k1 + static_cast<double>(k2) * k2);
      X(k1, k2) = (k1 == 0 && k2 == 0) ? 0.0 : xi * std::pow(lam + s.tau * s.tau, -0.5 * s.alpha);
    }
  // C(i, k) = cos(pi k t_i), t_i = i / (n - 1): g(x_j, y_i) = sum C(j, k1) X(k1, k2) C(i', k2)
  Eigen::MatrixXd C(n, n);
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < n; ++k) C(i, k) = std::cos(kPi * k * static_cast<double>(i) / (n - 1));
  const Eigen::MatrixXd G = C * X * C.transpose();  // G(jx, jy) = g(x_jx, y_jy)
  std::vector<double> out(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)      // row i at y = 1 - i/(n-1): y index n-1-i
    for (int j = 0; j < n; ++j) out[static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)] = G(j, n - 1 - i);
  return out;
}

DarcySample generate_darcy_sample(const DarcySettings& s, std::uint64_t seed, std::uint64_t index) {
  s.validate();
  const int n = s.grid;
  const std::size_t nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  DarcySample out;
  out.n = n;
  out.field = darcy_field(s, seed, index);
  out.permeability.resize(nn);
  for (std::size_t q = 0; q < nn; ++q) out.permeability[q] = out.field[q] > 0 ? s.a_plus : s.a_minus;
  out.mask = darcy_mask(s.geometry, n);

  // a(x, y) for the solver: node values, face values the mean of the two nodes
  const std::vector<double>& a = out.permeability;
  const double m = 2.0 * (n - 1);
  auto node = [&](long ix, long iy) {  // ix along x, iy along y (0 at y = 0)
    ix = std::clamp<long>(ix, 0, n - 1);
    iy = std::clamp<long>(iy, 0, n - 1);
    return a[static_cast<std::size_t>(n - 1 - iy) * static_cast<std::size_t>(n) + static_cast<std::size_t>(ix)];
  };
  Fn2 diffusion = [node, m](double x, double y) {
    const long hx = std::lround(x * m), hy = std::lround(y * m);  // half-grid indices
    const long ix = hx / 2, iy = hy / 2;
    const bool ox = (hx & 1) != 0, oy = (hy & 1) != 0;
    if (ox && oy) return 0.25 * (node(ix, iy) + node(ix + 1, iy) + node(ix, iy + 1) + node(ix + 1, iy + 1));
    if (ox) return 0.5 * (node(ix, iy) + node(ix + 1, iy));
    if (oy) return 0.5 * (node(ix, iy) + node(ix, iy + 1));
    return node(ix, iy);
  };
  const mesh::Geometry geom(mesh::box({0, 0}, {1, 1}));
  FdProblem p;
  p.geometry = &geom;
  p.diffusion = diffusion;
  const double f = s.source;
  p.source = [f](double, double) { return f; };
  for (int part = 0; part < geom.n_parts(); ++part) p.conditions.push_back(FdCondition{part, FdConditionKind::dirichlet, {}});
  if (s.geometry != DarcyGeometry::square) {  // the mask in the solver's orientation (row 0 at y = 0)
    p.grid_mask.resize(nn);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) p.grid_mask[at(n, i, j)] = out.mask[at(n, n - 1 - i, j)] != 0 ? 1 : 0;
  }
  FdOptions o;
  o.n = n;
  o.refine = 1;
  o.rtol = s.rtol;
  o.solver = s.solver;
  const FdSolution sol = solve_reference(p, o, MPI_COMM_SELF);
  out.solution.resize(nn);
  for (int i = 0; i < n; ++i)  // FdSolution: row 0 at y = 0; ours: row 0 at y = 1
    for (int j = 0; j < n; ++j) out.solution[static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)] = sol.u(n - 1 - i, j);
  out.iterations = sol.iterations;
  out.solve_s = sol.wall_s;
  return out;
}

std::vector<double> darcy_residual(int n, const std::vector<double>& a, const std::vector<double>& u, double source,
                                   const std::vector<double>& mask) {
  const double h = 1.0 / (n - 1);
  const std::size_t nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  if (a.size() != nn || u.size() != nn || (!mask.empty() && mask.size() != nn))
    throw InputError("darcy_residual: the fields must have n x n = " + std::to_string(nn) + " values");
  const std::vector<double> inner = darcy_interior(mask.empty() ? std::vector<double>(nn, 1.0) : mask, n);
  std::vector<double> r(nn, 0.0);
  for (int i = 1; i < n - 1; ++i)
    for (int j = 1; j < n - 1; ++j) {
      if (inner[at(n, i, j)] == 0) continue;
      const double aP = a[at(n, i, j)], uP = u[at(n, i, j)];
      double flux = 0;
      const int di[4] = {-1, 1, 0, 0}, dj[4] = {0, 0, -1, 1};
      for (int k = 0; k < 4; ++k) {
        const double af = 0.5 * (aP + a[at(n, i + di[k], j + dj[k])]);
        flux += af * (u[at(n, i + di[k], j + dj[k])] - uP);
      }
      r[at(n, i, j)] = -flux / (h * h) - source;
    }
  return r;
}

}  // namespace kpde::data
