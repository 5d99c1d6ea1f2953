// The rows of time problems (y is time) on a box: Crank-Nicolson (parabolic) and Newmark
// with a Taylor start (hyperbolic) space-time rows. See fd_assembly.hpp and
// docs/reference.md.
#include <cmath>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "data/reference/fd_assembly.hpp"

namespace kpde::data::fd {

namespace {

using mesh::Point;

class TimeAssembler : public Assembler {
 public:
  TimeAssembler(const FdProblem& p, const Terms& terms, System& s) : p_(p), g_(*p.geometry), s_(s), L_(s.L) {
    if (terms.has[c_uxy])
      throw InputError("reference: time problems with u_xy (a mixed space-time derivative) are not supported");
    if (p.diffusion)
      throw InputError("reference: the divergence term -div(a grad u) is not supported on time problems; "
                       "write it with c_uxx (and c_ux)");
    const double xm = 0.5 * (L_.x_lo + L_.x_hi), ym = 0.5 * (L_.y_lo + L_.y_hi);
    left_ = g_.closest_part(Point{L_.x_lo, ym, 0});
    right_ = g_.closest_part(Point{L_.x_hi, ym, 0});
    bottom_ = g_.closest_part(Point{xm, L_.y_lo, 0});
    top_ = g_.closest_part(Point{xm, L_.y_hi, 0});
    if (left_ == right_ || bottom_ == top_ || left_ == bottom_ || right_ == bottom_ || left_ == top_ ||
        right_ == top_)
      throw InputError("reference: a time problem needs the plain (unnamed) box, whose sides left, right, "
                       "bottom (initial line) and top are separate parts");
    int n_side[2] = {0, 0}, n_dir = 0, n_neu = 0;
    for (const auto& c : p.conditions) {
      const std::string& name = g_.part_name(c.part);
      if (c.part == top_)
        throw InputError("reference: the final-time side '" + name + "' takes no condition in a time problem");
      if (c.part == bottom_) {
        if (c.kind == FdConditionKind::robin)
          throw InputError("reference: a Robin condition on the initial line '" + name +
                           "' is not supported (give u by Dirichlet and the rate -u_t by Neumann)");
        if (c.kind == FdConditionKind::dirichlet) ++n_dir, initial_ = &c;
        if (c.kind == FdConditionKind::neumann) ++n_neu, rate_ = &c;
        continue;
      }
      if (c.part == left_ || c.part == right_) {
        const int side = c.part == left_ ? 0 : 1;
        ++n_side[side];
        side_bc_[side] = normalise(c);
        continue;
      }
      throw InputError("reference: condition on part '" + name + "', which is not a side of the time box");
    }
    for (int side = 0; side < 2; ++side)
      if (n_side[side] != 1)
        throw InputError("reference: the side '" + g_.part_name(side ? right_ : left_) + "' of a time problem needs " +
                         "exactly one condition, got " + std::to_string(n_side[side]));
    if (n_dir != 1)
      throw InputError("reference: the initial line '" + g_.part_name(bottom_) +
                       "' needs exactly one Dirichlet condition (u at t0), got " + std::to_string(n_dir));
    if (n_neu > 1)
      throw InputError("reference: the initial line '" + g_.part_name(bottom_) + "' has " + std::to_string(n_neu) +
                       " Neumann conditions (the initial rate); give at most one");
    // hyperbolic when c_uyy is non-zero somewhere on the grid (a residual: when it
    // depends on u_yy)
    if (terms.nonlinear)
      hyperbolic_ = terms.has[c_uyy];
    else if (p.coefficient[c_uyy])
      for (int i = 0; i < L_.N && !hyperbolic_; i += std::max(1, L_.N / 64))
        for (int j = 0; j < L_.N && !hyperbolic_; j += std::max(1, L_.N / 64))
          hyperbolic_ = p.coefficient[c_uyy](L_.x(j), L_.y(i)) != 0;
    if (hyperbolic_ && !rate_)
      throw InputError("reference: a hyperbolic time problem (c_uyy != 0) needs the initial rate: a Neumann "
                       "condition on the initial line '" + g_.part_name(bottom_) + "' (du/dn = -u_t)");
    if (!hyperbolic_ && rate_)
      throw InputError("reference: a parabolic time problem (c_uyy = 0) takes no initial rate (Neumann "
                       "condition on the initial line '" + g_.part_name(bottom_) + "')");
    if (!hyperbolic_ && !terms.has[c_uy])
      throw InputError("reference: a time problem needs c_uy (parabolic) or c_uyy (hyperbolic)");
  }

  void classify() override {
    const int N = L_.N;
    const long NN = static_cast<long>(N) * N;
    s_.phi.assign(NN, -1);
    s_.kind.assign(NN, kInterior);
    s_.known.assign(NN, 0);
    s_.part.assign(NN, -1);
    const double tol = 1e-12 * g_.scale();
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < N; ++j)
        if (g_.sdf(Point{L_.x(j), L_.y(i), 0}) > tol)
          throw InputError("reference: a time problem needs a box domain (no holes or cuts); " +
                           at(L_.x(j), L_.y(i)) + " of the bounding box is outside Omega");
    for (int j = 0; j < N; ++j) {
      s_.kind[j] = kKnown;
      s_.known[j] = call(initial_->value, L_.x(j), L_.y_lo);
    }
    for (int side = 0; side < 2; ++side) {
      if (!side_bc_[side].dirichlet()) continue;
      const int j = side ? N - 1 : 0;
      for (int i = 1; i < N; ++i) {
        const long id = L_.id(i, j);
        s_.kind[id] = kKnown;
        s_.known[id] = side_bc_[side].g(L_.x(j), L_.y(i));
      }
    }
    for (long id = 0; id < NN; ++id)
      if (!std::isfinite(s_.known[id]))
        throw InputError("reference: an initial or boundary value is not finite at " +
                         at(L_.x(static_cast<int>(id % N)), L_.y(static_cast<int>(id / N))));
  }

  void row(long r, const RowSpec& spec, Row& row) override {
    const double ht = L_.hy;
    const long id = s_.node_of[r];
    const int N = L_.N, k = static_cast<int>(id / N), j = static_cast<int>(id % N);
    const double x = L_.x(j);
    const bool linear = spec.unit < 0;
    row.clear();
    row.pde = true;
    row.x = x;
    if (!hyperbolic_) {  // Crank-Nicolson between levels k-1 and k
      const double tm = 0.5 * (L_.y(k) + L_.y(k - 1));
      row.y = tm;
      const Coeffs c = linear ? coefficients(p_, x, tm) : unit_coeffs(spec.unit);
      if (linear && !(c.c[c_uy] * c.c[c_uxx] < 0))
        throw InputError("reference: the parabolic problem is not forward in time at " + at(x, tm) +
                         ": c_uy = " + format_number(c.c[c_uy]) + ", c_uxx = " + format_number(c.c[c_uxx]) +
                         " (need c_uy c_uxx < 0, e.g. u_t - nu u_xx)");
      s_.add(row, id, c.c[c_uy] / ht);
      s_.add(row, id - N, -c.c[c_uy] / ht);
      space_operator(j, k, 0.5, c, row);
      space_operator(j, k - 1, 0.5, c, row);
      if (linear) row.rhs += call(p_.source, x, tm);
    } else if (k == 1) {  // Taylor start from u(t0) and u_t(t0) = -g_rate
      const double t0 = L_.y(0);
      row.y = t0;
      const Coeffs c = linear ? coefficients(p_, x, t0) : unit_coeffs(spec.unit);
      if (linear) check_hyperbolic(c, x, t0);
      const double v0 = -call(rate_->value, x, t0);
      s_.add(row, id, 2 * c.c[c_uyy] / (ht * ht));
      s_.add(row, id - N, -2 * c.c[c_uyy] / (ht * ht));
      row.rhs += 2 * c.c[c_uyy] * v0 / ht - c.c[c_uy] * v0;
      space_operator(j, 0, 1.0, c, row);
      if (linear) row.rhs += call(p_.source, x, t0);
    } else {  // average-acceleration Newmark centred at level k-1
      const double tm = L_.y(k - 1);
      row.y = tm;
      const Coeffs c = linear ? coefficients(p_, x, tm) : unit_coeffs(spec.unit);
      if (linear) check_hyperbolic(c, x, tm);
      const double a = c.c[c_uyy] / (ht * ht), b = c.c[c_uy] / (2 * ht);
      s_.add(row, id, a + b);
      s_.add(row, id - N, -2 * a);
      s_.add(row, id - 2 * N, a - b);
      space_operator(j, k, 0.25, c, row);
      space_operator(j, k - 1, 0.5, c, row);
      space_operator(j, k - 2, 0.25, c, row);
      if (linear) row.rhs += call(p_.source, x, tm);
    }
    if (!std::isfinite(row.rhs)) throw InputError("reference: the source f is not finite near " + at(x, L_.y(k)));
  }

 private:
  void check_hyperbolic(const Coeffs& c, double x, double t) const {
    if (!(c.c[c_uyy] * c.c[c_uxx] < 0))
      throw InputError("reference: the hyperbolic problem is not a wave equation at " + at(x, t) + ": c_uyy = " +
                       format_number(c.c[c_uyy]) + ", c_uxx = " + format_number(c.c[c_uxx]) + " (need c_uyy c_uxx < 0)");
  }

  /// Adds w * (c_u u + c_ux u_x + c_uxx u_xx) at node j of level k (central
  /// differences; at a Neumann/Robin side the ghost node is eliminated with the
  /// condition at that level).
  void space_operator(int j, int k, double w, const Coeffs& c, Row& row) const {
    const int N = L_.N;
    const double h = L_.hx;
    const long id = L_.id(k, j);
    const double cp = w * (c.c[c_ux] / (2 * h) + c.c[c_uxx] / (h * h));
    const double cm = w * (-c.c[c_ux] / (2 * h) + c.c[c_uxx] / (h * h));
    double cd = w * (c.c[c_u] - 2 * c.c[c_uxx] / (h * h));
    if (j > 0 && j < N - 1) {
      s_.add(row, id + 1, cp);
      s_.add(row, id - 1, cm);
    } else {
      // side node (Neumann/Robin, else it would be known): ghost u_g = u_in + 2h (g - alpha u_j) / beta
      const int side = j == 0 ? 0 : 1;
      const Bc& bc = side_bc_[side];
      const double cg = side ? cp : cm, ci = side ? cm : cp;
      const long inner = side ? id - 1 : id + 1;
      const double g = bc.g(L_.x(j), L_.y(k));
      s_.add(row, inner, ci + cg);
      row.rhs -= cg * 2 * h * g / bc.beta;
      cd -= cg * 2 * h * bc.alpha / bc.beta;
    }
    s_.add(row, id, cd);
  }

  const FdProblem& p_;
  const mesh::Geometry& g_;
  System& s_;
  const Layout& L_;
  int left_ = -1, right_ = -1, bottom_ = -1, top_ = -1;
  Bc side_bc_[2];
  const FdCondition* initial_ = nullptr;
  const FdCondition* rate_ = nullptr;
  bool hyperbolic_ = false;
};


}  // namespace

std::unique_ptr<Assembler> make_time_assembler(const FdProblem& problem, const Terms& terms, System& system) {
  return std::make_unique<TimeAssembler>(problem, terms, system);
}

}  // namespace kpde::data::fd
