// The finite-difference assembly of the reference solvers: what the row builders share,
// the discretisation (input checks, classification, numbering) and the output grid. The
// rows are built in fd_elliptic.cpp and fd_time.cpp. See fd_assembly.hpp and
// docs/reference.md.
#include "data/reference/fd_assembly.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace kpde::data::fd {

std::string at(double x, double y) { return "(" + format_number(x) + ", " + format_number(y) + ")"; }

double call(const Fn2& f, double x, double y) { return f ? f(x, y) : 0.0; }

Bc normalise(const FdCondition& c) {
  Bc b;
  b.value = &c.value;
  switch (c.kind) {
    case FdConditionKind::dirichlet:
      b.alpha = 1, b.beta = 0;
      break;
    case FdConditionKind::neumann:
      b.alpha = 0, b.beta = 1;
      break;
    case FdConditionKind::robin:
      if (!std::isfinite(c.alpha) || !std::isfinite(c.beta) || (c.alpha == 0 && c.beta == 0))
        throw InputError("reference: a Robin condition needs finite alpha, beta, not both 0 (got alpha = " +
                         format_number(c.alpha) + ", beta = " + format_number(c.beta) + ")");
      if (c.beta == 0) {
        b.alpha = 1, b.beta = 0, b.scale = 1 / c.alpha;
      } else {
        b.alpha = c.alpha, b.beta = c.beta;
      }
      break;
  }
  return b;
}

Coeffs coefficients(const FdProblem& p, double x, double y) {
  Coeffs k;
  for (int m = 0; m < 6; ++m) k.c[m] = call(p.coefficient[m], x, y);
  if (p.diffusion) k.a = p.diffusion(x, y);
  for (int m = 0; m < 6; ++m)
    if (!std::isfinite(k.c[m]))
      throw InputError("reference: coefficient " + std::to_string(m) + " is not finite at " + at(x, y));
  if (!std::isfinite(k.a)) throw InputError("reference: the diffusion a is not finite at " + at(x, y));
  return k;
}

Coeffs unit_coeffs(int k) {
  Coeffs c;
  c.c[k] = 1;
  return c;
}


/// Splits [0, M) over the ranks of comm as PETSc does by default.
void ownership(MPI_Comm comm, long M, long* begin, long* end) {
  int size = 1, rank = 0;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  const long base = M / size, extra = M % size;
  *begin = rank * base + std::min<long>(rank, extra);
  *end = *begin + base + (rank < extra ? 1 : 0);
}


/// Re-throws, on every rank of comm, the exception of the lowest rank that has one
/// (InputError stays InputError), so that no rank is left waiting in a collective.
void collective_rethrow(MPI_Comm comm, const std::exception_ptr& local) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  int size = 1;
  MPI_Comm_size(comm, &size);
  int mine = local ? rank : size, first = size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return;
  std::string message;
  int input = 0;
  if (rank == first) {
    try {
      std::rethrow_exception(local);
    } catch (const InputError& e) {
      message = e.what();
      input = 1;
    } catch (const std::exception& e) {
      message = e.what();
    }
  }
  int len = static_cast<int>(message.size());
  MPI_Bcast(&len, 1, MPI_INT, first, comm);
  MPI_Bcast(&input, 1, MPI_INT, first, comm);
  message.resize(len);
  MPI_Bcast(message.data(), len, MPI_CHAR, first, comm);
  if (rank == first) std::rethrow_exception(local);
  if (input) throw InputError(message);
  throw Error(message);
}

void merge_entries(Row& row) {
  std::sort(row.entries.begin(), row.entries.end());
  std::size_t m = 0;
  for (std::size_t k = 0; k < row.entries.size(); ++k) {
    if (m > 0 && row.entries[m - 1].first == row.entries[k].first)
      row.entries[m - 1].second += row.entries[k].second;
    else
      row.entries[m++] = row.entries[k];
  }
  row.entries.resize(m);
}

Terms terms_of(const FdProblem& p) {
  Terms t;
  t.nonlinear = static_cast<bool>(p.residual);
  for (int k = 0; k < 6; ++k)
    t.has[k] = t.nonlinear ? p.residual->depends_on(k) : static_cast<bool>(p.coefficient[k]);
  return t;
}

std::unique_ptr<Assembler> make_assembler(const FdProblem& problem, const Terms& terms, System& system) {
  if (problem.time_axis == 1) return make_time_assembler(problem, terms, system);
  return make_elliptic_assembler(problem, terms, system);
}

Discretisation::Discretisation(const FdProblem& problem, const FdOptions& options, MPI_Comm comm) {
  // ---- input checks (identical on every rank: no collective needed)
  if (!problem.geometry) throw InputError("reference: the problem has no geometry");
  const mesh::Geometry& geo = *problem.geometry;
  if (geo.dim() != 2)
    throw InputError("reference: the finite-difference solver is 2-D only; the geometry is " +
                     std::to_string(geo.dim()) + "-D");
  if (options.n < 3) throw InputError("reference: n must be >= 3 nodes per axis, got " + std::to_string(options.n));
  if (options.refine < 1) throw InputError("reference: refine must be >= 1, got " + std::to_string(options.refine));
  if (!(options.rtol > 0) || !(options.rtol < 1))
    throw InputError("reference: rtol must be in (0, 1), got " + format_number(options.rtol));
  if (problem.time_axis != -1 && problem.time_axis != 1)
    throw InputError("reference: time_axis must be -1 (none) or 1 (y is time), got " +
                     std::to_string(problem.time_axis));
  const long n_internal = static_cast<long>(options.n - 1) * options.refine + 1;
  if (n_internal * n_internal > 200000000L)
    throw InputError("reference: the internal grid " + std::to_string(n_internal) + "^2 is too large");
  for (const auto& c : problem.conditions)
    if (c.part < 0 || c.part >= geo.n_parts())
      throw InputError("reference: a condition names part id " + std::to_string(c.part) + ", the geometry has " +
                       std::to_string(geo.n_parts()) + " parts");
  if (problem.residual) {
    if (problem.residual->n_variables() != 8)
      throw InputError("reference: the residual must be an expression over u, u_x, u_y, u_xx, u_yy, u_xy, x, y "
                       "(8 variables), it has " + std::to_string(problem.residual->n_variables()));
    for (int k = 0; k < 6; ++k)
      if (problem.coefficient[k])
        throw InputError("reference: give either a residual or coefficients, not both");
    if (problem.diffusion)
      throw InputError("reference: a residual cannot have the divergence term -div(a grad u); write it in the residual");
  }
  terms = terms_of(problem);
  const bool time_problem = problem.time_axis == 1;
  if (!problem.grid_mask.empty()) {
    if (time_problem || terms.has[c_uxy])
      throw InputError("reference: a grid mask takes elliptic problems without a u_xy term only");
    if (static_cast<long>(problem.grid_mask.size()) != n_internal * n_internal)
      throw InputError("reference: the grid mask has " + std::to_string(problem.grid_mask.size()) +
                       " nodes; the internal grid has " + std::to_string(n_internal) + "^2");
  }
  if (!time_problem && problem.grid_mask.empty()) {
    bool anchored = terms.has[c_u];
    for (const auto& c : problem.conditions)
      anchored = anchored || c.kind == FdConditionKind::dirichlet ||
                 (c.kind == FdConditionKind::robin && c.alpha != 0);
    if (!anchored)
      throw InputError(std::string("reference: the problem has only Neumann conditions and no ") +
                       (terms.nonlinear ? "dependence on u" : "c_u term") +
                       ": its solution is defined only up to a constant (add a Dirichlet or Robin condition or a " +
                       (terms.nonlinear ? "u term" : "c_u term") + ")");
  }
  s.L.N = static_cast<int>(n_internal);
  s.L.x_lo = geo.lo()[0], s.L.x_hi = geo.hi()[0], s.L.y_lo = geo.lo()[1], s.L.y_hi = geo.hi()[1];
  s.L.hx = (s.L.x_hi - s.L.x_lo) / (s.L.N - 1);
  s.L.hy = (s.L.y_hi - s.L.y_lo) / (s.L.N - 1);
  const long NN = static_cast<long>(s.L.N) * s.L.N;

  // ---- classification (every rank, whole grid) and this rank's rows
  std::exception_ptr failure;
  try {
    assembler = make_assembler(problem, terms, s);
    assembler->classify();
    s.unknown.assign(NN, -1);
    for (long id = 0; id < NN; ++id)
      if (s.kind[id] == kInterior || s.kind[id] == kBoundaryUnknown) {
        s.unknown[id] = static_cast<long>(s.node_of.size());
        s.node_of.push_back(id);
      }
    s.M = static_cast<long>(s.node_of.size());
    if (s.M == 0) throw InputError("reference: the grid has no unknown node inside Omega; raise n");
    ownership(comm, s.M, &s.row_begin, &s.row_end);
  } catch (...) {
    failure = std::current_exception();
  }
  collective_rethrow(comm, failure);
}

void fill_solution(const System& s, const FdOptions& options, const double* u_all, FdSolution& out) {
  const int n = options.n, r = options.refine;
  out.grid = mesh::Grid{n, s.L.x_lo, s.L.x_hi, s.L.y_lo, s.L.y_hi, false};
  out.u = Mat<double>("u", n, n);
  out.mask = Mat<double>("domain_mask", n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const long id = s.L.id(i * r, j * r);
      if (s.kind[id] == kOutside) continue;
      out.mask(i, j) = 1;
      out.u(i, j) = s.unknown[id] >= 0 ? u_all[s.unknown[id]] : s.known[id];
    }
  out.n_unknowns = s.M;
  out.n_internal = s.L.N;
}

}  // namespace kpde::data::fd
