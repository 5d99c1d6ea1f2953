#include "data/reference/from_problem.hpp"

namespace kpde::data {

namespace {

Fn2 callable(const Field& f) {
  if (f.is_zero()) return {};
  return [f](double x, double y) { return f({x, y, 0.0}); };
}

}  // namespace

FdProblem to_fd_problem(const Problem& p, const std::string& where) {
  const auto refuse = [&](const std::string& why) {
    throw InputError(where + ": the PETSc reference solver cannot solve this problem: " + why);
  };
  if (p.dim != 2) refuse("it handles 2-D problems only, this one is " + std::to_string(p.dim) + "-D");
  if (p.is_system()) refuse("it solves one scalar unknown, this is a system of " + std::to_string(p.n_fields()) + " fields");
  if (p.time_axis >= 0 && p.time_axis != 1) refuse("the time axis must be y");
  FdProblem fd;
  fd.geometry = p.geometry.get();
  fd.time_axis = p.time_axis;
  if (p.nonlinear) {
    // the residual's variables are u, u_x, u_y, u_xx, u_yy, u_xy, x, y (Problem::residual_variables
    // in 2-D), the order FdProblem::residual expects
    const std::vector<std::string> expected = {"u", "u_x", "u_y", "u_xx", "u_yy", "u_xy", "x", "y"};
    if (p.residual_variables != expected) refuse("unexpected variables of the residual expression");
    fd.residual = p.residual;
  }
  for (const auto& t : p.terms) {
    int k = -1;
    const Derivative& d = t.derivative;
    if (d.order == 0) k = c_u;
    else if (d.order == 1) k = d.i == 0 ? c_ux : c_uy;
    else if (d.i == 0 && d.j == 0) k = c_uxx;
    else if (d.i == 1 && d.j == 1) k = c_uyy;
    else k = c_uxy;
    fd.coefficient[k] = callable(t.coefficient);
  }
  if (p.diffusion) fd.diffusion = callable(*p.diffusion);
  fd.source = callable(p.source);
  for (const auto& c : p.conditions) {
    FdCondition fc;
    fc.part = c.part;
    fc.kind = c.kind == mesh::BoundaryKind::dirichlet ? FdConditionKind::dirichlet
              : c.kind == mesh::BoundaryKind::neumann ? FdConditionKind::neumann
                                                      : FdConditionKind::robin;
    fc.value = callable(c.value);
    fc.alpha = c.alpha, fc.beta = c.beta;
    fd.conditions.push_back(fc);
  }
  return fd;
}

FdOptions load_fd_options(config::Node s) {
  FdOptions o;
  o.solver = s.get_choice("solver", "auto", {"auto", "hypre", "gamg", "mumps", "ilu"});
  o.refine = static_cast<int>(s.get_long_min("refine", 1, 1));
  o.rtol = s.get_double_above("rtol", 1e-10, 0.0);
  o.newton_rtol = s.get_double_above("newton_rtol", 1e-10, 0.0);
  if (!(o.newton_rtol < 1)) s.at("newton_rtol").fail("must be in (0, 1)");
  o.newton_max_iterations = static_cast<int>(s.get_long_min("newton_max_iterations", 50, 1));
  o.newton_guess = s.get_choice("newton_guess", "auto", {"auto", "zero"});
  return o;
}

}  // namespace kpde::data
