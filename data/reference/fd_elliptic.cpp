// The rows of elliptic problems: classification of the nodes against the geometry, central
// and Shortley-Weller rows, quadratics to Neumann/Robin crossings, least-squares rows,
// ghost-node rows and boundary-condition rows. See fd_assembly.hpp and docs/reference.md.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "data/reference/fd_assembly.hpp"

namespace kpde::data::fd {

namespace {

using mesh::Point;

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

}  // namespace

std::unique_ptr<Assembler> make_elliptic_assembler(const FdProblem& problem, const Terms& terms, System& system) {
  return std::make_unique<EllipticAssembler>(problem, terms, system);
}

}  // namespace kpde::data::fd
