#pragma once
/// Trainable Gaussian features (Physics-Informed Gaussians, PIG; FeatureKind::gaussian).
///
/// Shared-Gaussian form (as in the PIG paper): N Gaussians, each with one mean mu_g in
/// R^d, one precision factor U_g (d x d upper triangular, positive diagonal) and a
/// weight vector w_g in R^k; the k feature channels are
///   F_c(x) = sum_g w_gc G_g(x),  G_g(x) = exp(-q_g(x) / 2),
///   q_g(x) = |z|^2,  z = U_g (x - mu_g)     (precision P_g = U_g^T U_g = Sigma_g^-1).
/// A channel-c-per-Gaussian form would cost k times more for the same N.
///
/// Parameters of Gaussian g (stride 2d + n_u + k, array of structures):
///   mu[d], s[d], u[n_u], w[k]
///   s_a = log sigma_a: U_aa = exp(-s_a) (so sigma_a > 0 always),
///   u: the strictly upper entries U_ab (a < b, row order: 01, 02, 12), full covariance
///   only (n_u = d(d-1)/2; n_u = 0 for the diagonal model, where U = diag(1/sigma)).
/// A diagonal model is the full model with u = 0: fine-tuning with full covariance
/// starts exactly from a trained diagonal one.
///
/// Derivatives in x (delta = x - mu, v = P delta):
///   dG/dx_i = -G v_i,   d2G/dx_i dx_j = G (v_i v_j - P_ij),
///   second-order channel s: sum_ij A^s_ij G_ij = G (v^T A^s v - tr(A^s P)).
///
/// Cutoff: a Gaussian counts at x only where q_g(x) <= cutoff^2 (relative truncation
/// exp(-cutoff^2 / 2); with the taper the profile goes smoothly to 0 there, see
/// GaussProfile). That ellipsoid lies inside the axis box mu_a +- cutoff sqrt(Sigma_aa). The spatial index (GaussGrid) is a uniform grid over the bounding
/// box of one call's points; each Gaussian is listed in every cell its box overlaps;
/// a point visits only the list of its own cell. The same (point, Gaussian) pairs are
/// visited by the gradient pass, which runs per Gaussian over the points of the cells
/// of its box: the result is exactly the cut-off sum, whatever the grid.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "nn/channels.hpp"

namespace kpde::nn {

/// Parameter layout of one Gaussian (offsets inside its stride): mu [d], log sigma [d],
/// the upper entries of U (full covariance: nu = d(d-1)/2), w [k].
struct GaussLayout {
  int d = 2, k = 4, nu = 0, stride = 0;
  bool full = false;
  GaussLayout() = default;
  GaussLayout(int d_, int k_, bool full_) : d(d_), k(k_), nu(full_ ? d_ * (d_ - 1) / 2 : 0), full(full_) {
    stride = 2 * d + nu + k;
  }
  int mu() const { return 0; }
  int s() const { return d; }
  int u() const { return 2 * d; }
  int w() const { return 2 * d + nu; }
  /// Index in u of the entry U_ab, a < b.
  int upper(int a, int b) const { return a == 0 ? b - 1 : (d == 3 ? 2 : -1); }
};

}  // namespace kpde::nn

namespace kpde::nn::detail {

/// The radial profile g(q) of a Gaussian (q = |U (x - mu)|^2 <= cutoff^2) and the
/// factors of its derivatives in x and in the parameters:
///   value g, h1 = 2 g'(q), h2 = 4 g''(q), h3 = 8 g'''(q), so that
///   d g/dx_i = h1 v_i,  d2 g/dx_i dx_j = h2 v_i v_j + h1 P_ij     (v = P (x - mu)).
/// Plain Gaussian g = exp(-q/2): h1 = -g, h2 = g, h3 = -g.
/// Tapered (FeatureSpec::taper), with E = exp(-q/2), e = exp(-c^2/2), t = q - c^2:
///   g = E - e (1 - t/2 + t^2/8 - t^3/48)     (E minus its cubic Taylor polynomial at c^2)
///   h1 = -E + e (1 - t/2 + t^2/8),  h2 = E - e (1 - t/2),  h3 = -E + e;
/// all four vanish at t = 0, and g > 0 inside (the Taylor remainder e t^4/384 exp(..)).
template <class T>
struct GaussProfile {
  bool taper = false;
  T c2 = T(0), e = T(0);
  GaussProfile() = default;
  GaussProfile(bool taper_, double cutoff)
      : taper(taper_), c2(static_cast<T>(cutoff * cutoff)), e(static_cast<T>(std::exp(-0.5 * cutoff * cutoff))) {}
  void operator()(T q, T& g, T& h1, T& h2, T& h3) const {
    const T E = std::exp(T(-0.5) * q);
    if (!taper) {
      g = E, h1 = -E, h2 = E, h3 = -E;
      return;
    }
    const T t = q - c2;
    const T p1 = T(1) - t / T(2);
    const T p2 = p1 + t * t / T(8);
    g = E - e * (p2 - t * t * t / T(48));
    h1 = -E + e * p2;
    h2 = E - e * p1;
    h3 = -E + e;
  }
};

using nn::GaussLayout;

/// A Gaussian ready for evaluation: mu, U (upper), P = U^T U, tr(A^s P) per
/// second-order channel s of the call's channel spec.
template <class T>
struct GaussPrepared {
  T mu[3];
  T U[3][3];
  T P[3][3];
  T tr[6];
};

/// Uniform grid over [lo, lo + n/inv_h] (bounding box of one call's points).
struct GaussGrid {
  int d = 2;
  double lo[3] = {0, 0, 0}, inv_h[3] = {0, 0, 0};
  int n[3] = {1, 1, 1};
  std::vector<int> g_start, g_items;  ///< CSR: Gaussians listed per cell (in increasing g)
  std::vector<int> p_start, p_items;  ///< CSR: points per cell (in increasing index)
  std::vector<int> box;               ///< [Ng][3][2]: inclusive cell ranges; empty (lo > hi) when outside
  int coord(int a, double x) const {
    double t = std::floor((x - lo[a]) * inv_h[a]);
    t = std::min(std::max(t, 0.0), double(n[a] - 1));
    return static_cast<int>(t);
  }
  template <class T>
  int cell(const T* x) const {
    int c = 0;
    for (int a = d - 1; a >= 0; --a) c = c * n[a] + coord(a, double(x[a]));
    return c;
  }
  int n_cells() const { return n[0] * n[1] * n[2]; }
};

/// What one network needs for one call.
template <class T>
struct GaussCtx {
  std::vector<GaussPrepared<T>> prep;
  GaussGrid grid;
};

/// Builds the prepared Gaussians and the grid for the Gaussian parameters gp
/// ([Ng][stride]) and the points x ([Np][d]).
template <class T>
void build_gauss_ctx(const GaussLayout& L, int Ng, const T* gp, double cutoff, const ChannelSpec& ch, const T* x,
                     int Np, GaussCtx<T>& out) {
  const int d = L.d, S = ch.n_second();
  out.prep.resize(Ng);
  std::vector<double> hw(static_cast<std::size_t>(Ng) * 3, 0.0);
  for (int g = 0; g < Ng; ++g) {
    const T* q = gp + static_cast<std::size_t>(g) * L.stride;
    GaussPrepared<T>& R = out.prep[g];
    double U[3][3] = {}, Ui[3][3] = {};
    for (int a = 0; a < d; ++a) U[a][a] = std::exp(-double(q[L.s() + a]));
    if (L.full)
      for (int a = 0; a < d; ++a)
        for (int b = a + 1; b < d; ++b) U[a][b] = double(q[L.u() + L.upper(a, b)]);
    // U^-1 (upper triangular), for Sigma = U^-1 U^-T: half-widths cutoff sqrt(Sigma_aa).
    for (int a = 0; a < d; ++a) Ui[a][a] = 1.0 / U[a][a];
    for (int b = 1; b < d; ++b)
      for (int a = b - 1; a >= 0; --a) {
        double s = 0;
        for (int k = a; k < b; ++k) s += Ui[a][k] * U[k][b];
        Ui[a][b] = -s / U[b][b];
      }
    for (int a = 0; a < 3; ++a) {
      R.mu[a] = a < d ? q[L.mu() + a] : T(0);
      for (int b = 0; b < 3; ++b) {
        R.U[a][b] = static_cast<T>(U[a][b]);
        double p = 0;
        for (int k = 0; k < 3; ++k) p += U[k][a] * U[k][b];
        R.P[a][b] = static_cast<T>(p);
      }
    }
    for (int s = 0; s < 6; ++s) R.tr[s] = T(0);
    for (int s = 0; s < S; ++s) {
      const auto A = ch.second_matrix(s);
      double t = 0;
      for (int a = 0; a < d; ++a)
        for (int b = 0; b < d; ++b) t += A[a][b] * double(R.P[b][a]);
      R.tr[s] = static_cast<T>(t);
    }
    for (int a = 0; a < d; ++a) {
      double s2 = 0;
      for (int j = a; j < d; ++j) s2 += Ui[a][j] * Ui[a][j];
      hw[g * 3 + a] = cutoff * std::sqrt(s2);
    }
  }

  // Grid over the bounding box of the points.
  GaussGrid& G = out.grid;
  G = GaussGrid{};
  G.d = d;
  double hi[3] = {0, 0, 0};
  for (int a = 0; a < d; ++a) {
    G.lo[a] = Np > 0 ? 1e300 : 0.0;
    hi[a] = Np > 0 ? -1e300 : 0.0;
  }
  for (int p = 0; p < Np; ++p)
    for (int a = 0; a < d; ++a) {
      const double v = double(x[static_cast<std::size_t>(p) * d + a]);
      G.lo[a] = std::min(G.lo[a], v), hi[a] = std::max(hi[a], v);
    }
  auto inside = [&](int g) {
    for (int a = 0; a < d; ++a) {
      const double m = double(out.prep[g].mu[a]);
      if (!(m + hw[g * 3 + a] >= G.lo[a] && m - hw[g * 3 + a] <= hi[a])) return false;
    }
    return Np > 0;
  };
  // Cell width: half the mean half-width of the Gaussians that reach the box, so a
  // cell's list is not much larger than the Gaussians that really reach its points;
  // at most 4 (Np + Ng) + 64 cells.
  double mean_hw[3] = {0, 0, 0};
  int n_in = 0;
  for (int g = 0; g < Ng; ++g)
    if (inside(g)) {
      ++n_in;
      for (int a = 0; a < d; ++a) mean_hw[a] += hw[g * 3 + a];
    }
  double cells = 1;
  for (int a = 0; a < d; ++a) {
    const double ext = hi[a] - G.lo[a];
    double na = 1;
    if (ext > 0 && n_in > 0) {
      const double h = 0.5 * mean_hw[a] / n_in;
      na = h > 0 ? std::min(std::ceil(ext / h), 1e6) : 1.0;
    }
    G.n[a] = static_cast<int>(std::max(1.0, na));
    cells *= G.n[a];
  }
  const double cap = 4.0 * (double(Np) + Ng) + 64;
  if (cells > cap) {
    const double f = std::pow(cap / cells, 1.0 / d);
    for (int a = 0; a < d; ++a) G.n[a] = std::max(1, static_cast<int>(std::floor(G.n[a] * f)));
  }
  for (int a = 0; a < d; ++a) {
    const double ext = hi[a] - G.lo[a];
    G.inv_h[a] = ext > 0 ? G.n[a] / ext : 0.0;
  }
  const int nc = G.n_cells();

  // Gaussians per cell (counting sort, in increasing g).
  G.box.assign(static_cast<std::size_t>(Ng) * 6, 0);
  G.g_start.assign(nc + 1, 0);
  for (int g = 0; g < Ng; ++g) {
    int* bx = &G.box[static_cast<std::size_t>(g) * 6];
    for (int a = 0; a < 3; ++a) bx[2 * a] = 0, bx[2 * a + 1] = 0;
    if (!inside(g)) {
      bx[0] = 1, bx[1] = 0;  // empty
      continue;
    }
    for (int a = 0; a < d; ++a) {
      const double m = double(out.prep[g].mu[a]);
      bx[2 * a] = G.coord(a, m - hw[g * 3 + a]);
      bx[2 * a + 1] = G.coord(a, m + hw[g * 3 + a]);
    }
  }
  auto for_cells = [&](int g, auto&& f) {
    const int* bx = &G.box[static_cast<std::size_t>(g) * 6];
    if (bx[0] > bx[1]) return;
    for (int k2 = bx[4]; k2 <= bx[5]; ++k2)
      for (int k1 = bx[2]; k1 <= bx[3]; ++k1)
        for (int k0 = bx[0]; k0 <= bx[1]; ++k0) f((k2 * G.n[1] + k1) * G.n[0] + k0);
  };
  for (int g = 0; g < Ng; ++g) for_cells(g, [&](int c) { ++G.g_start[c + 1]; });
  for (int c = 0; c < nc; ++c) G.g_start[c + 1] += G.g_start[c];
  G.g_items.resize(G.g_start[nc]);
  {
    std::vector<int> pos(G.g_start.begin(), G.g_start.end() - 1);
    for (int g = 0; g < Ng; ++g) for_cells(g, [&](int c) { G.g_items[pos[c]++] = g; });
  }
  // Points per cell.
  G.p_start.assign(nc + 1, 0);
  std::vector<int> pc(Np);
  for (int p = 0; p < Np; ++p) pc[p] = G.cell(x + static_cast<std::size_t>(p) * d), ++G.p_start[pc[p] + 1];
  for (int c = 0; c < nc; ++c) G.p_start[c + 1] += G.p_start[c];
  G.p_items.resize(Np);
  {
    std::vector<int> pos(G.p_start.begin(), G.p_start.end() - 1);
    for (int p = 0; p < Np; ++p) G.p_items[pos[pc[p]]++] = p;
  }
}

}  // namespace kpde::nn::detail
