#pragma once
/// The finite-difference assembly shared by the linear (KSP) and the nonlinear (SNES)
/// reference solvers: the node classification of the internal grid and the row of every
/// unknown (docs/reference.md). Internal to data/reference; the public interface is
/// reference_solver.hpp and nonlinear_system.hpp. The row builders are in
/// fd_elliptic.cpp and fd_time.cpp.
///
/// A row of a PDE node is linear in the operator's coefficients: for coefficients
/// c_0..c_5 (FdCoefficient order) it is sum_k c_k S_k with S_k the stencil of D_k u at
/// the node (central, Shortley-Weller, least-squares or ghost-node rows; space-time rows
/// for time problems). The linear solver builds it from the problem's coefficients at
/// once (RowSpec{-1}); the nonlinear solver asks for each S_k alone (RowSpec{k}) and
/// combines them with the exact derivatives of its residual. Rows of boundary nodes
/// that carry a condition (not the PDE) do not depend on the coefficients.
#include <mpi.h>

#include <array>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/reference/fd_problem.hpp"
#include "data/reference/reference_solver.hpp"

namespace kpde::data::fd {

/// The internal grid: N x N nodes on the bounding box, node id = i * N + j (row i at y_i).
struct Layout {
  int N = 0;
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1, hx = 1, hy = 1;
  double x(int j) const { return j == N - 1 ? x_hi : x_lo + (x_hi - x_lo) * j / (N - 1); }
  double y(int i) const { return i == N - 1 ? y_hi : y_lo + (y_hi - y_lo) * i / (N - 1); }
  long id(int i, int j) const { return static_cast<long>(i) * N + j; }
  bool in(int i, int j) const { return i >= 0 && j >= 0 && i < N && j < N; }
};

enum Kind : std::uint8_t { kOutside = 0, kInterior = 1, kBoundaryUnknown = 2, kKnown = 3 };

/// One sparse row under construction: unknown columns and the right-hand side, so that
/// the row states  sum entries . u = rhs.
struct Row {
  std::vector<std::pair<long, double>> entries;
  double rhs = 0;
  /// True for a row of the PDE (interior and ghost-node rows, every row of a time
  /// problem), false for a row of a boundary condition.
  bool pde = false;
  /// The point at which a PDE row discretises the operator (x_j, y_i; the midpoint in
  /// time of a Crank-Nicolson row).
  double x = 0, y = 0;
  void clear() {
    entries.clear();
    rhs = 0;
    pde = false;
    x = y = 0;
  }
};

/// Sorts the row's entries by column and sums duplicate columns.
void merge_entries(Row& row);

/// Which operator a PDE row discretises.
struct RowSpec {
  /// -1: the problem's coefficients and source at the row's point (checked: elliptic,
  /// forward in time, finite); k in 0..5: the stencil of D_k u alone (coefficient k = 1,
  /// the others 0, no source, no checks), so that D_k u = entries . u - rhs.
  int unit = -1;
};

/// Which terms the operator has: has[k] for D_k u (FdCoefficient order). Linear: the
/// non-empty coefficients; nonlinear: the derivatives the residual depends on. Decides the
/// shape of the rows (u_xy needs the diagonal neighbours or a fit; a time problem with
/// c_uyy is hyperbolic).
struct Terms {
  std::array<bool, 6> has{};
  bool nonlinear = false;
};
Terms terms_of(const FdProblem& problem);

/// The discrete system (every rank holds the node tables, each its own rows).
struct System {
  Layout L;
  std::vector<double> phi;          // sdf at the nodes
  std::vector<std::uint8_t> kind;   // Kind
  std::vector<double> known;        // value at kKnown nodes
  std::vector<int> part;            // condition part at boundary nodes, -1 elsewhere
  std::vector<long> unknown;        // node -> unknown index or -1
  std::vector<long> node_of;        // unknown -> node
  long M = 0;                       // unknowns
  long row_begin = 0, row_end = 0;  // this rank's rows

  /// Adds coef * u(node) to the row: an entry for an unknown, -coef * value to the
  /// right-hand side for a known node.
  void add(Row& row, long node, double coef) const {
    const long c = unknown[node];
    if (c >= 0)
      row.entries.emplace_back(c, coef);
    else
      row.rhs -= coef * known[node];
  }
};

/// Classifies the nodes of one problem kind and builds the rows of its unknowns.
class Assembler {
 public:
  virtual ~Assembler() = default;
  /// Fills System::phi, kind, known and part for the whole grid.
  virtual void classify() = 0;
  /// The row of unknown r (node System::node_of[r]) into `row` (cleared first): a PDE row
  /// for `spec` or a condition row (independent of spec). Throws InputError for bad
  /// coefficients or data at the node (linear rows only) and Error where no stencil fits.
  virtual void row(long r, const RowSpec& spec, Row& row) = 0;
};

/// The elliptic (time_axis = -1) or time-problem assembler of `problem` over `system`
/// (System::L set); both must outlive it. Checks what does not depend on the grid nodes'
/// classification (conditions per part, time-problem structure), InputError.
std::unique_ptr<Assembler> make_assembler(const FdProblem& problem, const Terms& terms, System& system);

/// The input checks of solve_reference that need no grid (InputError), the layout of the
/// internal grid, classification and numbering of the unknowns (node_of in node order),
/// this rank's rows [row_begin, row_end) of `comm`. The assembler stays for building rows.
/// Errors thrown on any rank are thrown on every rank (collective).
struct Discretisation {
  System s;
  Terms terms;
  std::unique_ptr<Assembler> assembler;
  Discretisation(const FdProblem& problem, const FdOptions& options, MPI_Comm comm);
};

/// Splits [0, M) over the ranks of comm as PETSc does by default.
void ownership(MPI_Comm comm, long M, long* begin, long* end);

/// Re-throws, on every rank of comm, the exception of the lowest rank that has one
/// (InputError stays InputError), so that no rank is left waiting in a collective.
void collective_rethrow(MPI_Comm comm, const std::exception_ptr& local);

/// The FdSolution's grid, u and mask from the unknowns' values `u_all` [M] (every rank
/// holds them all) and the known nodes.
void fill_solution(const System& s, const FdOptions& options, const double* u_all, FdSolution& out);

// ---- helpers of the row builders (fd_elliptic.cpp, fd_time.cpp)

/// "(x, y)" for messages.
std::string at(double x, double y);
/// f(x, y), 0 for an empty f.
double call(const Fn2& f, double x, double y);

/// A boundary condition in the normalised form alpha u + beta du/dn = scale * g.
/// beta == 0 is Dirichlet (alpha == 1).
struct Bc {
  double alpha = 1, beta = 0, scale = 1;
  const Fn2* value = nullptr;
  bool dirichlet() const { return beta == 0; }
  double g(double x, double y) const { return value && *value ? scale * (*value)(x, y) : 0.0; }
};
/// The normalised form of a condition; InputError for a Robin condition with alpha = beta = 0.
Bc normalise(const FdCondition& c);

/// Axis directions E, W, N, S: row and column steps (d ^ 1 is the opposite one).
constexpr int kDi[4] = {0, 0, 1, -1};
constexpr int kDj[4] = {1, -1, 0, 0};

/// Coefficients at a point (FdCoefficient order) and the diffusion a.
struct Coeffs {
  double c[6] = {0, 0, 0, 0, 0, 0};
  double a = 0;
};
/// The problem's coefficients and a at (x, y); InputError where one is not finite.
Coeffs coefficients(const FdProblem& p, double x, double y);
/// The unit coefficient vector e_k (a stencil row, RowSpec::unit = k).
Coeffs unit_coeffs(int k);

/// The row builders of elliptic problems (time_axis = -1) and of time problems.
std::unique_ptr<Assembler> make_elliptic_assembler(const FdProblem& problem, const Terms& terms, System& system);
std::unique_ptr<Assembler> make_time_assembler(const FdProblem& problem, const Terms& terms, System& system);

}  // namespace kpde::data::fd
