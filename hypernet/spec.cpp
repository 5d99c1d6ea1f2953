#include "hypernet/spec.hpp"

#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "io/hdf5.hpp"
#include "mesh/raster.hpp"

namespace kpde::hypernet {

namespace {

std::string pixel(const Spec& s, std::size_t q) {
  const int i = static_cast<int>(q / static_cast<std::size_t>(s.n)), j = static_cast<int>(q % static_cast<std::size_t>(s.n));
  std::ostringstream o;
  o << "pixel (row " << i << ", column " << j << ") at x = " << -1 + 2.0 * j / (s.n - 1)
    << ", y = " << 1 - 2.0 * i / (s.n - 1);
  return o.str();
}

}  // namespace

void Spec::validate() const {
  const std::string who = "hypernetwork specification '" + name + "'";
  if (n != kGrid)
    throw InputError(who + ": the grids are " + std::to_string(n) + " x " + std::to_string(n) + "; expected " +
                     std::to_string(kGrid) + " x " + std::to_string(kGrid) + " (the canonical grid on [-1,1]^2)");
  const std::size_t nn = size();
  const std::pair<const char*, const std::vector<double>*> channels[] = {
      {"dirichlet_mask", &dirichlet_mask}, {"neumann_mask", &neumann_mask}, {"dirichlet_values", &dirichlet_values},
      {"neumann_values", &neumann_values}, {"source", &source},             {"domain_mask", &domain_mask}};
  for (const auto& [what, v] : channels) {
    if (v->size() != nn)
      throw InputError(who + ": channel " + what + " has " + std::to_string(v->size()) + " values; expected " +
                       std::to_string(nn) + " (" + std::to_string(n) + " x " + std::to_string(n) + ")");
    for (std::size_t q = 0; q < nn; ++q)
      if (!std::isfinite((*v)[q]))
        throw InputError(who + ": channel " + what + " is not finite (" + std::to_string((*v)[q]) + ") at " +
                         pixel(*this, q));
  }
  for (const auto& [what, v] : {channels[0], channels[1], channels[5]})
    for (std::size_t q = 0; q < nn; ++q)
      if ((*v)[q] != 0 && (*v)[q] != 1)
        throw InputError(who + ": mask " + what + " must hold 0 or 1; found " + std::to_string((*v)[q]) + " at " +
                         pixel(*this, q));
  bool any = false;
  for (double c : coefficients) {
    if (!std::isfinite(c)) throw InputError(who + ": a coefficient is not finite");
    any = any || c != 0;
  }
  if (!any) throw InputError(who + ": every coefficient (c_u, c_ux, c_uy, c_uxx, c_uyy) is 0; there is no PDE");
  double n_dirichlet = 0, n_neumann = 0, n_domain = 0;
  for (std::size_t q = 0; q < nn; ++q) n_dirichlet += dirichlet_mask[q], n_neumann += neumann_mask[q], n_domain += domain_mask[q];
  if (n_domain == 0) throw InputError(who + ": the domain mask is empty (no pixel where the PDE holds)");
  if (elliptic() && n_dirichlet == 0)
    throw InputError(who + ": the Dirichlet mask is empty on an elliptic problem (c_uxx c_uyy > 0); the solution "
                           "is not unique without Dirichlet data on some boundary part");
  if (n_neumann > 0) {
    if (normals.size() != 2 * nn)
      throw InputError(who + ": the Neumann mask has " + std::to_string(static_cast<long>(n_neumann)) +
                       " pixels but no normals [n][n][2] were given");
    for (std::size_t q = 0; q < nn; ++q)
      if (neumann_mask[q] > 0) {
        const double l = std::hypot(normals[2 * q], normals[2 * q + 1]);
        if (!(std::abs(l - 1) < 1e-6))
          throw InputError(who + ": the normal on the Neumann mask is not a unit vector (length " + std::to_string(l) +
                           ") at " + pixel(*this, q));
      }
  }
}

Spec spec_from_sample(const data::MmsSample& sample, const std::string& name) {
  Spec s;
  s.name = name;
  s.n = sample.n;
  for (int k = 0; k < 5; ++k) s.coefficients[static_cast<std::size_t>(k)] = sample.coefficients[static_cast<std::size_t>(k)];
  s.dirichlet_mask = sample.dirichlet_mask;
  s.neumann_mask = sample.neumann_mask;
  s.dirichlet_values = sample.dirichlet_values;
  s.neumann_values = sample.neumann_values;
  s.source = sample.source;
  s.domain_mask = sample.domain_mask;
  s.normals = sample.normals;
  for (std::size_t q = 0; q < s.size(); ++q)
    if (s.neumann_mask[q] == 0) s.normals[2 * q] = s.normals[2 * q + 1] = 0;
  if (sample.has_solution) s.reference = sample.u;
  return s;
}

std::vector<std::string> benchmark_groups(const std::string& path) {
  const io::H5File f = io::H5File::open(path);
  std::vector<std::string> out;
  for (const std::string& d : f.list_datasets("/")) {
    const std::size_t slash = d.rfind('/');
    if (slash == std::string::npos || d.substr(slash + 1) != "dirichlet_mask") continue;
    std::string g = d.substr(0, slash);
    if (!g.empty() && g[0] == '/') g = g.substr(1);
    out.push_back(g);
  }
  return out;
}

Spec spec_from_benchmark(const std::string& path, const std::string& group) {
  const io::H5File f = io::H5File::open(path);
  const std::string where = "benchmark file '" + path + "', group '" + group + "'";
  if (!f.exists(group + "/dirichlet_mask")) {
    std::string have;
    for (const std::string& g : benchmark_groups(path)) have += (have.empty() ? "" : ", ") + g;
    throw InputError(where + ": no such group with a dirichlet_mask (groups: " + (have.empty() ? "none" : have) + ")");
  }
  Spec s;
  s.name = group;
  if (f.has_attribute(group, "id")) s.name = f.string_attribute(group, "id");
  const std::vector<double> c = f.numbers_attribute(group, "coefficients");
  if (c.size() != 5)
    throw InputError(where + ": attribute coefficients holds " + std::to_string(c.size()) +
                     " numbers; expected 5 (c_u, c_ux, c_uy, c_uxx, c_uyy)");
  for (std::size_t k = 0; k < 5; ++k) s.coefficients[k] = c[k];
  io::Shape shape;
  const auto grid = [&](const char* name, std::vector<double>& out) {
    out = f.read(group + "/" + name, &shape);
    if (shape.size() != 2 || shape[0] != static_cast<std::size_t>(kGrid) || shape[1] != static_cast<std::size_t>(kGrid))
      throw InputError(where + ": dataset " + name + " has shape " + io::shape_string(shape) + "; expected [" +
                       std::to_string(kGrid) + " x " + std::to_string(kGrid) + "] (the canonical grid on [-1,1]^2)");
    s.n = static_cast<int>(shape[0]);
  };
  grid("dirichlet_mask", s.dirichlet_mask);
  grid("neumann_mask", s.neumann_mask);
  grid("dirichlet_conditions", s.dirichlet_values);
  grid("neumann_conditions", s.neumann_values);
  grid("source_function", s.source);
  grid("domain_mask", s.domain_mask);
  if (f.exists(group + "/reference_solution")) grid("reference_solution", s.reference);
  const std::size_t nn = s.size();
  for (std::vector<double>* v : {&s.dirichlet_mask, &s.neumann_mask, &s.domain_mask, &s.dirichlet_values,
                                 &s.neumann_values, &s.source, &s.reference})
    if (!v->empty() && v->size() != nn)
      throw InputError(where + ": the grids differ in size; expected all " + std::to_string(s.n) + " x " +
                       std::to_string(s.n));
  double n_neumann = 0;
  for (double m : s.neumann_mask) n_neumann += m != 0;
  if (n_neumann > 0) {
    if (!f.exists(group + "/neumann_normals"))
      throw InputError(where + ": the Neumann mask is not empty but there is no dataset neumann_normals [2][n][n]");
    const std::vector<double> nr = f.read_checked(group + "/neumann_normals", {2, static_cast<std::size_t>(s.n),
                                                                              static_cast<std::size_t>(s.n)});
    s.normals.assign(2 * nn, 0);
    const auto inside = [&](int i, int j) {
      return i >= 0 && j >= 0 && i < s.n && j < s.n &&
             s.domain_mask[static_cast<std::size_t>(i) * static_cast<std::size_t>(s.n) + static_cast<std::size_t>(j)] > 0;
    };
    const auto given = [&](int i, int j, double& nx, double& ny) {
      if (i < 0 || j < 0 || i >= s.n || j >= s.n) return false;
      const std::size_t r = static_cast<std::size_t>(i) * static_cast<std::size_t>(s.n) + static_cast<std::size_t>(j);
      nx = nr[r], ny = nr[nn + r];
      return std::hypot(nx, ny) > 0;
    };
    for (std::size_t q = 0; q < nn; ++q) {
      if (s.neumann_mask[q] == 0) continue;
      const int qi = static_cast<int>(q / static_cast<std::size_t>(s.n)), qj = static_cast<int>(q % static_cast<std::size_t>(s.n));
      double nx = 0, ny = 0;
      // a band pixel without a normal (HyPINO's wave file has normals in 2 of its 3 rows)
      // takes the normal of the closest pixel within 3 that has one
      bool found = given(qi, qj, nx, ny);
      for (int r = 1; r <= 3 && !found; ++r)
        for (int di = -r; di <= r && !found; ++di)
          for (int dj = -r; dj <= r && !found; ++dj)
            if (std::max(std::abs(di), std::abs(dj)) == r) found = given(qi + di, qj + dj, nx, ny);
      if (!found)
        throw InputError(where + ": neumann_normals is 0 on the Neumann pixel (row " + std::to_string(qi) + ", column " +
                         std::to_string(qj) + ") and on every pixel within 3 of it");
      const double l = std::hypot(nx, ny);
      nx /= l, ny /= l;
      // Outward normal of Omega: stepping 3 pixels along n must leave the domain (rows
      // grow downwards, i.e. towards -y).
      const int i = static_cast<int>(q / static_cast<std::size_t>(s.n)), j = static_cast<int>(q % static_cast<std::size_t>(s.n));
      const int di = static_cast<int>(std::lround(-3 * ny)), dj = static_cast<int>(std::lround(3 * nx));
      if (inside(i + di, j + dj) && !inside(i - di, j - dj)) {
        nx = -nx, ny = -ny;
        s.neumann_values[q] = -s.neumann_values[q];
      }
      s.normals[2 * q] = nx, s.normals[2 * q + 1] = ny;
    }
  }
  return s;
}

BoxMap box_map(const data::Problem& problem) {
  BoxMap m;
  for (int a = 0; a < 2; ++a) m.lo[static_cast<std::size_t>(a)] = problem.geometry->lo()[static_cast<std::size_t>(a)],
                              m.hi[static_cast<std::size_t>(a)] = problem.geometry->hi()[static_cast<std::size_t>(a)];
  return m;
}

Spec spec_from_problem(const data::Problem& problem) {
  const std::string who = "problem '" + problem.name + "'";
  const auto refuse = [&](const std::string& what) {
    throw InputError(who + ": the hypernetwork takes 2-D linear problems with constant coefficients (c_u, c_ux, "
                           "c_uy, c_uxx, c_uyy), Dirichlet and Neumann conditions, y as the time axis if any; " +
                     what);
  };
  if (problem.dim != 2) refuse("this one is " + std::to_string(problem.dim) + "-D");
  if (problem.nonlinear) refuse("this one is nonlinear");
  if (!problem.constant_coefficients()) refuse("this one has a coefficient that varies in space");
  if (problem.time_axis == 0) refuse("this one has x as the time axis (put time on y)");
  const BoxMap map = box_map(problem);
  const double kx = map.scale(0), ky = map.scale(1);
  Spec s;
  s.name = problem.name;
  s.n = kGrid;
  for (const data::LinearTerm& t : problem.linear_terms()) {
    const double c = t.coefficient.constant_value();
    const std::string d = t.derivative.name();
    if (d == "u") s.coefficients[0] += c;
    else if (d == "u_x") s.coefficients[1] += c * kx;
    else if (d == "u_y") s.coefficients[2] += c * ky;
    else if (d == "u_xx") s.coefficients[3] += c * kx * kx;
    else if (d == "u_yy") s.coefficients[4] += c * ky * ky;
    else refuse("this one has a term " + d);
  }
  for (const data::Condition& c : problem.conditions)
    if (c.kind == mesh::BoundaryKind::robin) refuse("this one has a Robin condition on '" + c.part_name + "'");

  const mesh::Geometry& geom = *problem.geometry;
  const mesh::Grid grid{kGrid, map.lo[0], map.hi[0], map.lo[1], map.hi[1], true};
  const Mat<double> mask = mesh::domain_mask(geom, grid);
  const Mat<int> bands = mesh::boundary_bands(geom, grid, kBandHalfWidth);
  const std::size_t nn = s.size();
  for (std::vector<double>* v : {&s.dirichlet_mask, &s.neumann_mask, &s.dirichlet_values, &s.neumann_values,
                                 &s.source, &s.domain_mask})
    v->assign(nn, 0);
  s.normals.assign(2 * nn, 0);
  // source at the nodes of the domain
  std::vector<std::size_t> in_nodes;
  std::vector<double> xy;
  for (int i = 0; i < kGrid; ++i)
    for (int j = 0; j < kGrid; ++j)
      if (mask(i, j) > 0) {
        in_nodes.push_back(static_cast<std::size_t>(i) * kGrid + static_cast<std::size_t>(j));
        xy.insert(xy.end(), {grid.x(j), grid.y(i)});
      }
  if (!in_nodes.empty()) {
    const Mat<const double> pts(xy.data(), in_nodes.size(), 2);
    std::vector<double> f(in_nodes.size());
    problem.source.values(pts, f.data());
    for (std::size_t k = 0; k < in_nodes.size(); ++k) s.domain_mask[in_nodes[k]] = 1, s.source[in_nodes[k]] = f[k];
  }
  // boundary data at the closest boundary point of every band node
  for (int i = 0; i < kGrid; ++i)
    for (int j = 0; j < kGrid; ++j) {
      const int part = bands(i, j);
      if (part < 0) continue;
      const mesh::Point x{grid.x(j), grid.y(i), 0};
      const mesh::Point nr = geom.normal(x);
      const double phi = geom.sdf(x);
      const mesh::Point b{x[0] - phi * nr[0], x[1] - phi * nr[1], 0};
      const std::size_t q = static_cast<std::size_t>(i) * kGrid + static_cast<std::size_t>(j);
      for (const data::Condition& c : problem.conditions) {
        if (c.part != part) continue;
        const double g = c.value(b);
        if (c.kind == mesh::BoundaryKind::dirichlet) {
          s.dirichlet_mask[q] = 1, s.dirichlet_values[q] = g;
        } else {
          // canonical normal n' = K^-1 n / |K^-1 n| (K = diag(kx, ky)); its data
          // n'.grad' u = g |K^-1 n| when n is axis-aligned or kx = ky.
          const double ax = nr[0] / kx, ay = nr[1] / ky, l = std::hypot(ax, ay);
          if (std::abs(kx - ky) > 1e-12 * kx && std::abs(nr[0]) > 1e-9 && std::abs(nr[1]) > 1e-9)
            refuse("the Neumann condition on '" + c.part_name + "' lies on a curved boundary of a box that is not "
                   "square (the map to [-1,1]^2 would mix the normal and tangential derivatives)");
          s.neumann_mask[q] = 1, s.neumann_values[q] = g * l;
          s.normals[2 * q] = ax / l, s.normals[2 * q + 1] = ay / l;
        }
      }
    }
  s.validate();
  return s;
}

}  // namespace kpde::hypernet
