// The reference solver on all ranks of PETSC_COMM_WORLD gives the answer of a serial
// (PETSC_COMM_SELF) solve to 1e-10. ctest runs these under mpirun -n 2
// (test_reference_mpi2) as well as on one rank.
#include <gtest/gtest.h>
#include <mpi.h>
#include <petscsys.h>

#include <algorithm>
#include <cmath>

#include "manufactured.hpp"
#include "mesh/shape.hpp"

namespace kpde::data::testing {
namespace {

double max_diff(const FdSolution& a, const FdSolution& b) {
  double d = 0;
  for (int i = 0; i < a.grid.n; ++i)
    for (int j = 0; j < a.grid.n; ++j) {
      EXPECT_EQ(a.mask(i, j), b.mask(i, j));
      d = std::max(d, std::abs(a.u(i, j) - b.u(i, j)));
    }
  return d;
}

void compare_serial_parallel(const FdProblem& p, const std::string& solver) {
  FdOptions o;
  o.n = 65;
  o.rtol = 1e-13;
  o.newton_rtol = 1e-12;
  o.solver = solver;
  const FdSolution serial = solve_reference(p, o, PETSC_COMM_SELF);
  const FdSolution parallel = solve_reference(p, o, PETSC_COMM_WORLD);
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  const double d = max_diff(serial, parallel);
  std::printf("[mpi] ranks=%d solver=%s its serial=%d parallel=%d max|serial - parallel|=%.2e\n", size,
              solver.c_str(), serial.iterations, parallel.iterations, d);
  EXPECT_LT(d, 1e-10);
  // every rank holds the same full answer
  double mine = parallel.u(o.n / 2, o.n / 3), lo = 0, hi = 0;
  MPI_Allreduce(&mine, &lo, 1, MPI_DOUBLE, MPI_MIN, PETSC_COMM_WORLD);
  MPI_Allreduce(&mine, &hi, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD);
  EXPECT_EQ(lo, hi);
}

TEST(ReferenceMpi, EllipticHoleNeumannMixed) {
  const mesh::Geometry g(mesh::box({-1, -1}, {1, 1}) - mesh::disk("hole", 0.13, -0.07, 0.43));
  const Manufactured m("sin(1.5*x + y)*exp(0.3*y)", {"0.5", "0.3", "-0.2", "-1", "-1.2", "0.4"});
  FdProblem p = m.problem(g);
  p.conditions = {m.dirichlet(g, "left"), m.neumann(g, "right"), m.dirichlet(g, "bottom"),
                  m.dirichlet(g, "top"), m.robin(g, "hole", 1.0, 0.5)};
  compare_serial_parallel(p, "hypre");
  compare_serial_parallel(p, "gamg");
  compare_serial_parallel(p, "mumps");
}

TEST(ReferenceMpi, Wave) {
  const mesh::Geometry g(mesh::box({-1, -1}, {1, 1}));
  const Manufactured m("sin(pi*(x+1)/2 + 0.3)*cos(pi*(y+1)) + 0.2*(y+1)*x", {"", "", "", "-2", "0.5", ""});
  FdProblem p = m.problem(g);
  p.time_axis = 1;
  p.conditions = {m.dirichlet(g, "left"), m.dirichlet(g, "right"), m.dirichlet(g, "bottom"),
                  m.neumann(g, "bottom")};
  compare_serial_parallel(p, "auto");
}

TEST(ReferenceMpi, NewtonEllipticHoleNeumann) {
  // a residual expression: rows split over the ranks, u at other ranks' columns scattered
  const mesh::Geometry g(mesh::box({-1, -1}, {1, 1}) - mesh::disk("hole", 0.13, -0.07, 0.43));
  const Manufactured m("sin(1.5*x + y)*exp(0.3*y)", {});
  FdProblem p = m.problem(g);
  p.residual = std::make_shared<const pde::Expression>(pde::Expression::parse(
      "-(1 + 0.5*u^2)*(u_xx + u_yy) + 0.3*u_xy + sinh(u) - 2", {"u", "u_x", "u_y", "u_xx", "u_yy", "u_xy", "x", "y"}));
  p.source = [](double x, double y) { return std::cos(x) * y; };
  p.conditions = {m.dirichlet(g, "left"), m.neumann(g, "right"), m.dirichlet(g, "bottom"),
                  m.dirichlet(g, "top"), m.robin(g, "hole", 1.0, 0.5)};
  compare_serial_parallel(p, "mumps");
  compare_serial_parallel(p, "hypre");
}

TEST(ReferenceMpi, NewtonBurgers) {
  // time levels: every rank solves every level
  const mesh::Geometry g(mesh::box({-1, 0}, {1, 1}));
  FdProblem p;
  p.geometry = &g;
  p.time_axis = 1;
  p.residual = std::make_shared<const pde::Expression>(pde::Expression::parse(
      "u_y + u*u_x - 0.03*u_xx", {"u", "u_x", "u_y", "u_xx", "u_yy", "u_xy", "x", "y"}));
  const Fn2 zero = [](double, double) { return 0.0; };
  p.conditions = {{g.part_id("left"), FdConditionKind::dirichlet, zero},
                  {g.part_id("right"), FdConditionKind::neumann, zero},
                  {g.part_id("bottom"), FdConditionKind::dirichlet, [](double x, double) { return -std::sin(M_PI * x); }}};
  compare_serial_parallel(p, "auto");
}

TEST(ReferenceMpi, ErrorsAreCollective) {
  // a bad row found by one rank only must reach every rank (no hang)
  const mesh::Geometry g(mesh::box({-1, -1}, {1, 1}));
  FdProblem p;
  p.geometry = &g;
  p.coefficient[c_uxx] = [](double, double) { return -1.0; };
  p.coefficient[c_uyy] = [](double, double y) { return y > 0.5 ? 0.0 : -1.0; };  // degenerate on top
  for (int k = 0; k < g.n_parts(); ++k)
    p.conditions.push_back({k, FdConditionKind::dirichlet, nullptr});
  FdOptions o;
  o.n = 33;
  EXPECT_THROW(solve_reference(p, o, PETSC_COMM_WORLD), InputError);
}

}  // namespace
}  // namespace kpde::data::testing
