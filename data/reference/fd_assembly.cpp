// The finite-difference assembly of the reference solvers: classification of the grid
// nodes and the second-order rows (interior, Shortley-Weller, least-squares boundary
// rows, space-time rows). See fd_assembly.hpp and docs/reference.md.
#include "data/reference/fd_assembly.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace kpde::data::fd {

namespace {

using mesh::Point;

std::string at(double x, double y) { return "(" + format_number(x) + ", " + format_number(y) + ")"; }

double call(const Fn2& f, double x, double y) { return f ? f(x, y) : 0.0; }

/// A boundary condition in the normalised form alpha u + beta du/dn = scale * g.
/// beta == 0 is Dirichlet (alpha == 1).
struct Bc {
  double alpha = 1, beta = 0, scale = 1;
  const Fn2* value = nullptr;
  bool dirichlet() const { return beta == 0; }
  double g(double x, double y) const { return value && *value ? scale * (*value)(x, y) : 0.0; }
};

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

/// Axis directions E, W, N, S: row and column steps (d ^ 1 is the opposite one).
constexpr int kDi[4] = {0, 0, 1, -1};
constexpr int kDj[4] = {1, -1, 0, 0};

/// Coefficients at a point, the divergence term folded in where asked.
struct Coeffs {
  double c[6] = {0, 0, 0, 0, 0, 0};
  double a = 0;
};

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

/// The unit coefficient vector e_k (a stencil row, RowSpec::unit = k).
Coeffs unit_coeffs(int k) {
  Coeffs c;
  c.c[k] = 1;
  return c;
}

// ------------------------------------------------------------------ elliptic problems

class EllipticAssembler : public Assembler {
 public:
  EllipticAssembler(const FdProblem& p, const Terms& terms, System& s)
      : p_(p), terms_(terms), g_(*p.geometry), s_(s), L_(s.L) {
    bcs_.resize(g_.n_parts());
    has_bc_.assign(g_.n_parts(), 0);
    for (const auto& c : p.conditions) {
      if (has_bc_[c.part])
        throw InputError("reference: part '" + g_.part_name(c.part) +
                         "' has two conditions; an elliptic problem takes one per part");
      has_bc_[c.part] = 1;
      bcs_[c.part] = normalise(c);
    }
    tol_ = 1e-12 * g_.scale();
    h_ = std::sqrt(L_.hx * L_.hy);
  }

  void classify() override {
    const int N = L_.N;
    const long NN = static_cast<long>(N) * N;
    s_.phi.assign(NN, 0);
    s_.kind.assign(NN, kOutside);
    s_.known.assign(NN, 0);
    s_.part.assign(NN, -1);
    if (!p_.grid_mask.empty()) {  // Omega from the node mask: interior rows or u = 0
      const auto in = [&](int i, int j) { return L_.in(i, j) && p_.grid_mask[L_.id(i, j)] != 0; };
      for (long id = 0; id < NN; ++id) {
        const int i = static_cast<int>(id / N), j = static_cast<int>(id % N);
        if (!in(i, j)) continue;
        bool inner = true;
        for (int d = 0; d < 4; ++d) inner = inner && in(i + kDi[d], j + kDj[d]);
        s_.kind[id] = inner ? kInterior : kKnown;
        s_.phi[id] = -1;  // inside (no crossing is ever looked for: interior neighbours are nodes)
      }
      return;
    }
    const double eps = 1e-8 * g_.scale(), snap = 1e-6 * std::min(L_.hx, L_.hy);
    std::vector<std::uint8_t> closure(NN, 0);
#pragma omp parallel for schedule(static)
    for (long id = 0; id < NN; ++id) {
      const int i = static_cast<int>(id / N), j = static_cast<int>(id % N);
      const Point x{L_.x(j), L_.y(i), 0};
      const double phi = g_.sdf(x);
      s_.phi[id] = phi;
      bool in = phi < 0;  // mesh::domain_mask's rule
      for (int k = 0; k < 8 && !in && phi <= tol_; ++k) {
        const double a = 0.7853981633974483 * k;
        in = g_.sdf(Point{x[0] + eps * std::cos(a), x[1] + eps * std::sin(a), 0}) < 0;
      }
      closure[id] = in;
      s_.kind[id] = !in ? kOutside : (phi < -snap ? kInterior : kBoundaryUnknown);
    }
    // boundary nodes: Dirichlet if any part touching the node has a Dirichlet condition
    for (long id = 0; id < NN; ++id) {
      if (s_.kind[id] != kBoundaryUnknown) continue;
      const int i = static_cast<int>(id / N), j = static_cast<int>(id % N);
      const Point x{L_.x(j), L_.y(i), 0};
      const int p0 = g_.closest_part(x);
      int parts[5] = {p0, -1, -1, -1, -1};
      const double d[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
      for (int k = 0; k < 4; ++k) {
        const Point y{x[0] + eps * d[k][0], x[1] + eps * d[k][1], 0};
        if (std::abs(g_.sdf(y)) <= 2 * eps) parts[k + 1] = g_.closest_part(y);
      }
      int dir_part = -1;
      for (int q : parts)
        if (q >= 0 && require_bc(q, x).dirichlet()) {
          dir_part = q;
          break;
        }
      if (dir_part >= 0) {
        s_.kind[id] = kKnown;
        s_.part[id] = dir_part;
        s_.known[id] = bcs_[dir_part].g(x[0], x[1]);
        if (!std::isfinite(s_.known[id]))
          throw InputError("reference: the Dirichlet value on part '" + g_.part_name(dir_part) +
                           "' is not finite at " + at(x[0], x[1]));
      } else {
        s_.part[id] = p0;
      }
    }
  }

  void row(long r, const RowSpec& spec, Row& row) override {
    const long id = s_.node_of[r];
    row.clear();
    if (s_.kind[id] == kInterior)
      interior_row(id, spec, row);
    else
      boundary_row(id, spec, row);
  }

 private:
  struct Crossing {
    double t = 1;  // fraction of the segment P -> Q
    Point x{};     // the boundary point
    int part = -1;
  };
  struct Datum {  // one row of the least-squares fit
    double xi = 0, eta = 0;
    long node = -1;          // grid value (unknown or known)
    const Bc* bc = nullptr;  // or a boundary condition at (xi, eta)
    Point n{};
    double gx = 0, gy = 0;  // the boundary point
  };

  const Bc& require_bc(int part, const Point& x) const {
    if (!has_bc_[part])
      throw InputError("reference: boundary part '" + g_.part_name(part) + "' (met at " + at(x[0], x[1]) +
                       ") has no condition; an elliptic problem needs one on every part");
    return bcs_[part];
  }

  bool available(int i, int j) const { return L_.in(i, j) && s_.kind[L_.id(i, j)] != kOutside; }

  /// The first sign change of phi on P -> Q (phi(P) < 0), by the Illinois method.
  Crossing crossing(const Point& P, double phiP, const Point& Q) const {
    auto at_t = [&](double t) { return Point{P[0] + t * (Q[0] - P[0]), P[1] + t * (Q[1] - P[1]), 0}; };
    double a = 0, fa = phiP, b = 1, fb = g_.sdf(Q);
    double t = 1;
    if (fb > 0) {
      int side = 0;
      for (int it = 0; it < 100; ++it) {
        t = b - fb * (b - a) / (fb - fa);
        if (!(t > a && t < b)) t = 0.5 * (a + b);
        const double ft = g_.sdf(at_t(t));
        if (ft < 0) {
          a = t, fa = ft;
          if (side == -1) fb *= 0.5;
          side = -1;
        } else {
          b = t, fb = ft;
          if (side == 1) fa *= 0.5;
          side = 1;
        }
        if (b - a < 1e-14 || std::abs(ft) < 1e-15 * g_.scale()) break;
      }
    }
    Crossing c;
    c.t = std::max(t, 1e-12);
    c.x = at_t(c.t);
    c.part = g_.closest_part(c.x);
    return c;
  }

  /// Segment from node a to node b stays in the closure of Omega.
  bool segment_inside(const Point& a, const Point& b) const {
    for (double t : {0.25, 0.5, 0.75}) {
      const Point m{a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), 0};
      if (g_.sdf(m) > tol_) return false;
    }
    return true;
  }

  /// The coefficients of a row at (x, y): the problem's (checked) or a unit vector.
  Coeffs coeffs(const RowSpec& spec, double x, double y) const {
    if (spec.unit >= 0) return unit_coeffs(spec.unit);
    const Coeffs k = coefficients(p_, x, y);
    check_elliptic(k, x, y);
    return k;
  }

  /// Whether the row needs u_xy (diagonal neighbours or a fit): a non-zero c_uxy at the
  /// node (linear rows), or a residual that depends on u_xy (every stencil alike).
  bool has_mixed(const RowSpec& spec, const Coeffs& k) const {
    return spec.unit >= 0 ? terms_.has[c_uxy] : k.c[c_uxy] != 0;
  }

  /// Marks `row` as the PDE at (x, y) with the source f(x, y) on its right (linear rows).
  void start_pde_row(const RowSpec& spec, double x, double y, Row& row) const {
    row.pde = true;
    row.x = x, row.y = y;
    if (spec.unit >= 0) return;
    row.rhs = call(p_.source, x, y);
    if (!std::isfinite(row.rhs)) throw InputError("reference: the source f is not finite at " + at(x, y));
  }

  void check_elliptic(const Coeffs& k, double x, double y) const {
    const double A = k.c[c_uxx] - k.a, C = k.c[c_uyy] - k.a, B = k.c[c_uxy];
    const double det = A * C - 0.25 * B * B, size = A * A + C * C + B * B;
    if (!(det > 1e-12 * size) || size == 0)
      throw InputError("reference: the operator is not elliptic at " + at(x, y) + ": c_uxx = " + format_number(k.c[c_uxx]) +
                       ", c_uyy = " + format_number(k.c[c_uyy]) + ", c_uxy = " + format_number(B) + (p_.diffusion ? ", a = " + format_number(k.a) : "") +
                       " (an elliptic problem needs (c_uxx - a)(c_uyy - a) > c_uxy^2 / 4, i.e. a second-order term "
                       "in both directions; set time_axis = 1 for a time problem)");
  }

  /// What stands in for the axis neighbour of a node in a central/Shortley-Weller row.
  struct Nb {
    enum Type { node, value, ghost, flux } type = node;
    long id = -1;       // node: the neighbour; ghost: the inner node opposite
    double v = 0;       // value: the Dirichlet value at the crossing; ghost: g at the node
    double dist = 0;    // distance from the node
    const Bc* bc = nullptr;  // ghost, flux: the Neumann/Robin condition
    double beta_s = 0;       // flux: beta (n . e_d), the weight of du/ds at the crossing
  };

  void interior_row(long id, const RowSpec& spec, Row& row) {
    const int N = L_.N, i = static_cast<int>(id / N), j = static_cast<int>(id % N);
    const double x = L_.x(j), y = L_.y(i);
    const Point P{x, y, 0};
    const Coeffs k = coeffs(spec, x, y);
    const bool mixed = has_mixed(spec, k);
    start_pde_row(spec, x, y, row);
    // the four axis directions E, W, N, S
    Nb nb[4];
    bool all_dirichlet = true;
    for (int d = 0; d < 4; ++d) {
      const double h = d < 2 ? L_.hx : L_.hy;
      nb[d].dist = h;
      if (available(i + kDi[d], j + kDj[d])) {
        nb[d].id = L_.id(i + kDi[d], j + kDj[d]);
        continue;
      }
      const Point Q{x + kDj[d] * L_.hx, y + kDi[d] * L_.hy, 0};
      const Crossing c = crossing(P, s_.phi[id], Q);
      const Bc& bc = require_bc(c.part, c.x);
      nb[d].dist = c.t * h;
      nb[d].v = bc.g(c.x[0], c.x[1]);
      if (bc.dirichlet()) {
        nb[d].type = Nb::value;
        continue;
      }
      // Neumann/Robin: a one-dimensional treatment when the normal is along the grid line
      const Point n = g_.normal(c.x);
      const double along = n[0] * kDj[d] + n[1] * kDi[d];
      const int o = d ^ 1;
      if (std::abs(along) > 1 - 1e-9 && (o > d || nb[o].type != Nb::flux)) {
        nb[d].type = Nb::flux;
        nb[d].bc = &bc;
        nb[d].beta_s = bc.beta * along;
        continue;
      }
      all_dirichlet = false;
      break;
    }
    // a flux neighbour needs a node or Dirichlet value opposite
    for (int d = 0; d < 4 && all_dirichlet; ++d)
      if (nb[d].type == Nb::flux && nb[d ^ 1].type == Nb::flux) all_dirichlet = false;
    if (all_dirichlet && (!mixed || diagonals_available(i, j))) {
      axis_row(id, i, j, k, nb, row);
      if (mixed) {
        const double w = k.c[c_uxy] / (4 * L_.hx * L_.hy);
        s_.add(row, L_.id(i + 1, j + 1), w);
        s_.add(row, L_.id(i + 1, j - 1), -w);
        s_.add(row, L_.id(i - 1, j + 1), -w);
        s_.add(row, L_.id(i - 1, j - 1), w);
      }
    } else {
      fit_row(id, i, j, k, row);  // adds to the source already in row.rhs
    }
  }

  bool diagonals_available(int i, int j) const {
    for (int a : {-1, 1})
      for (int b : {-1, 1})
        if (!available(i + a, j + b)) return false;
    return true;
  }

  /// Central / Shortley-Weller row from the four axis neighbours (nodes, Dirichlet
  /// crossings or ghost nodes of a flat Neumann/Robin side); no u_xy term.
  void axis_row(long id, int i, int j, const Coeffs& k, const Nb* nb, Row& row) {
    const double x = L_.x(j), y = L_.y(i);
    double diag = k.c[c_u];
    auto add_nb = [&](int d, double coef) {
      switch (nb[d].type) {
        case Nb::node:
          s_.add(row, nb[d].id, coef);
          break;
        case Nb::value:
          row.rhs -= coef * nb[d].v;
          break;
        case Nb::flux:
          break;  // handled per axis
        case Nb::ghost: {  // u_ghost = u_inner + 2h (g - alpha u_P) / beta
          const double h2 = 2 * nb[d].dist / nb[d].bc->beta;
          s_.add(row, nb[d].id, coef);
          row.rhs -= coef * h2 * nb[d].v;
          diag -= coef * h2 * nb[d].bc->alpha;
          break;
        }
      }
    };
    for (int axis = 0; axis < 2; ++axis) {
      const int dp = 2 * axis, dm = 2 * axis + 1;  // + and - neighbour
      const double hp = nb[dp].dist, hm = nb[dm].dist;
      const double c2 = k.c[axis == 0 ? c_uxx : c_uyy], c1 = k.c[axis == 0 ? c_ux : c_uy];
      if (nb[dp].type == Nb::flux || nb[dm].type == Nb::flux) {
        // quadratic p(s) = u_P + b s + c s^2 along the line (s towards the crossing F):
        // p(-hO) = u_O, alpha p(hF) + beta_s p'(hF) = g  =>  u_ss = 2c, u_s = b
        const int f = nb[dp].type == Nb::flux ? dp : dm, o = f ^ 1;
        const double hF = nb[f].dist, hO = nb[o].dist, al = nb[f].bc->alpha, bs = nb[f].beta_s;
        const double D = (al * hF + bs) * hO + al * hF * hF + 2 * bs * hF;
        const double r = (al * hF + bs) / hO;
        // c = cg g + cP u_P + cO u_O;  b = (u_P - u_O) / hO + hO c
        const double cg = 1 / D, cP = (-al - r) / D, cO = r / D;
        const double bg = hO * cg, bP = 1 / hO + hO * cP, bO = -1 / hO + hO * cO;
        double e2 = c2, e1 = c1;
        if (p_.diffusion) {  // -(a u_s)_s = -a u_ss - a_s u_s
          const double dd = 1e-3 * (axis == 0 ? L_.hx : L_.hy);
          const double a0 = p_.diffusion(x, y);
          const double as = axis == 0 ? (p_.diffusion(x + dd, y) - p_.diffusion(x - dd, y)) / (2 * dd)
                                      : (p_.diffusion(x, y + dd) - p_.diffusion(x, y - dd)) / (2 * dd);
          e2 -= a0, e1 -= as;
        }
        const double sg = f == dp ? 1.0 : -1.0;  // u_axis = sg * u_s
        const double wc = 2 * e2, wb = sg * e1;
        row.rhs -= (wc * cg + wb * bg) * nb[f].v;
        diag += wc * cP + wb * bP;
        add_nb(o, wc * cO + wb * bO);
        continue;
      }
      double ap = 0, am = 0;
      if (p_.diffusion) {
        ap = axis == 0 ? p_.diffusion(x + 0.5 * hp, y) : p_.diffusion(x, y + 0.5 * hp);
        am = axis == 0 ? p_.diffusion(x - 0.5 * hm, y) : p_.diffusion(x, y - 0.5 * hm);
      }
      const double s = 2 / (hp + hm);
      const double kp = s / hp * (c2 - ap), km = s / hm * (c2 - am);
      const double q = 1 / (hp * hm * (hp + hm));
      add_nb(dp, kp + c1 * hm * hm * q);
      add_nb(dm, km - c1 * hp * hp * q);
      diag += -(kp + km) + c1 * (hp * hp - hm * hm) * q;
    }
    s_.add(row, id, diag);
  }

  /// Grid data of the fit around node (i, j): the nodes of the 5 x 5 block that the
  /// segment from (i, j) reaches inside the closure of Omega.
  void grid_data(int i, int j, std::vector<Datum>& data) const {
    const Point P{L_.x(j), L_.y(i), 0};
    for (int a = -2; a <= 2; ++a)
      for (int b = -2; b <= 2; ++b) {
        if (!available(i + a, j + b)) continue;
        const Point Q{L_.x(j + b), L_.y(i + a), 0};
        if ((a || b) && !segment_inside(P, Q)) continue;
        Datum d;
        d.xi = b, d.eta = a;
        d.node = L_.id(i + a, j + b);
        data.push_back(d);
      }
  }

  /// Weights z with  ell . c = sum_k z_k d_k  for the weighted least-squares quadratic
  /// c fitted to the data (monomials 1, xi, eta, xi^2, xi eta, eta^2 in grid units).
  Eigen::VectorXd fit_weights(const std::vector<Datum>& data, const Eigen::Matrix<double, 6, 1>& ell, int i,
                              int j) const {
    const int m = static_cast<int>(data.size());
    Eigen::MatrixXd B(m, 6);
    Eigen::VectorXd sw(m);
    for (int r = 0; r < m; ++r) {
      const Datum& d = data[r];
      const double w = 1 / (1 + d.xi * d.xi + d.eta * d.eta);
      sw[r] = w;
      Eigen::Matrix<double, 6, 1> v, dx, dy;
      v << 1, d.xi, d.eta, d.xi * d.xi, d.xi * d.eta, d.eta * d.eta;
      if (!d.bc) {
        B.row(r) = v.transpose();
      } else {
        dx << 0, 1, 0, 2 * d.xi, d.eta, 0;
        dy << 0, 0, 1, 0, d.xi, 2 * d.eta;
        const Bc& bc = *d.bc;
        const double s = 1 / (std::abs(bc.alpha) + std::abs(bc.beta) / h_);
        B.row(r) = (s * (bc.alpha * v + bc.beta * (d.n[0] / L_.hx * dx + d.n[1] / L_.hy * dy))).transpose();
      }
      B.row(r) *= w;
    }
    Eigen::JacobiSVD<Eigen::MatrixXd> svd(B, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const auto& sv = svd.singularValues();
    if (m < 6 || !(sv[5] > 1e-8 * sv[0]))
      throw Error("reference: cannot build a second-order stencil at " + at(L_.x(j), L_.y(i)) + " (" +
                  std::to_string(m) +
                  " usable points nearby): the domain is thinner than the grid there; raise n or refine");
    // z = W U S^-1 V^T ell
    Eigen::VectorXd t = svd.matrixV().transpose() * ell;
    for (int q = 0; q < 6; ++q) t[q] /= sv[q];
    Eigen::VectorXd z = svd.matrixU() * t;
    return z.cwiseProduct(sw);
  }

  /// Row of an interior node from a least-squares quadratic through the nearby nodes
  /// and the boundary conditions where the 8 neighbour segments leave Omega.
  void fit_row(long id, int i, int j, const Coeffs& k, Row& row) {
    const double x = L_.x(j), y = L_.y(i);
    const Point P{x, y, 0};
    std::vector<Datum> data;
    grid_data(i, j, data);
    for (int a = -1; a <= 1; ++a)
      for (int b = -1; b <= 1; ++b) {
        if ((!a && !b) || available(i + a, j + b)) continue;
        const Point Q{x + b * L_.hx, y + a * L_.hy, 0};
        const Crossing c = crossing(P, s_.phi[id], Q);
        Datum d;
        d.xi = c.t * b, d.eta = c.t * a;
        d.bc = &require_bc(c.part, c.x);
        d.n = g_.normal(c.x);
        d.gx = c.x[0], d.gy = c.x[1];
        data.push_back(d);
      }
    double cx = k.c[c_ux], cy = k.c[c_uy], cxx = k.c[c_uxx], cyy = k.c[c_uyy];
    if (p_.diffusion) {  // -div(a grad u) = -a lap u - a_x u_x - a_y u_y
      const double dx = 1e-3 * L_.hx, dy = 1e-3 * L_.hy;
      const double ax = (p_.diffusion(x + dx, y) - p_.diffusion(x - dx, y)) / (2 * dx);
      const double ay = (p_.diffusion(x, y + dy) - p_.diffusion(x, y - dy)) / (2 * dy);
      cx -= ax, cy -= ay, cxx -= k.a, cyy -= k.a;
    }
    Eigen::Matrix<double, 6, 1> ell;
    ell << k.c[c_u], cx / L_.hx, cy / L_.hy, 2 * cxx / (L_.hx * L_.hx), k.c[c_uxy] / (L_.hx * L_.hy),
        2 * cyy / (L_.hy * L_.hy);
    const Eigen::VectorXd z = fit_weights(data, ell, i, j);
    put_fit(data, z, row);
  }

  void put_fit(const std::vector<Datum>& data, const Eigen::VectorXd& z, Row& row) const {
    for (std::size_t r = 0; r < data.size(); ++r) {
      const Datum& d = data[r];
      if (!d.bc) {
        s_.add(row, d.node, z[r]);
      } else {
        const double s = 1 / (std::abs(d.bc->alpha) + std::abs(d.bc->beta) / h_);
        row.rhs -= z[r] * s * d.bc->g(d.gx, d.gy);
      }
    }
  }

  /// Row of a Neumann/Robin node on a flat side perpendicular to a grid axis (box
  /// sides, rectangle edges through nodes): the PDE at the node with the ghost node
  /// beyond the side eliminated by the condition, u_ghost = u_inner + 2h (g - alpha u)
  /// / beta; u_xy from the tangential derivative of the condition. Returns false
  /// where that does not apply (oblique boundary, one-node-thin region, u_xy at a
  /// corner).
  bool ghost_row(long id, const RowSpec& spec, Row& row) {
    const int N = L_.N, i = static_cast<int>(id / N), j = static_cast<int>(id % N);
    const double x = L_.x(j), y = L_.y(i);
    Nb nb[4];
    int n_ghost = 0, ghost_dir = -1;
    for (int d = 0; d < 4; ++d) {
      nb[d].dist = d < 2 ? L_.hx : L_.hy;
      if (available(i + kDi[d], j + kDj[d])) {
        nb[d].id = L_.id(i + kDi[d], j + kDj[d]);
        continue;
      }
      const int o = d ^ 1;  // the opposite direction
      if (!available(i + kDi[o], j + kDj[o])) return false;
      const double delta = 1e-7 * nb[d].dist;
      const Point Pd{x + kDj[d] * delta, y + kDi[d] * delta, 0};
      const int part = g_.closest_part(Pd);
      const Point n = g_.normal(Pd);
      if (!(std::abs(n[0] * kDj[d] + n[1] * kDi[d]) > 1 - 1e-9)) return false;
      const Bc& bc = require_bc(part, Pd);
      if (bc.dirichlet()) return false;
      nb[d].type = Nb::ghost;
      nb[d].id = L_.id(i + kDi[o], j + kDj[o]);
      nb[d].bc = &bc;
      nb[d].v = bc.g(x, y);
      ++n_ghost, ghost_dir = d;
    }
    const Coeffs k = coeffs(spec, x, y);
    const double cxy = k.c[c_uxy];
    const bool mixed = has_mixed(spec, k);
    if (mixed && n_ghost != 1 && !diagonals_available(i, j)) return false;
    start_pde_row(spec, x, y, row);
    axis_row(id, i, j, k, nb, row);
    if (mixed && n_ghost == 0) {
      const double w = cxy / (4 * L_.hx * L_.hy);
      s_.add(row, L_.id(i + 1, j + 1), w);
      s_.add(row, L_.id(i + 1, j - 1), -w);
      s_.add(row, L_.id(i - 1, j + 1), -w);
      s_.add(row, L_.id(i - 1, j - 1), w);
    } else if (mixed) {
      // normal axis a with outward sign s: u_a = s (g - alpha u) / beta along the side,
      // so u_xy = s (g_t - alpha u_t) / beta with t the tangential axis
      const Nb& gh = nb[ghost_dir];
      const double sgn = (ghost_dir % 2 == 0) ? 1.0 : -1.0;
      const int t_plus = ghost_dir < 2 ? 2 : 0;  // tangential + direction
      const double ht = t_plus == 0 ? L_.hx : L_.hy;
      if (nb[t_plus].type != Nb::node || nb[t_plus + 1].type != Nb::node) return false;
      const double gp = gh.bc->g(x + kDj[t_plus] * ht, y + kDi[t_plus] * ht);
      const double gm = gh.bc->g(x - kDj[t_plus] * ht, y - kDi[t_plus] * ht);
      const double w = cxy * sgn / gh.bc->beta / (2 * ht);
      row.rhs -= w * (gp - gm);
      s_.add(row, nb[t_plus].id, -w * gh.bc->alpha);
      s_.add(row, nb[t_plus + 1].id, w * gh.bc->alpha);
    }
    return true;
  }

  /// Row of a Neumann/Robin node on the boundary: alpha u_P + beta n . grad u(P) = g
  /// with the gradient of a one-sided least-squares quadratic through the nearby nodes.
  void boundary_row(long id, const RowSpec& spec, Row& row) {
    if (ghost_row(id, spec, row)) return;
    row.clear();
    const int N = L_.N, i = static_cast<int>(id / N), j = static_cast<int>(id % N);
    const double x = L_.x(j), y = L_.y(i);
    const Point P{x, y, 0};
    const Bc& bc = require_bc(s_.part[id], P);
    const Point n = g_.normal(P);
    std::vector<Datum> data;
    grid_data(i, j, data);
    Eigen::Matrix<double, 6, 1> ell;
    ell << 0, bc.beta * n[0] / L_.hx, bc.beta * n[1] / L_.hy, 0, 0, 0;
    const Eigen::VectorXd z = fit_weights(data, ell, i, j);
    put_fit(data, z, row);
    s_.add(row, id, bc.alpha);
    row.rhs = bc.g(x, y);
    if (!std::isfinite(row.rhs)) throw InputError("reference: a boundary value is not finite at " + at(x, y));
  }

  const FdProblem& p_;
  Terms terms_;
  const mesh::Geometry& g_;
  System& s_;
  const Layout& L_;
  std::vector<Bc> bcs_;
  std::vector<char> has_bc_;
  double tol_ = 0, h_ = 1;
};

// ------------------------------------------------------------------ time problems

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
  if (problem.time_axis == 1) return std::make_unique<TimeAssembler>(problem, terms, system);
  return std::make_unique<EllipticAssembler>(problem, terms, system);
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
