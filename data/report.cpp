#include "data/report.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/strings.hpp"
#include "data/reference/from_problem.hpp"
#include "mesh/raster.hpp"
#include "mesh/sampling.hpp"

namespace kpde::data {

Mat<double> output_points(const Problem& p, const GridCounts& counts, GridFields* grid, std::vector<double>* mask) {
  const mesh::Geometry& geo = *p.geometry;
  const auto axis = [&](int a) {
    std::vector<double> v;
    const int n = counts[a];
    for (int j = 0; j < n; ++j) v.push_back(j == n - 1 ? geo.hi()[a] : geo.lo()[a] + (geo.hi()[a] - geo.lo()[a]) * j / (n - 1));
    return v;
  };
  grid->x = axis(0);
  grid->y = p.dim >= 2 ? axis(1) : std::vector<double>{0.0};
  grid->z = p.dim == 3 ? axis(2) : std::vector<double>{};
  const std::size_t nx = grid->nx(), ny = grid->ny(), nz = std::max<std::size_t>(grid->nz(), 1);
  Mat<double> pts("kpde::data::grid_points", nx * ny * nz, p.dim);
  for (std::size_t k = 0; k < nz; ++k)
    for (std::size_t i = 0; i < ny; ++i)
      for (std::size_t j = 0; j < nx; ++j) {
        const std::size_t q = (k * ny + i) * nx + j;
        pts(q, 0) = grid->x[j];
        if (p.dim >= 2) pts(q, 1) = grid->y[i];
        if (p.dim == 3) pts(q, 2) = grid->z[k];
      }
  if (p.dim == 2) {
    *mask = mesh::closure_mask(geo, pts);
  } else if (p.dim == 3) {
    // nodes in the closure of Omega (boundary nodes count)
    const Vec<double> phi("kpde::data::grid_sdf", pts.extent(0));
    geo.sdf(pts, phi);
    const double tol = 1e-12 * geo.scale();
    mask->resize(pts.extent(0));
    for (std::size_t q = 0; q < pts.extent(0); ++q) (*mask)[q] = phi(q) <= tol ? 1.0 : 0.0;
  } else {
    mask->assign(nx, 1.0);
  }
  return pts;
}

namespace {

/// The node count of the square PETSc grid: n[0] = n[1].
int square_count(const GridCounts& n, const std::string& where) {
  if (n[0] != n[1])
    throw InputError(where + ": the PETSc reference solves on n x n nodes, but the output grid has " +
                     std::to_string(n[0]) + " x " + std::to_string(n[1]) + " (give one count: --n N or output.n: N)");
  return n[0];
}

}  // namespace

GridTruth petsc_grid_truth(const Problem& problem, const FdOptions& options, const GridCounts& n,
                           const std::string& where) {
  const FdProblem fd = to_fd_problem(problem, where);
  FdOptions fo = options;
  fo.n = square_count(n, where);
  const FdSolution sol = solve_reference(fd, fo);
  GridTruth t;
  t.name = "reference";
  t.description = "PETSc finite differences (" + sol.solver + ", " + std::to_string(sol.n_internal) + " x " +
                  std::to_string(sol.n_internal) + " nodes) on the output grid";
  t.values.assign(sol.u.data(), sol.u.data() + sol.u.size());
  return t;
}

ReferenceRun run_reference(const Problem& p, const FdOptions& options, const GridCounts& n, const std::string& out,
                           const std::string& resolved_config, const std::string& where) {
  const FdProblem fd = to_fd_problem(p, where);
  FdOptions fo = options;
  fo.n = square_count(n, where);
  ReferenceRun run;
  run.solution = solve_reference(fd, fo);
  const FdSolution& sol = run.solution;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  make_output_directory(out);
  GridData grid;
  grid.values.assign(sol.u.data(), sol.u.data() + sol.u.size());
  grid.nx = grid.ny = sol.grid.n;
  grid.x_lo = sol.grid.x_lo, grid.x_hi = sol.grid.x_hi, grid.y_lo = sol.grid.y_lo, grid.y_hi = sol.grid.y_hi;
  grid.top_row_first = false;
  // u at any point: bilinear interpolation of the grid solution (exact at its nodes)
  const PointEval eval = [&](const Mat<const double>& x, std::vector<double>* u, std::vector<double>*) {
    u->resize(x.extent(0));
    for (std::size_t k = 0; k < x.extent(0); ++k) (*u)[k] = grid(x(k, 0), x(k, 1));
  };
  Report rep = build_report(p, n, eval, false);
  io::JsonValue& metrics = rep.metrics;
  metrics.set("method", "petsc_fd");
  metrics.set("solver", sol.solver);
  metrics.set("wall_s", sol.wall_s);
  metrics.set("setup_s", sol.setup_s);
  metrics.set("solve_s", sol.solve_s);
  metrics.set("iterations", sol.iterations);
  metrics.set("n_unknowns", sol.n_unknowns);
  metrics.set("n_internal", sol.n_internal);
  metrics.set("relative_residual", sol.residual_norm);
  if (rank == 0)
    write_solution_outputs(out, rep.fields, {}, metrics, resolved_config,
                           "kpde reference: PETSc finite-difference solution of '" + p.name + "'");
  run.summary = rep.summary;
  return run;
}

ReferenceRun run_named_reference(const Problem& p, const GridCounts& n, const std::string& out,
                                 const std::string& resolved_config) {
  KPDE_REQUIRE(p.named_reference.has_value(), Error, "run_named_reference: the problem has no named reference");
  const auto t0 = std::chrono::steady_clock::now();
  Problem q = p;  // compared with the other truths of the problem, not with itself
  q.named_reference.reset();
  const PointEval eval = [&](const Mat<const double>& x, std::vector<double>* u, std::vector<double>*) {
    u->resize(x.extent(0));
    p.named_reference->values(x, u->data());
  };
  Report rep = build_report(q, n, eval, false);
  ReferenceRun run;
  run.solution.solver = "named";
  run.solution.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rep.metrics.set("method", "named_reference");
  rep.metrics.set("reference", p.named_reference->description);
  rep.metrics.set("wall_s", run.solution.wall_s);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0)
    write_solution_outputs(out, rep.fields, {}, rep.metrics, resolved_config,
                           "kpde reference: " + p.named_reference->description + " for '" + p.name + "'");
  run.summary = rep.summary;
  return run;
}

io::JsonValue time_to_accuracy(const std::vector<double>& wall_s, const std::vector<double>& errors) {
  io::JsonValue tt = io::JsonValue::object();
  for (int d = 1; d <= 8; ++d) {
    const double level = std::pow(10.0, -d);
    for (std::size_t k = 0; k < errors.size(); ++k)
      if (errors[k] <= level) {
        char key[16];
        std::snprintf(key, sizeof key, "1e-%d", d);
        tt.set(key, wall_s[k]);
        break;
      }
  }
  return tt;
}

namespace {

void set_errors(io::JsonValue& m, const ErrorMetrics& e, const std::string& against) {
  m.set("rel_l2", e.rel_l2);
  m.set("mse", e.mse);
  m.set("max_abs_err", e.max_abs_err);
  m.set("error_nodes", e.n);
  m.set("error_against", against);
  if (e.truth_vanishes) {
    m.set("rms_err", std::sqrt(e.mse));
    m.set("error_note", "the truth is 0 at every node: rel_l2 is undefined, see rms_err and max_abs_err");
  }
}

}  // namespace

Mat<double> reference_nodes(const Problem& p, std::vector<double>* mask) {
  const GridData& ref = *p.reference->solution;
  Mat<double> pts("kpde::data::reference_points", std::size_t(ref.nx) * ref.ny, 2);
  const mesh::Grid grid{ref.nx, ref.x_lo, ref.x_hi, ref.y_lo, ref.y_hi, ref.top_row_first};
  for (int i = 0; i < ref.ny; ++i)
    for (int j = 0; j < ref.nx; ++j) {
      pts(i * ref.nx + j, 0) = grid.x(j);
      pts(i * ref.nx + j, 1) = ref.top_row_first ? ref.y_hi - (ref.y_hi - ref.y_lo) * i / (ref.ny - 1)
                                                 : ref.y_lo + (ref.y_hi - ref.y_lo) * i / (ref.ny - 1);
    }
  if (p.reference->mask) {
    *mask = p.reference->mask->values;
  } else {
    const Mat<double> m = mesh::domain_mask(*p.geometry, grid);
    mask->assign(m.data(), m.data() + m.size());
  }
  return pts;
}

bool has_truth(const Problem& p) {
  return p.exact || p.named_reference || p.reference || p.point_reference || !p.field_points.empty() ||
         std::any_of(p.field_exact.begin(), p.field_exact.end(), [](const auto& f) { return f.has_value(); });
}

TruthSample truth_sample(const Problem& p, std::size_t n_max) {
  TruthSample t;
  if (p.exact || p.named_reference) {
    // 4096-style fixed (unscrambled Sobol) points of the domain
    mesh::InteriorOptions io;
    io.method = mesh::InteriorMethod::sobol;
    io.scramble = false;
    t.points = mesh::sample_interior(*p.geometry, static_cast<int>(n_max), io);
    t.u.resize(t.points.extent(0));
    if (p.exact) {
      p.exact->values(t.points, t.u.data());
      t.against = "exact solution";
    } else {
      p.named_reference->values(t.points, t.u.data());
      t.against = p.named_reference->description;
    }
    return t;
  }
  // the reference's own nodes (in-mask grid nodes, or the points), every stride-th of them
  std::vector<double> pts, u;
  int dim = p.dim;
  if (p.reference) {
    std::vector<double> mask;
    const Mat<double> nodes = reference_nodes(p, &mask);
    const std::vector<double>& v = p.reference->solution->values;
    for (std::size_t k = 0; k < mask.size(); ++k)
      if (mask[k] != 0) pts.push_back(nodes(k, 0)), pts.push_back(nodes(k, 1)), u.push_back(v[k]);
    dim = 2;
    t.against = "reference grid " + p.reference->solution->origin;
  } else if (p.point_reference) {
    pts = p.point_reference->points;
    u = p.point_reference->u;
    t.against = "reference points " + p.point_reference->origin;
  } else {
    return t;
  }
  const std::size_t n = u.size(), stride = std::max<std::size_t>(1, (n + n_max - 1) / std::max<std::size_t>(n_max, 1));
  const std::size_t m = (n + stride - 1) / stride;
  t.points = Mat<double>("kpde::data::truth_points", m, dim);
  t.u.resize(m);
  for (std::size_t q = 0; q < m; ++q) {
    for (int a = 0; a < dim; ++a) t.points(q, a) = pts[q * stride * dim + a];
    t.u[q] = u[q * stride];
  }
  return t;
}

Report build_system_report(const Problem& p, const GridCounts& n, const SystemEval& eval) {
  KPDE_REQUIRE(p.is_system(), Error, "build_system_report: not a system");
  Report rep;
  io::JsonValue& metrics = rep.metrics;
  metrics.set("problem", p.name);
  std::vector<double> mask;
  const Mat<double> pts = output_points(p, n, &rep.fields, &mask);
  std::vector<std::vector<double>> u, r;
  eval(pts, &u, &r);
  const std::size_t N = mask.size();
  for (auto* set : {&u, &r})
    for (auto& f : *set)
      for (std::size_t k = 0; k < N; ++k)
        if (mask[k] == 0) f[k] = 0;
  rep.fields.unknowns = p.fields;
  metrics.set("unknowns", join(p.fields, ","));
  io::JsonValue per_field = io::JsonValue::object();
  double worst = -1;
  for (std::size_t f = 0; f < p.fields.size(); ++f) {
    const std::string& name = p.fields[f];
    rep.fields.fields.push_back({name, u[f]});
    if (!p.field_exact[f]) continue;
    std::vector<double> truth(N), err(N);
    p.field_exact[f]->values(pts, truth.data());
    for (std::size_t k = 0; k < N; ++k) {
      if (mask[k] == 0) truth[k] = 0;
      err[k] = mask[k] != 0 ? u[f][k] - truth[k] : 0;
    }
    const ErrorMetrics m = error_metrics(u[f], truth, mask);
    io::JsonValue fm = io::JsonValue::object();
    set_errors(fm, m, "exact solution on the output grid");
    per_field.set(name, fm);
    // the headline: the field with the largest rel_l2 (a field whose truth vanishes only
    // when no other has one)
    const double key = std::isnan(m.rel_l2) ? -0.5 : m.rel_l2;
    if (key > worst) {
      worst = key;
      rep.summary = m;
      metrics.set("rel_l2_field", name);
    }
    rep.fields.fields.push_back({name + "_exact", truth});
    rep.fields.fields.push_back({name + "_error", err});
  }
  if (const auto* field = metrics.find("rel_l2_field")) {
    set_errors(metrics, rep.summary, "exact solution of " + field->text() + " (the field with the largest rel_l2)");
    metrics.set("fields", per_field);
  }
  // point references (tables such as Ghia et al.'s centre lines): the fields evaluated at
  // each table's own points
  if (!p.field_points.empty()) {
    io::JsonValue tables = io::JsonValue::object();
    double worst_abs = 0;
    for (const FieldPointReference& ref : p.field_points) {
      const std::size_t n = ref.points.size() / p.dim;
      Mat<double> at("kpde::data::reference_points", n, p.dim);
      for (std::size_t k = 0; k < n; ++k)
        for (int a = 0; a < p.dim; ++a) at(k, a) = ref.points[k * p.dim + a];
      std::vector<std::vector<double>> up;
      eval(at, &up, nullptr);
      io::JsonValue per = io::JsonValue::object();
      for (const auto& [f, values] : ref.values) {
        const ErrorMetrics m = error_metrics(up[f], values, {});
        io::JsonValue fm = io::JsonValue::object();
        fm.set("rel_l2", m.rel_l2);
        fm.set("mse", m.mse);
        fm.set("max_abs_err", m.max_abs_err);
        fm.set("points", static_cast<long>(n));
        per.set(p.fields[f], fm);
        worst_abs = std::max(worst_abs, m.max_abs_err);
        const double key = std::isnan(m.rel_l2) ? -0.5 : m.rel_l2;
        if (!metrics.find("fields") && key > worst) {  // no exact solution: the tables are the headline
          worst = key;
          rep.summary = m;
          set_errors(metrics, m, "reference points " + ref.origin + " (" + p.fields[f] + ", the table and field with the "
                                 "largest rel_l2)");
        }
      }
      tables.set(ref.origin, per);
    }
    metrics.set("points", tables);
    metrics.set("points_max_abs_err", worst_abs);
  }
  io::JsonValue rms = io::JsonValue::object();
  for (std::size_t e = 0; e < p.equations.size(); ++e) {
    double r2 = 0;
    long nr = 0;
    for (std::size_t k = 0; k < N; ++k)
      if (mask[k] != 0) r2 += r[e][k] * r[e][k], ++nr;
    rms.set(p.equations[e].name, nr > 0 ? std::sqrt(r2 / nr) : 0.0);
    rep.fields.fields.push_back({"residual_" + p.equations[e].name, r[e]});
  }
  metrics.set("residual_rms", rms);
  rep.fields.fields.push_back({"domain_mask", mask});
  return rep;
}

Report build_report(const Problem& p, const GridCounts& n, const PointEval& eval, bool with_residual, const GridTruth* given) {
  Report rep;
  io::JsonValue& metrics = rep.metrics;
  metrics.set("problem", p.name);
  {
    std::vector<double> mask, u, r;
    const Mat<double> pts = output_points(p, n, &rep.fields, &mask);
    eval(pts, &u, with_residual ? &r : nullptr);
    const std::size_t N = u.size();
    for (std::size_t k = 0; k < N; ++k)
      if (mask[k] == 0) {
        u[k] = 0;
        if (with_residual) r[k] = 0;
      }
    rep.fields.fields.push_back({"u", u});
    std::vector<double> truth;
    std::string name, against;
    if (p.exact) {
      truth.resize(N);
      p.exact->values(pts, truth.data());
      name = "exact", against = "exact solution on the output grid";
    } else if (given) {
      truth = given->values;
      name = given->name, against = given->description;
    } else if (p.named_reference) {
      truth.resize(N);
      p.named_reference->values(pts, truth.data());
      name = "reference", against = p.named_reference->description + " on the output grid";
    } else if (p.reference) {
      truth.resize(N);
      for (std::size_t k = 0; k < N; ++k) truth[k] = (*p.reference->solution)(pts(k, 0), pts(k, 1));
      name = "reference", against = "";  // headline metrics come from the reference's own grid below
    }
    if (!truth.empty()) {
      std::vector<double> err(N);
      for (std::size_t k = 0; k < N; ++k) {
        if (mask[k] == 0) truth[k] = 0;
        err[k] = mask[k] != 0 ? u[k] - truth[k] : 0;
      }
      if (!against.empty()) {
        rep.summary = error_metrics(u, truth, mask);
        set_errors(metrics, rep.summary, against);
      }
      rep.fields.fields.push_back({name, truth});
      rep.fields.fields.push_back({"error", err});
    }
    if (with_residual) {
      rep.fields.fields.push_back({"residual", r});
      double r2 = 0;
      long nr = 0;
      for (std::size_t k = 0; k < N; ++k)
        if (mask[k] != 0) r2 += r[k] * r[k], ++nr;
      metrics.set("residual_rms", nr > 0 ? std::sqrt(r2 / nr) : 0.0);
    }
    rep.fields.fields.push_back({"domain_mask", mask});
  }
  if (p.reference) {
    // On the reference's own grid: the HyPINO paper's metric, mean over all pixels of
    // (u * mask - reference)^2, and errors over the masked pixels.
    const GridData& ref = *p.reference->solution;
    std::vector<double> mask;
    const Mat<double> pts = reference_nodes(p, &mask);
    std::vector<double> ur;
    eval(pts, &ur, nullptr);
    double se = 0;
    for (std::size_t k = 0; k < ur.size(); ++k) {
      const double e = ur[k] * mask[k] - ref.values[k];
      se += e * e;
    }
    const auto m = error_metrics(ur, ref.values, mask);
    metrics.set("reference_mse_all_pixels", se / double(ur.size()));
    metrics.set("reference_mse_in_mask", m.mse);
    metrics.set("reference_rel_l2", m.rel_l2);
    metrics.set("reference_max_abs_err", m.max_abs_err);
    metrics.set("reference_grid", ref.origin + " [" + std::to_string(ref.ny) + " x " + std::to_string(ref.nx) + "]");
    if (!p.exact && !given && !p.named_reference) {
      rep.summary = m;
      set_errors(metrics, m, "reference grid " + ref.origin);
    }
  }
  if (p.point_reference) {
    // At the reference's own points: the method evaluated there, nothing interpolated.
    const PointReference& ref = *p.point_reference;
    Mat<double> pts("kpde::data::reference_points", ref.size(), p.dim);
    for (std::size_t k = 0; k < ref.size(); ++k)
      for (int a = 0; a < p.dim; ++a) pts(k, a) = ref.points[k * p.dim + a];
    std::vector<double> up;
    eval(pts, &up, nullptr);
    const ErrorMetrics m = error_metrics(up, ref.u, {});
    const std::string origin = ref.origin + " (" + std::to_string(ref.size()) + " points)";
    metrics.set("points_rel_l2", m.rel_l2);
    metrics.set("points_mse", m.mse);
    metrics.set("points_max_abs_err", m.max_abs_err);
    metrics.set("reference_points", origin);
    if (rep.summary.n == 0) {
      rep.summary = m;
      set_errors(metrics, m, "reference points " + origin + ", the solution evaluated at each point");
    }
  }
  if (rep.summary.n == 0) {
    // no ground truth: the keys exist, with null values, and say why
    set_errors(metrics, rep.summary, "none: the problem has no exact solution or reference (set problem.exact, "
                                     "problem.reference: petsc, or a gridded reference)");
  }
  return rep;
}

}  // namespace kpde::data
