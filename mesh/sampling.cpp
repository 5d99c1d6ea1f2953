#include "mesh/sampling.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "core/rng.hpp"
#include "mesh/sobol.hpp"

namespace kpde::mesh {

InteriorMethod parse_interior_method(const std::string& name) {
  const std::string s = to_lower(name);
  if (s == "uniform") return InteriorMethod::uniform;
  if (s == "latin_hypercube" || s == "lhs") return InteriorMethod::latin_hypercube;
  if (s == "sobol") return InteriorMethod::sobol;
  throw InputError("sampling: unknown interior sampling method '" + name +
                   "' (use uniform, latin_hypercube (lhs) or sobol)");
}

const char* to_string(InteriorMethod method) {
  switch (method) {
    case InteriorMethod::uniform: return "uniform";
    case InteriorMethod::latin_hypercube: return "latin_hypercube";
    case InteriorMethod::sobol: return "sobol";
  }
  return "?";
}

Mat<double> sample_interior(const Geometry& g, int n, const InteriorOptions& options) {
  if (n < 0) throw InputError("sampling: the number of interior points must be >= 0");
  const int d = g.dim();
  Mat<double> out("interior_points", n, d);
  if (n == 0) return out;
  double vol = 1;
  for (int k = 0; k < d; ++k) vol *= g.hi()[k] - g.lo()[k];
  const double frac = std::clamp(g.measure() / vol, 1e-6, 1.0);
  Rng rng(options.seed);
  SobolSequence sobol(d, options.scramble, options.seed);
  if (options.method == InteriorMethod::sobol && !options.scramble) sobol.skip(1);
  const double budget = 1000.0 * n + 1e6;
  double tried = 0;
  int have = 0;
  while (have < n) {
    const int need = n - have;
    const long m_wanted = frac >= 1.0 ? need : static_cast<long>(std::ceil(need / frac * 1.05)) + 16;
    const int m = static_cast<int>(std::min<long>(m_wanted, 1 << 22));
    if (tried + m > budget)
      throw Error("sampling: could not place " + std::to_string(n) +
                  " interior points: the domain is too small a part of its bounding box");
    tried += m;
    const bool lhs = options.method == InteriorMethod::latin_hypercube;
    Mat<double> cand = lhs ? latin_hypercube(m, d, rng)
                           : Mat<double>(Kokkos::view_alloc(Kokkos::WithoutInitializing,
                                                            "interior_candidates"),
                                         m, d);
    if (!lhs) {
      double u[3];
      for (int i = 0; i < m; ++i) {
        if (options.method == InteriorMethod::sobol) {
          sobol.next(u);
        } else {
          for (int k = 0; k < d; ++k) u[k] = rng.uniform();
        }
        for (int k = 0; k < d; ++k) cand(i, k) = u[k];
      }
    }
    for (int i = 0; i < m; ++i)
      for (int k = 0; k < d; ++k) cand(i, k) = g.lo()[k] + cand(i, k) * (g.hi()[k] - g.lo()[k]);
    Vec<double> phi(Kokkos::view_alloc(Kokkos::WithoutInitializing, "interior_phi"), m);
    g.sdf(cand, phi);
    for (int i = 0; i < m && have < n; ++i) {
      if (!(phi(i) < 0)) continue;
      for (int k = 0; k < d; ++k) out(have, k) = cand(i, k);
      ++have;
    }
  }
  return out;
}

std::vector<int> boundary_counts(const Geometry& g, int n, const std::vector<int>& parts) {
  if (n < 0) throw InputError("sampling: the number of boundary points must be >= 0");
  std::vector<int> ids = parts;
  if (ids.empty())
    for (int i = 0; i < g.n_parts(); ++i) ids.push_back(i);
  std::vector<char> chosen(g.n_parts(), 0);
  double total = 0;
  for (int id : ids) {
    if (id < 0 || id >= g.n_parts())
      throw InputError("sampling: boundary part id " + std::to_string(id) + " does not exist");
    if (chosen[id]) continue;
    chosen[id] = 1;
    total += g.part_length(id);
  }
  std::vector<int> counts(g.n_parts(), 0);
  if (n == 0) return counts;
  if (!(total > 0)) {
    std::string names;
    for (int i = 0; i < g.n_parts(); ++i)
      if (chosen[i]) names += (names.empty() ? "'" : ", '") + g.part_name(i) + "'";
    throw InputError("sampling: the boundary parts " + names +
                     " have zero length on the domain boundary");
  }
  std::vector<std::pair<double, int>> rest;
  int assigned = 0;
  for (int i = 0; i < g.n_parts(); ++i) {
    if (!chosen[i]) continue;
    const double exact = n * g.part_length(i) / total;
    counts[i] = static_cast<int>(std::floor(exact));
    assigned += counts[i];
    if (g.part_length(i) > 0) rest.push_back({exact - counts[i], i});
  }
  std::stable_sort(rest.begin(), rest.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; assigned < n; k = (k + 1) % rest.size(), ++assigned) ++counts[rest[k].second];
  return counts;
}

BoundarySamples sample_boundary(const Geometry& g, int n, std::uint64_t seed,
                                const std::vector<int>& parts) {
  const std::vector<int> counts = boundary_counts(g, n, parts);
  const int d = g.dim();
  BoundarySamples s;
  s.x = Mat<double>("boundary_points", n, d);
  s.normal = Mat<double>("boundary_normals", n, d);
  s.part = Vec<int>("boundary_parts", n);
  s.part_names = g.part_names();
  Rng rng(seed);
  int row = 0;
  for (int id = 0; id < g.n_parts(); ++id) {
    const int want = counts[id];
    if (want == 0) continue;
    const std::vector<int>& cells = g.candidate_cells(id);
    const int m = g.cells_per_axis(id), p = g.param_dim(id);
    const double budget = 1000.0 * want + 1e4;
    double tried = 0;
    int got = 0;
    while (got < want) {
      if (++tried > budget || cells.empty())
        throw Error("sampling: could not place points on boundary part '" + g.part_name(id) +
                    "' (its piece on the domain boundary is too small)");
      const int c = cells[std::min<std::size_t>(
          static_cast<std::size_t>(rng.uniform() * cells.size()), cells.size() - 1)];
      double u[2] = {(c % m + rng.uniform()) / m, 0.0};
      if (p == 2) u[1] = (c / m + rng.uniform()) / m;
      Point x, nrm;
      if (!g.part_point(id, u, &x, &nrm)) continue;
      for (int k = 0; k < d; ++k) s.x(row, k) = x[k], s.normal(row, k) = nrm[k];
      s.part(row) = id;
      ++row, ++got;
    }
  }
  return s;
}

}  // namespace kpde::mesh
