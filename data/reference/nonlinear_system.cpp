// The discrete nonlinear system of the Newton reference solver: stencils of the residual's
// derivatives from the shared assembly, F and its exact Jacobian. See nonlinear_system.hpp.
#include "data/reference/nonlinear_system.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "data/reference/fd_assembly.hpp"

namespace kpde::data {

struct FdNonlinearSystem::Impl {
  const FdProblem& problem;
  FdOptions options;
  fd::Discretisation d;
  std::vector<int> active;  // the derivatives k (0..5) R depends on: slot a holds D_active[a]
  int n_slots = 0;

  long begin = 0, end = 0;  // held rows (unknowns)
  std::vector<long> columns;
  std::vector<int> prow, pcol;        // Jacobian pattern (pcol: indices into columns)
  std::vector<std::uint8_t> pde;      // per row
  std::vector<double> x, y, f, scale;  // per row
  // stencil of slot a of row r: entries [sptr[r * n_slots + a], sptr[r * n_slots + a + 1])
  // of (spos: index into pcol, sw: weight), offset soff[r * n_slots + a]; a condition row
  // uses slot 0 for a_r . u - b_r
  std::vector<int> sptr, spos;
  std::vector<double> sw, soff;

  Impl(const FdProblem& p, const FdOptions& o, MPI_Comm comm) : problem(p), options(o), d(p, o, comm) {
    for (int k = 0; k < 6; ++k)
      if (d.terms.has[k]) active.push_back(k);
    n_slots = static_cast<int>(active.size());
    if (n_slots == 0)
      throw InputError("reference: the residual does not depend on u or its derivatives (" + p.residual->text() + ")");
  }

  /// The variables of R at row r (u, derivatives, x, y), from u at the columns.
  void variables(const double* u, long r, double* vars) const {
    for (int k = 0; k < 8; ++k) vars[k] = 0;
    for (int a = 0; a < n_slots; ++a) {
      const std::size_t s = static_cast<std::size_t>(r) * n_slots + a;
      double v = soff[s];
      for (int e = sptr[s]; e < sptr[s + 1]; ++e) v += sw[e] * u[pcol[spos[e]]];
      vars[active[a]] = v;
    }
    vars[6] = x[r], vars[7] = y[r];
  }

  /// Value of slot 0 (a condition row: a_r . u - b_r).
  double slot0(const double* u, long r) const {
    const std::size_t s = static_cast<std::size_t>(r) * n_slots;
    double v = soff[s];
    for (int e = sptr[s]; e < sptr[s + 1]; ++e) v += sw[e] * u[pcol[spos[e]]];
    return v;
  }

  /// Unscaled J row r into vals (pattern order, whole value array).
  void jacobian_row(const double* u, long r, double* vals) const {
    for (int q = prow[r]; q < prow[r + 1]; ++q) vals[q] = 0;
    if (!pde[r]) {
      const std::size_t s = static_cast<std::size_t>(r) * n_slots;
      for (int e = sptr[s]; e < sptr[s + 1]; ++e) vals[spos[e]] += sw[e];
      return;
    }
    double vars[8];
    variables(u, r, vars);
    pde::Expression::Jet jet;
    problem.residual->eval_jet(vars, active.data(), n_slots, jet);
    for (int a = 0; a < n_slots; ++a) {
      const std::size_t s = static_cast<std::size_t>(r) * n_slots + a;
      const double g = jet.grad[a];
      for (int e = sptr[s]; e < sptr[s + 1]; ++e) vals[spos[e]] += g * sw[e];
    }
  }
};

FdNonlinearSystem::FdNonlinearSystem(const FdProblem& problem, const FdOptions& options, MPI_Comm comm) {
  if (!problem.residual) throw InputError("reference: FdNonlinearSystem needs a problem with a residual");
  impl_ = std::make_unique<Impl>(problem, options, comm);
}

FdNonlinearSystem::~FdNonlinearSystem() = default;

long FdNonlinearSystem::n_unknowns() const { return impl_->d.s.M; }
long FdNonlinearSystem::rank_begin() const { return impl_->d.s.row_begin; }
long FdNonlinearSystem::rank_end() const { return impl_->d.s.row_end; }
bool FdNonlinearSystem::time_problem() const { return impl_->problem.time_axis == 1; }
bool FdNonlinearSystem::hyperbolic() const { return time_problem() && impl_->d.terms.has[c_uyy]; }
long FdNonlinearSystem::row_begin() const { return impl_->begin; }
long FdNonlinearSystem::row_end() const { return impl_->end; }
const std::vector<long>& FdNonlinearSystem::columns() const { return impl_->columns; }
const std::vector<int>& FdNonlinearSystem::pattern_rows() const { return impl_->prow; }
const std::vector<int>& FdNonlinearSystem::pattern_cols() const { return impl_->pcol; }

std::vector<long> FdNonlinearSystem::level_starts() const {
  const fd::System& s = impl_->d.s;
  if (!time_problem()) return {0, s.M};
  std::vector<long> starts;
  long level = -1;
  for (long r = 0; r < s.M; ++r) {
    const long k = s.node_of[r] / s.L.N;
    if (k != level) starts.push_back(r), level = k;
  }
  starts.push_back(s.M);
  return starts;
}

void FdNonlinearSystem::build(long begin, long end) {
  Impl& m = *impl_;
  const fd::System& s = m.d.s;
  if (begin < 0 || end > s.M || begin > end) throw Error("reference: FdNonlinearSystem::build: bad row range");
  const long n = end - begin;
  const int A = m.n_slots;
  m.begin = begin, m.end = end;
  m.pde.assign(n, 0);
  m.x.assign(n, 0), m.y.assign(n, 0), m.f.assign(n, 0), m.scale.assign(n, 1.0);
  m.sptr.assign(1, 0);
  m.spos.clear(), m.sw.clear(), m.soff.clear();
  // first pass: stencils with global columns
  std::vector<long> gcol;  // per stencil entry
  fd::Row row;
  for (long r = 0; r < n; ++r) {
    for (int a = 0; a < A; ++a) {
      if (a > 0 && !m.pde[r]) {  // a condition row: slot 0 only
        m.sptr.push_back(static_cast<int>(gcol.size()));
        m.soff.push_back(0);
        continue;
      }
      m.d.assembler->row(begin + r, fd::RowSpec{m.active[a]}, row);
      if (a == 0) {
        m.pde[r] = row.pde;
        m.x[r] = row.x, m.y[r] = row.y;
      } else if (!row.pde) {
        throw Error("reference: internal error: the stencils of unknown " + std::to_string(begin + r) +
                    " disagree on whether it is a PDE row");
      }
      fd::merge_entries(row);
      for (const auto& e : row.entries) {
        if (e.second == 0) continue;
        gcol.push_back(e.first);
        m.sw.push_back(e.second);
      }
      m.sptr.push_back(static_cast<int>(gcol.size()));
      m.soff.push_back(-row.rhs);  // D_k u = entries . u - rhs
      if (!std::isfinite(row.rhs))
        throw InputError("reference: a boundary or initial value is not finite near " +
                         std::string("(") + format_number(row.x) + ", " + format_number(row.y) + ")");
    }
    if (m.pde[r]) {
      m.f[r] = m.problem.source ? m.problem.source(m.x[r], m.y[r]) : 0.0;
      if (!std::isfinite(m.f[r]))
        throw InputError("reference: the source f is not finite at (" + format_number(m.x[r]) + ", " +
                         format_number(m.y[r]) + ")");
    }
  }
  // columns: every referenced unknown and the rows' own
  m.columns = gcol;
  for (long r = begin; r < end; ++r) m.columns.push_back(r);
  std::sort(m.columns.begin(), m.columns.end());
  m.columns.erase(std::unique(m.columns.begin(), m.columns.end()), m.columns.end());
  const auto local = [&](long c) {
    return static_cast<int>(std::lower_bound(m.columns.begin(), m.columns.end(), c) - m.columns.begin());
  };
  // pattern per row: the union of its stencils' columns and its own
  m.prow.assign(1, 0);
  m.pcol.clear();
  m.spos.resize(gcol.size());
  std::vector<int> cols;
  for (long r = 0; r < n; ++r) {
    const int e0 = m.sptr[static_cast<std::size_t>(r) * A], e1 = m.sptr[static_cast<std::size_t>(r + 1) * A];
    cols.clear();
    cols.push_back(local(begin + r));
    for (int e = e0; e < e1; ++e) cols.push_back(local(gcol[e]));
    std::sort(cols.begin(), cols.end());
    cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
    const int base = static_cast<int>(m.pcol.size());
    m.pcol.insert(m.pcol.end(), cols.begin(), cols.end());
    m.prow.push_back(static_cast<int>(m.pcol.size()));
    for (int e = e0; e < e1; ++e)
      m.spos[e] = base + static_cast<int>(std::lower_bound(cols.begin(), cols.end(), local(gcol[e])) - cols.begin());
  }
}

void FdNonlinearSystem::residual(const double* u, double* F) const {
  const Impl& m = *impl_;
  const long n = n_rows();
#pragma omp parallel for schedule(static) if (n > 4096)
  for (long r = 0; r < n; ++r) {
    if (!m.pde[r]) {
      F[r] = m.scale[r] * m.slot0(u, r);
      continue;
    }
    double vars[8];
    m.variables(u, r, vars);
    F[r] = m.scale[r] * (m.problem.residual->eval(vars) - m.f[r]);
  }
}

void FdNonlinearSystem::jacobian(const double* u, double* values) const {
  const Impl& m = *impl_;
  const long n = n_rows();
#pragma omp parallel for schedule(static) if (n > 4096)
  for (long r = 0; r < n; ++r) {
    m.jacobian_row(u, r, values);
    for (int q = m.prow[r]; q < m.prow[r + 1]; ++q) values[q] *= m.scale[r];
  }
}

void FdNonlinearSystem::set_scales(const double* u) {
  Impl& m = *impl_;
  const long n = n_rows();
  std::vector<double> vals(m.pcol.size());
#pragma omp parallel for schedule(static) if (n > 4096)
  for (long r = 0; r < n; ++r) {
    m.jacobian_row(u, r, vals.data());
    const int own = static_cast<int>(std::lower_bound(m.columns.begin(), m.columns.end(), m.begin + r) -
                                     m.columns.begin());
    double maxabs = 0, diag = 0;
    for (int q = m.prow[r]; q < m.prow[r + 1]; ++q) {
      maxabs = std::max(maxabs, std::abs(vals[q]));
      if (m.pcol[q] == own) diag = vals[q];
    }
    m.scale[r] = maxabs > 0 && std::isfinite(maxabs) ? (diag < 0 ? -1.0 : 1.0) / maxabs : 1.0;
  }
}

bool FdNonlinearSystem::pde_derivatives(const double* u, long r, double* x, double* y, double* dR) const {
  const Impl& m = *impl_;
  for (int k = 0; k < 6; ++k) dR[k] = 0;
  if (!m.pde[r]) return false;
  double vars[8];
  m.variables(u, r, vars);
  pde::Expression::Jet jet;
  m.problem.residual->eval_jet(vars, m.active.data(), m.n_slots, jet);
  for (int a = 0; a < m.n_slots; ++a) dR[m.active[a]] = jet.grad[a];
  *x = m.x[r], *y = m.y[r];
  return true;
}

void FdNonlinearSystem::row_point(long r, double* x, double* y) const {
  *x = impl_->x[r], *y = impl_->y[r];
}

double FdNonlinearSystem::below(const double* u_all, long r) const {
  const fd::System& s = impl_->d.s;
  const long id = s.node_of[r] - s.L.N;
  if (id < 0) throw Error("reference: internal error: no time level below unknown " + std::to_string(r));
  return s.unknown[id] >= 0 ? u_all[s.unknown[id]] : s.known[id];
}

void FdNonlinearSystem::fill_solution(const double* u_all, FdSolution& out) const {
  fd::fill_solution(impl_->d.s, impl_->options, u_all, out);
}

}  // namespace kpde::data
