#pragma once
/// The physics of a data::Problem as every neural method sees it: the PDE residual
///   r(x) = R[u](x) - f(x)
/// and the boundary residuals, evaluated from derivative channels (nn::ChannelSpec) of
/// an approximation u at points, with their derivatives with respect to each channel
/// (what a reverse pass needs). Shared by the PINN, the physics-informed operators and
/// the hypernetwork; none of them owns the physics.
///
/// Channels of u at a point p are y[c * stride], c = 0..C-1 (value, gradient, second
/// channels in nn::ChannelSpec order), so one call serves a block layout (stride = the
/// block's points) and a single point (stride = 1).
///
/// Linear operators: r = sum_k c_k(x) D_k u - f with constant or variable c_k, and
/// dr/du_c = the summed coefficients of channel c (constant coefficients without u_xy
/// collapse their second-order terms into one channel sum_i c_ii u_ii).
/// Nonlinear operators: r = R(u, u_x, ..., x) - f from the residual expression, dr/du_c
/// from its exact jet.
#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "core/types.hpp"
#include "data/problem.hpp"
#include "mesh/distance.hpp"
#include "mesh/sampling.hpp"
#include "nn/channels.hpp"
#include "pde/expression.hpp"

namespace kpde::data {

/// Exact Dirichlet data: u = g + phi N with N the network's output, phi = 0 on the
/// Dirichlet parts and g = the Dirichlet data there, so u meets the data for any N.
///  - A plain box with one value expression g on every constrained side:
///      phi(x) = prod over the constrained sides of (x_a - lo_a) / h_a or (hi_a - x_a) / h_a,
///    h_a the half-width of the box along axis a.
///  - Any other CSG domain, or data that differ by part (g_k on part k): with D_k the
///    smooth distance to part k (mesh::PartDistance, normalised to first order) and
///    R_k = 1/D_k,
///      phi = 1 / sum_k R_k                                  (R-equivalence of the parts)
///      g   = sum_j R_j^2 g_j / sum_j R_j^2                  (transfinite interpolation,
///                                                            mu = 2; R_j summed over the
///                                                            parts with data g_j)
///    One value expression on every part gives g itself.
/// The channels of u follow from N's by the product rule (forward); their adjoint maps
/// d(loss)/du_c back to d(loss)/dN_c (backward).
class HardDirichlet {
 public:
  /// Throws InputError (naming training.hard_dirichlet) unless every condition is
  /// Dirichlet with a value that has derivatives (an expression or a number), at most one
  /// per part, and mesh::PartDistance has a distance function for every Dirichlet part.
  /// field >= 0: the conditions of that field of a system only (its constrained sides);
  /// a field without any boundary condition (a pressure fixed by a pin) is left free:
  /// g = 0, phi = 1.
  HardDirichlet(const Problem& problem, const nn::ChannelSpec& channels, int field = -1);

  /// Values per point of jets(): g, g_i (d), G_s (S), phi, phi_i (d), Phi_s (S), v_sj
  /// (S x d), with G_s = sum_ij A^s_ij g_ij, Phi_s = sum_ij A^s_ij phi_ij, v_sj =
  /// sum_i A^s_ij phi_i (A^s the second-order matrices of the channel spec, S of them).
  int stride() const { return stride_; }
  /// The jets of g and phi at x [n][d]: [n][stride()]. A point on a Dirichlet part
  /// (phi = 0) gets that part's g and phi's jet of its distance alone.
  std::vector<double> jets(const Mat<const double>& x) const;

  /// u's channels at a point (h: its stride() jet values) from N's channels
  /// y[c * ystride]; without g (with_g false) the linear part only.
  template <class Y>
  void forward(const double* h, const Y* y, int ystride, bool with_g, double* u) const;
  /// The adjoint: dN = J^T du (C channels each).
  void backward(const double* h, const double* du, double* dn) const;
  /// u = g + phi N at a point.
  double value(const double* h, double n) const { return h[0] + h[phi_] * n; }
  /// phi at a point (du/dN of value()).
  double phi(const double* h) const { return h[phi_]; }

 private:
  /// g's and phi's jets at one point.
  void point_jets(const mesh::Point& x, mesh::Jet2* g, mesh::Jet2* phi) const;

  nn::ChannelSpec channels_;
  // a plain box with one expression: phi from the product expression, g = g_
  std::shared_ptr<const pde::Expression> phi_expr_;
  Field g_;  // the Dirichlet value expression (0 for a field without conditions)
  // otherwise: the parts' distances, the data per group of parts with one expression
  std::shared_ptr<const mesh::Geometry> geometry_;  // kept alive for distance_
  std::shared_ptr<const mesh::PartDistance> distance_;
  std::vector<Field> group_g_;  // the data of each group
  std::vector<int> part_group_; // distance_ part k -> its group
  int stride_ = 0;
  int phi_ = 0;  // offset of phi in a point's jet values
};

/// The interior residual r = R[u] - f of a problem.
class Residual {
 public:
  /// The problem must outlive this object. hard_dirichlet: the channels passed to
  /// operator() are those of N in u = g + phi N (HardDirichlet).
  Residual(const Problem& problem, bool hard_dirichlet);

  const Problem& problem() const { return problem_; }
  /// The channels the operator needs (value only, gradient, diagonal, Hessian, or the
  /// collapsed Laplacian for constant coefficients).
  const nn::ChannelSpec& channels() const { return channels_; }
  /// The hard-Dirichlet transform, or null.
  const HardDirichlet* hard() const { return hard_ ? &*hard_ : nullptr; }
  bool linear() const { return !problem_.nonlinear; }

  /// What the residual needs at a set of points: f, the variable coefficients, the
  /// coordinates (nonlinear residuals) and the hard-Dirichlet jets.
  struct Points {
    int n = 0;
    std::vector<double> f;                  ///< [n]
    std::vector<std::vector<double>> coef;  ///< per variable-coefficient term: [n]
    std::vector<double> x;                  ///< [n][d] (nonlinear residuals only)
    std::vector<double> hard;               ///< [n][HardDirichlet::stride()] (hard only)
  };
  /// The data at x [n][d] (any points; f and the coefficients are evaluated there).
  Points at(const Mat<const double>& x) const;

  /// r and dr/du_c (C values into dr) at point p from u's channels u[c * stride].
  template <class Y>
  double of_u(const Points& pts, int p, const Y* u, int stride, double* dr) const;
  /// r and dr/du_c at point p from the network's channels y[c * stride]: with hard
  /// Dirichlet data u's channels come from N's first, and dr is still with respect to
  /// u's channels (to_network() takes an adjoint to N's).
  template <class Y>
  double operator()(const Points& pts, int p, const Y* y, int stride, double* dr) const {
    if (!hard_) return of_u(pts, p, y, stride, dr);
    double uc[16];
    hard_->forward(pts.hard.data() + static_cast<std::size_t>(p) * hard_->stride(), y, stride, true, uc);
    return of_u(pts, p, uc, 1, dr);
  }
  /// d(loss)/du_c at point p to d(loss)/dN_c (a copy without hard Dirichlet data).
  void to_network(const Points& pts, int p, const double* du, double* dn) const;
  /// u at point p from the network's value channel.
  double value(const Points& pts, int p, double n) const {
    return hard_ ? hard_->value(pts.hard.data() + static_cast<std::size_t>(p) * hard_->stride(), n) : n;
  }

 private:
  /// A linear term: coefficient (constant, or coef[variable]) times channel.
  struct Term {
    int channel = 0;
    double constant = 0;
    int variable = -1;
  };
  const Problem& problem_;
  int dim_;
  nn::ChannelSpec channels_;
  std::vector<Term> terms_;
  std::vector<LinearTerm> linear_;  // problem_.linear_terms() (the divergence term expanded)
  std::vector<int> term_field_;   // Term.variable -> index into linear_
  std::vector<int> var_channel_;  // nonlinear: derivative variable k -> channel (or -1)
  std::vector<int> active_vars_;  // nonlinear: derivative variables the residual uses
  std::optional<HardDirichlet> hard_;
};

/// The boundary conditions at sampled boundary points, as targets:
///   Dirichlet        u - g                          (channel: value)
///   Neumann, Robin   alpha u + beta n.grad u - g    (channels: value and gradient;
///                                                    Neumann: alpha 0, beta 1)
/// each with its condition's weight w. A point on a part with several conditions
/// appears once per condition.
struct BoundaryTargets {
  struct Set {
    std::vector<std::array<double, 3>> x;   ///< points
    std::vector<double> g, w, alpha, beta;  ///< per point
    std::vector<double> normal;             ///< [n][d] outward unit normals (flux set)
    std::vector<int> field;                 ///< per point: the unknown (Condition::field)
    int size() const { return static_cast<int>(g.size()); }
  };
  Set dirichlet, flux;
};
/// Targets at boundary samples b, then the problem's pins (each one Dirichlet point);
/// skip_dirichlet leaves the Dirichlet conditions out (exact by construction under
/// HardDirichlet), not the pins.
BoundaryTargets boundary_targets(const Problem& problem, const mesh::BoundarySamples& b, bool skip_dirichlet);

// ---- templates -----------------------------------------------------------------------

template <class Y>
void HardDirichlet::forward(const double* h, const Y* y, int ystride, bool with_g, double* u) const {
  const int d = channels_.dim, S = channels_.n_second(), G = channels_.n_grad();
  const double phi = h[1 + d + S], n0 = double(y[0]);
  const double w = with_g ? 1.0 : 0.0;
  u[0] = w * h[0] + phi * n0;
  for (int i = 0; i < G; ++i) u[1 + i] = w * h[1 + i] + h[2 + d + S + i] * n0 + phi * double(y[(1 + i) * ystride]);
  for (int sidx = 0; sidx < S; ++sidx) {
    double v = w * h[1 + d + sidx] + h[2 + 2 * d + S + sidx] * n0 + phi * double(y[(1 + G + sidx) * ystride]);
    for (int j = 0; j < G; ++j) v += 2 * h[2 + 2 * d + 2 * S + sidx * d + j] * double(y[(1 + j) * ystride]);
    u[1 + G + sidx] = v;
  }
}

template <class Y>
double Residual::of_u(const Points& pts, int p, const Y* y, int stride, double* dr) const {
  const int C = channels_.n_channels();
  for (int c = 0; c < C; ++c) dr[c] = 0;
  if (!problem_.nonlinear) {
    double r = -pts.f[p];
    for (const Term& t : terms_) {
      const double c = t.variable < 0 ? t.constant : pts.coef[t.variable][p];
      r += c * double(y[t.channel * stride]);
      dr[t.channel] += c;
    }
    return r;
  }
  const int nv = static_cast<int>(problem_.residual_variables.size());
  const int nd = static_cast<int>(var_channel_.size());
  double vars[16] = {0};
  for (int k : active_vars_) vars[k] = double(y[var_channel_[k] * stride]);
  for (int k = 0; k < dim_ && nd + k < nv; ++k) vars[nd + k] = pts.x[static_cast<std::size_t>(p) * dim_ + k];
  pde::Expression::Jet jet;
  problem_.residual->eval_jet(vars, active_vars_.data(), static_cast<int>(active_vars_.size()), jet);
  for (std::size_t a = 0; a < active_vars_.size(); ++a) dr[var_channel_[active_vars_[a]]] += jet.grad[a];
  return jet.value - pts.f[p];
}

}  // namespace kpde::data
