#include "nn/network.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "core/rng.hpp"
#include "nn/gaussian_features.hpp"
#include "nn/gemm.hpp"
#include "nn/jet_kernels.hpp"

namespace kpde::nn {

namespace {

template <class T>
using LeftU = Kokkos::View<T**, Kokkos::LayoutLeft, HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

/// A column-major [rows x cols] view of raw memory (for kpde::gemm).
template <class T>
LeftU<T> lm(T* p, int rows, int cols) {
  return LeftU<T>(p, rows, cols);
}

/// Grows a buffer to at least n entries (contents not kept, not initialised).
template <class T>
void ensure_size(Kokkos::View<T*, HostSpace>& v, std::size_t n, const char* label) {
  if (v.extent(0) < n)
    v = Kokkos::View<T*, HostSpace>(Kokkos::view_alloc(std::string(label), Kokkos::WithoutInitializing), n);
}


}  // namespace

Activation parse_activation(const std::string& name) {
  const std::string n = to_lower(name);
  if (n == "tanh") return Activation::tanh;
  if (n == "sin" || n == "sine") return Activation::sin;
  if (n == "gelu") return Activation::gelu;
  if (n == "silu" || n == "swish") return Activation::silu;
  throw InputError("unknown activation '" + name + "' (expected tanh, sin, gelu or silu)");
}

std::string to_string(Activation a) {
  switch (a) {
    case Activation::tanh: return "tanh";
    case Activation::sin: return "sin";
    case Activation::gelu: return "gelu";
    case Activation::silu: return "silu";
  }
  return "?";
}

Init parse_init(const std::string& name) {
  const std::string n = to_lower(name);
  if (n == "xavier_normal" || n == "glorot_normal" || n == "xavier" || n == "glorot")
    return Init::xavier_normal;
  if (n == "xavier_uniform" || n == "glorot_uniform") return Init::xavier_uniform;
  if (n == "kaiming_normal" || n == "he_normal" || n == "kaiming") return Init::kaiming_normal;
  if (n == "kaiming_uniform" || n == "he_uniform") return Init::kaiming_uniform;
  throw InputError("unknown initialisation '" + name +
                   "' (expected xavier_normal, xavier_uniform, kaiming_normal or kaiming_uniform)");
}

void NetworkSpec::validate() const {
  if (input_dim < 1 || input_dim > 3) throw InputError("network: input_dim must be 1, 2 or 3");
  if (output_dim < 1) throw InputError("network: output_dim must be >= 1");
  if (width < 1) throw InputError("network: width must be >= 1");
  if (depth < 1) throw InputError("network: depth (hidden layers) must be >= 1");
  if (block_points < 1) throw InputError("network: block_points must be >= 1");
  if (features.kind == FeatureKind::fourier_fixed && features.n_frequencies < 1)
    throw InputError("network: fourier features need n_frequencies >= 1");
  if (features.kind == FeatureKind::fourier_fixed) {
    bool any = false;
    for (int a = 0; a < input_dim; ++a) any = any || features.axes[a];
    if (!any) throw InputError("network: fourier_fixed features need at least one of the input axes");
  }
  if (features.kind == FeatureKind::fourier_random && (features.n_random < 1 || !(features.sigma > 0)))
    throw InputError("network: random fourier features need n_random >= 1 and sigma > 0");
  if (features.kind == FeatureKind::gaussian) {
    const auto& f = features;
    if (f.n_gaussians < 1) throw InputError("network: gaussian features need n_gaussians >= 1");
    if (f.gauss_channels < 1 || f.gauss_channels > 64)
      throw InputError("network: gaussian features need 1 <= channels (k) <= 64");
    if (!(f.cutoff > 0)) throw InputError("network: gaussian features need cutoff > 0");
    if (!(f.sigma_init >= 0)) throw InputError("network: gaussian features need sigma_init >= 0");
    if (!(f.weight_scale >= 0)) throw InputError("network: gaussian features need weight_scale >= 0");
    for (int a = 0; a < input_dim; ++a)
      if (!(f.lo[a] < f.hi[a])) throw InputError("network: gaussian features need a box with lo < hi");
  }
}

template <class T>
Network<T>::Network(const NetworkSpec& spec) : spec_(spec) {
  spec_.validate();
  const int d = spec_.input_dim, w = spec_.width;
  const auto& fs = spec_.features;
  constexpr double two_pi = 6.283185307179586476925;
  if (fs.kind == FeatureKind::none) {
    raw_ = d;
  } else if (fs.kind == FeatureKind::gaussian) {
    raw_ = fs.gauss_include_input ? d : 0;
  } else {
    raw_ = fs.include_input ? d : 0;
    if (fs.kind == FeatureKind::fourier_fixed) {
      for (int j = 0; j < d; ++j)
        for (int k = 0; k < fs.n_frequencies && fs.axes[j]; ++k) {
          std::vector<double> om(d, 0.0);
          om[j] = two_pi * fs.base * std::ldexp(1.0, k);
          omega_.insert(omega_.end(), om.begin(), om.end());
        }
    } else {
      Rng rng(fs.seed);
      for (int m = 0; m < fs.n_random; ++m)
        for (int j = 0; j < d; ++j) omega_.push_back(two_pi * fs.sigma * rng.normal());
    }
  }
  M_ = static_cast<int>(omega_.size()) / d;
  F_ = fs.kind == FeatureKind::gaussian ? raw_ + fs.gauss_channels : raw_ + 2 * M_;

  std::size_t off = 0;
  auto dense = [&](int in, int out) {
    Dense L;
    L.in = in, L.out = out, L.W = off;
    off += static_cast<std::size_t>(in) * out;
    L.b = off;
    off += out;
    return L;
  };
  for (int l = 0; l < spec_.depth; ++l) hidden_.push_back(dense(l == 0 ? F_ : w, w));
  out_ = dense(w, spec_.output_dim);
  if (spec_.arch == Arch::modified_mlp) {
    u_ = dense(F_, w);
    v_ = dense(F_, w);
  }
  n_dense_ = off;
  if (fs.kind == FeatureKind::gaussian)
    off += static_cast<std::size_t>(fs.n_gaussians) * detail::GaussLayout(d, fs.gauss_channels, fs.full_covariance).stride;
  n_params_ = off;
}

template <class T>
void Network<T>::init_params(const Vec<T>& params, std::uint64_t seed, Init init) const {
  KPDE_REQUIRE(params.extent(0) == n_params_, Error, "init_params: buffer size differs from n_params");
  Rng rng(seed);
  auto fill = [&](const Dense& L) {
    const double fan_in = L.in, fan_out = L.out;
    const bool glorot = (init == Init::xavier_normal || init == Init::xavier_uniform);
    const bool normal = (init == Init::xavier_normal || init == Init::kaiming_normal);
    const double var = glorot ? 2.0 / (fan_in + fan_out) : 2.0 / fan_in;
    const double a = std::sqrt(3.0 * var);  // uniform on [-a, a] has variance var
    for (std::size_t i = 0; i < static_cast<std::size_t>(L.in) * L.out; ++i)
      params(L.W + i) = static_cast<T>(normal ? std::sqrt(var) * rng.normal() : a * (2.0 * rng.uniform() - 1.0));
    for (int i = 0; i < L.out; ++i) params(L.b + i) = T(0);
  };
  for (const auto& L : hidden_) fill(L);
  fill(out_);
  if (spec_.arch == Arch::modified_mlp) {
    fill(u_);
    fill(v_);
  }
  if (gaussian()) {
    // Means uniform over the box, sigma_a = sigma_init (or the mean spacing
    // (hi_a - lo_a) / N^(1/d)), weights ~ N(0, weight_scale^2), U off-diagonals 0.
    const auto& fs = spec_.features;
    const int d = spec_.input_dim;
    const detail::GaussLayout L(d, fs.gauss_channels, fs.full_covariance);
    for (int g = 0; g < fs.n_gaussians; ++g) {
      const std::size_t o = n_dense_ + static_cast<std::size_t>(g) * L.stride;
      for (int a = 0; a < d; ++a) params(o + L.mu() + a) = static_cast<T>(fs.lo[a] + (fs.hi[a] - fs.lo[a]) * rng.uniform());
      for (int a = 0; a < d; ++a) {
        const double sg = fs.sigma_init > 0 ? fs.sigma_init : (fs.hi[a] - fs.lo[a]) / std::pow(double(fs.n_gaussians), 1.0 / d);
        params(o + L.s() + a) = static_cast<T>(std::log(sg));
      }
      for (int j = 0; j < L.nu; ++j) params(o + L.u() + j) = T(0);
      for (int c = 0; c < L.k; ++c) params(o + L.w() + c) = static_cast<T>(fs.weight_scale * rng.normal());
    }
  }
}

// Per-block storage layout (offsets in units of T, C*P columns each):
//   phi [F], then for modified_mlp Zu, U, Zv, V [w each], then per hidden layer
//   Z_l, A_l [w each] (+ H_l [w] for modified_mlp).
template <class T>
std::size_t Network<T>::block_store_size(int C) const {
  const std::size_t cp = static_cast<std::size_t>(C) * spec_.block_points;
  const std::size_t w = spec_.width;
  const bool mod = spec_.arch == Arch::modified_mlp;
  return cp * (F_ + (mod ? 4 * w : 0) + spec_.depth * w * (mod ? 3 : 2));
}

template <class T>
double Network<T>::forward_flops(int N, int C) const {
  double f = 0;
  const double cols = static_cast<double>(N) * C;
  for (const auto& L : hidden_) f += 2.0 * L.in * L.out * cols;
  f += 2.0 * out_.in * out_.out * cols;
  if (spec_.arch == Arch::modified_mlp) f += 2.0 * 2.0 * u_.in * u_.out * cols;
  return f;
}

template <class T>
double Network<T>::backward_flops(int N, int C, bool input_grad) const {
  const double cols = static_cast<double>(N) * C;
  double f = 2.0 * forward_flops(N, C);  // weight gradients + input adjoints
  if (!input_grad) {
    f -= 2.0 * hidden_[0].in * hidden_[0].out * cols;  // no adjoint of phi needed
    if (spec_.arch == Arch::modified_mlp) f -= 2.0 * 2.0 * u_.in * u_.out * cols;
  }
  return f;
}

namespace detail {

template <class T>
SecondMats<T> second_mats(const ChannelSpec& ch) {
  SecondMats<T> M{};
  for (int s = 0; s < ch.n_second(); ++s) {
    const auto A = ch.second_matrix(s);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) M.A[s][a][b] = static_cast<T>(A[a][b]);
  }
  return M;
}

/// One block of points through the whole network, forward and backward, for one
/// activation and channel shape (G gradient, S second-order channels).
/// Block storage `base` (see block_store_size): phi [F], then for modified_mlp
/// Zu, U, Zv, V [w each], then per hidden layer Z_l, A_l [w] (+ H_l [w] when gated);
/// every array is [rows x C*np] column-major at a stride of C*P columns.
template <class T, class Act, int G, int S>
struct BlockPass {
  using Net = Network<T>;
  using Dense = typename Net::Dense;
  const Net& net;
  SecondMats<T> M;
  std::vector<T> omega;  // [M][d]
  std::vector<T> wAw;    // [M][S]: w^T A^s w
  int C, P, d, m, w, F;
  std::size_t CPmax;
  bool mod;
  // Gaussian features: layout, squared cutoff, per-network index of this call
  bool gauss;
  GaussLayout GL;
  T cut2;
  GaussProfile<T> profile;
  const GaussCtx<T>* gctx;

  BlockPass(const Net& n, const ChannelSpec& ch, const GaussCtx<T>* gc)
      : net(n),
        M(second_mats<T>(ch)),
        omega(n.omega_.begin(), n.omega_.end()),
        C(ch.n_channels()),
        P(n.spec_.block_points),
        d(n.spec_.input_dim),
        m(n.spec_.output_dim),
        w(n.spec_.width),
        F(n.F_),
        CPmax(static_cast<std::size_t>(ch.n_channels()) * n.spec_.block_points),
        mod(n.spec_.arch == Arch::modified_mlp),
        gauss(n.gaussian()),
        GL(n.spec_.input_dim, n.spec_.features.gauss_channels, n.spec_.features.full_covariance),
        cut2(static_cast<T>(n.spec_.features.cutoff * n.spec_.features.cutoff)),
        profile(n.spec_.features.taper, n.spec_.features.cutoff),
        gctx(gc) {
    wAw.assign(static_cast<std::size_t>(n.M_) * (S > 0 ? S : 1), T(0));
    for (int f = 0; f < n.M_; ++f)
      for (int s = 0; s < S; ++s) {
        const auto A = ch.second_matrix(s);
        double q = 0;
        for (int a = 0; a < d; ++a)
          for (int b = 0; b < d; ++b) q += A[a][b] * n.omega_[f * d + a] * n.omega_[f * d + b];
        wAw[f * S + s] = static_cast<T>(q);
      }
  }

  struct Ptrs {
    T *phi, *zu, *U, *zv, *V;
    std::vector<T*> Z, A, H;
  };
  Ptrs layout(T* base) const {
    Ptrs p;
    p.phi = base;
    T* cur = base + CPmax * F;
    p.zu = p.U = p.zv = p.V = nullptr;
    if (mod) {
      p.zu = cur, p.U = cur + CPmax * w, p.zv = cur + 2 * CPmax * w, p.V = cur + 3 * CPmax * w;
      cur += 4 * CPmax * w;
    }
    const int L = net.spec_.depth;
    p.Z.resize(L), p.A.resize(L), p.H.resize(L);
    for (int l = 0; l < L; ++l) {
      p.Z[l] = cur, p.A[l] = cur + CPmax * w;
      cur += 2 * CPmax * w;
      if (mod) p.H[l] = cur, cur += CPmax * w;
      else p.H[l] = p.A[l];
    }
    return p;
  }

  /// z = W in + b (bias on the value columns only): z starts as the bias and the GEMM
  /// accumulates into it (one pass over z fewer than zeroing and adding the bias after).
  void dense_forward(const T* prm, const Dense& L, const T* in, T* z, int np) const {
    const int cp = C * np;
    for (int p = 0; p < np; ++p) std::copy(prm + L.b, prm + L.b + L.out, z + static_cast<std::size_t>(L.out) * p);
    std::fill(z + static_cast<std::size_t>(L.out) * np, z + static_cast<std::size_t>(L.out) * cp, T(0));
    gemm('T', 'N', T(1), lm(prm + L.W, L.in, L.out), lm(in, L.in, cp), T(1), lm(z, L.out, cp));
  }

  /// Adjoint of dense_forward: dW += dz in^T, db += sum of the value columns of dz,
  /// din = W^T dz (when din is given; added when din_add).
  /// With first, dW and db are written instead of added to.
  void dense_backward(const T* prm, const Dense& L, const T* in, const T* dz, T* gp, bool first, T* din,
                      bool din_add, int np) const {
    const int cp = C * np;
    gemm('N', 'T', T(1), lm(in, L.in, cp), lm(dz, L.out, cp), first ? T(0) : T(1), lm(gp + L.W, L.in, L.out));
    if (first) std::fill(gp + L.b, gp + L.b + L.out, T(0));
    for (int p = 0; p < np; ++p)
      for (int j = 0; j < L.out; ++j) gp[L.b + j] += dz[j + static_cast<std::size_t>(L.out) * p];
    if (din)
      gemm('N', 'N', T(1), lm(prm + L.W, L.in, L.out), lm(dz, L.out, cp), din_add ? T(1) : T(0), lm(din, L.in, cp));
  }

  /// v^T A^s v for the second-order channels.
  void vav(const T* v, T* out) const {
    for (int s = 0; s < S; ++s) {
      T q = T(0);
      for (int a = 0; a < d; ++a)
        for (int b = 0; b < d; ++b) q += M.A[s][a][b] * v[a] * v[b];
      out[s] = q;
    }
  }

  /// delta = x - mu, z = U delta, q = |z|^2 and v = U^T z = P delta of one Gaussian.
  T gauss_geom(const GaussPrepared<T>& R, const T* xp, T* dl, T* v) const {
    T z[3] = {T(0), T(0), T(0)}, q = T(0);
    for (int a = 0; a < d; ++a) dl[a] = xp[a] - R.mu[a];
    for (int a = 0; a < d; ++a) {
      for (int b = a; b < d; ++b) z[a] += R.U[a][b] * dl[b];
      q += z[a] * z[a];
    }
    for (int a = 0; a < d; ++a) {
      v[a] = T(0);
      for (int b = 0; b <= a; ++b) v[a] += R.U[b][a] * z[b];
    }
    return q;
  }

  /// Gaussian feature jets of np points (network with context ctx, parameters prm):
  ///   phi_c = sum_g w_gc g_g, phi_c,i = sum_g w_gc h1_g v_i,
  ///   phi_c,s = sum_g w_gc (h2_g v^T A^s v + h1_g tr(A^s P_g)), over the Gaussians
  ///   listed in the point's cell with q_g <= cutoff^2 (g, h1, h2: GaussProfile; for the
  ///   plain Gaussian G, -G, G).
  void gauss_features(const T* prm, const GaussCtx<T>& ctx, const T* x, int np, T* phi) const {
    Jets<T> J{phi, F, np};
    const T* gp = prm + net.n_dense_;
    const int k = GL.k, raw = net.raw_;
    for (int p = 0; p < np; ++p) {
      for (int c = 0; c < C; ++c) std::fill(J.at(c, p), J.at(c, p) + F, T(0));
      const T* xp = x + static_cast<std::size_t>(p) * d;
      for (int i = 0; i < raw; ++i) {  // raw inputs first (include_input)
        J.at(0, p)[i] = xp[i];
        if (G > 0) J.at(1 + i, p)[i] = T(1);
      }
      const int cell = ctx.grid.cell(xp);
      for (int it = ctx.grid.g_start[cell]; it < ctx.grid.g_start[cell + 1]; ++it) {
        const int g = ctx.grid.g_items[it];
        const GaussPrepared<T>& R = ctx.prep[g];
        T dl[3], v[3];
        const T q = gauss_geom(R, xp, dl, v);
        if (!(q <= cut2)) continue;
        T Gv, h1, h2, h3;
        profile(q, Gv, h1, h2, h3);
        const T* wg = gp + static_cast<std::size_t>(g) * GL.stride + GL.w();
        T* J0 = J.at(0, p) + raw;
        for (int c = 0; c < k; ++c) J0[c] += wg[c] * Gv;
        for (int i = 0; i < G; ++i) {
          T* Ji = J.at(1 + i, p) + raw;
          const T gi = h1 * v[i];
          for (int c = 0; c < k; ++c) Ji[c] += wg[c] * gi;
        }
        if (S > 0) {
          T e[6];
          vav(v, e);
          for (int s = 0; s < S; ++s) {
            T* Js = J.at(1 + G + s, p) + raw;
            const T es = h2 * e[s] + h1 * R.tr[s];
            for (int c = 0; c < k; ++c) Js[c] += wg[c] * es;
          }
        }
      }
    }
  }

  /// Gradient of Gaussian g from the feature adjoints dfeat [N][C][k] of all points x of
  /// the network, visiting the points of the cells of g's box (the pairs of the forward
  /// pass). Per pair, with a_c, a_ic, b_sc the adjoints of phi_c, phi_c,i, phi_c,s and
  /// the profile factors g, h1, h2, h3 of GaussProfile (the pair adds g, h1 v_i and
  /// h2 v^T A^s v + h1 tr(A^s P) per unit weight), using dq = -2 v.dmu + delta^T dP delta,
  /// dv = dP delta - P dmu, dg = h1/2 dq, dh1 = h2/2 dq, dh2 = h3/2 dq:
  ///   alpha = w.a, beta_i = w.a_i, gamma_s = w.b_s, Gamma = sum_s gamma_s A^s,
  ///   E' = (alpha h1 + h2 (beta.v + tr(Gamma P)) + h3 v^T Gamma v) / 2,
  ///   rho = h1 beta + 2 h2 Gamma v,
  ///   dw_c   += g a_c + h1 sum_i a_ic v_i + sum_s b_sc (h2 v^T A^s v + h1 tr(A^s P))
  ///   dmu    += -2 E' v - P rho
  ///   K      += E' delta delta^T + rho delta^T + h1 Gamma     (= dL/dP, P general)
  /// then dU = U (K + K^T), ds_a = -U_aa dU_aa, du_ab = dU_ab. (Plain Gaussian: h1 = -g,
  /// h2 = g, h3 = -g.)
  /// out: the gradient of g ([stride]); written, or added to when accumulate.
  void gauss_gather(const T* prm, const GaussCtx<T>& ctx, const T* x, const T* dfeat, int g, T* out,
                    bool accumulate) const {
    const int k = GL.k;
    const T* wg = prm + net.n_dense_ + static_cast<std::size_t>(g) * GL.stride + GL.w();
    const GaussPrepared<T>& R = ctx.prep[g];
    T dw[64], dmu[3] = {T(0), T(0), T(0)}, K[3][3] = {};
    std::fill(dw, dw + k, T(0));
    const GaussGrid& Gr = ctx.grid;
    const int* bx = &Gr.box[static_cast<std::size_t>(g) * 6];
    if (bx[0] <= bx[1]) {
      for (int k2 = bx[4]; k2 <= bx[5]; ++k2)
        for (int k1 = bx[2]; k1 <= bx[3]; ++k1)
          for (int k0 = bx[0]; k0 <= bx[1]; ++k0) {
            const int cell = (k2 * Gr.n[1] + k1) * Gr.n[0] + k0;
            for (int it = Gr.p_start[cell]; it < Gr.p_start[cell + 1]; ++it) {
              const int p = Gr.p_items[it];
              const T* xp = x + static_cast<std::size_t>(p) * d;
              T dl[3], v[3];
              const T q = gauss_geom(R, xp, dl, v);
              if (!(q <= cut2)) continue;
              T Gv, h1, h2, h3;
              profile(q, Gv, h1, h2, h3);
              const T* a0 = dfeat + static_cast<std::size_t>(p) * C * k;
              T alpha = T(0), beta[3] = {T(0), T(0), T(0)}, gam[6], e[6];
              for (int c = 0; c < k; ++c) alpha += wg[c] * a0[c];
              for (int i = 0; i < G; ++i) {
                const T* ai = a0 + (1 + i) * k;
                for (int c = 0; c < k; ++c) beta[i] += wg[c] * ai[c];
              }
              vav(v, e);
              for (int s = 0; s < S; ++s) {
                const T* bs = a0 + (1 + G + s) * k;
                gam[s] = T(0);
                for (int c = 0; c < k; ++c) gam[s] += wg[c] * bs[c];
              }
              // weights: the pair's jets per unit weight are g, h1 v_i, h2 e_s + h1 tr_s
              for (int c = 0; c < k; ++c) {
                T t = Gv * a0[c];
                for (int i = 0; i < G; ++i) t += h1 * a0[(1 + i) * k + c] * v[i];
                for (int s = 0; s < S; ++s) t += a0[(1 + G + s) * k + c] * (h2 * e[s] + h1 * R.tr[s]);
                dw[c] += t;
              }
              // geometry
              T Gam[3][3] = {}, bv = T(0), tgp = T(0), vgv = T(0), rho[3];
              for (int i = 0; i < G; ++i) bv += beta[i] * v[i];
              for (int s = 0; s < S; ++s) {
                tgp += gam[s] * R.tr[s];
                vgv += gam[s] * e[s];
                for (int a = 0; a < d; ++a)
                  for (int b = 0; b < d; ++b) Gam[a][b] += gam[s] * M.A[s][a][b];
              }
              const T Ep = T(0.5) * (alpha * h1 + h2 * (bv + tgp) + h3 * vgv);
              for (int a = 0; a < d; ++a) {
                T t = h1 * (a < G ? beta[a] : T(0));
                for (int b = 0; b < d; ++b) t += T(2) * h2 * Gam[a][b] * v[b];
                rho[a] = t;
              }
              for (int a = 0; a < d; ++a) {
                T pr = T(0);
                for (int b = 0; b < d; ++b) pr += R.P[a][b] * rho[b];
                dmu[a] += T(-2) * Ep * v[a] - pr;
                for (int b = 0; b < d; ++b) K[a][b] += Ep * dl[a] * dl[b] + rho[a] * dl[b] + h1 * Gam[a][b];
              }
            }
          }
    }
    // dU = U (K + K^T) (upper part)
    T res[64 + 9];
    int n = 0;
    for (int a = 0; a < d; ++a) res[n++] = dmu[a];
    T dU[3][3] = {};
    for (int a = 0; a < d; ++a)
      for (int b = a; b < d; ++b)
        for (int j = 0; j < d; ++j) dU[a][b] += R.U[a][j] * (K[j][b] + K[b][j]);
    for (int a = 0; a < d; ++a) res[n++] = -R.U[a][a] * dU[a][a];
    for (int a = 0; a < d; ++a)
      for (int b = a + 1; b < d; ++b)
        if (GL.full) res[GL.u() + GL.upper(a, b)] = dU[a][b], ++n;
    for (int c = 0; c < k; ++c) res[GL.w() + c] = dw[c];
    for (int j = 0; j < GL.stride; ++j) out[j] = accumulate ? out[j] + res[j] : res[j];
  }

  /// Features phi(x) with channels, for np points x [np][d] of network b.
  void features(int b, const T* prm, const T* x, int np, T* phi) const {
    if (gauss) {
      gauss_features(prm, gctx[b], x, np, phi);
      return;
    }
    Jets<T> J{phi, F, np};
    const int raw = net.raw_, nm = net.M_;
    for (int p = 0; p < np; ++p) {
      for (int c = 0; c < C; ++c) std::fill(J.at(c, p), J.at(c, p) + F, T(0));
      const T* xp = x + static_cast<std::size_t>(p) * d;
      for (int i = 0; i < raw; ++i) {
        J.at(0, p)[i] = xp[i];
        if (G > 0) J.at(1 + i, p)[i] = T(1);
      }
      for (int f = 0; f < nm; ++f) {
        T th = T(0);
        for (int i = 0; i < d; ++i) th += omega[f * d + i] * xp[i];
        const T sn = std::sin(th), cs = std::cos(th);
        const int rs = raw + f, rc = raw + nm + f;
        J.at(0, p)[rs] = sn;
        J.at(0, p)[rc] = cs;
        for (int g = 0; g < G; ++g) {
          J.at(1 + g, p)[rs] = cs * omega[f * d + g];
          J.at(1 + g, p)[rc] = -sn * omega[f * d + g];
        }
        for (int s = 0; s < S; ++s) {
          J.at(1 + G + s, p)[rs] = -sn * wAw[f * S + s];
          J.at(1 + G + s, p)[rc] = -cs * wAw[f * S + s];
        }
      }
    }
  }

  /// dL/dx from the adjoint of the features, dphi [F x C*np] -> dx [np][d].
  void features_backward(const T* x, int np, const T* dphi, T* dx) const {
    Jets<const T> J{dphi, F, np};
    const int raw = net.raw_, nm = net.M_;
    for (int p = 0; p < np; ++p) {
      const T* xp = x + static_cast<std::size_t>(p) * d;
      T g[3] = {T(0), T(0), T(0)};
      for (int i = 0; i < raw; ++i) g[i] += J.at(0, p)[i];
      for (int f = 0; f < nm; ++f) {
        const T* om = &omega[f * d];
        T th = T(0);
        for (int i = 0; i < d; ++i) th += om[i] * xp[i];
        const T sn = std::sin(th), cs = std::cos(th);
        const int rs = raw + f, rc = raw + nm + f;
        T sg = T(0), cg = T(0), ss = T(0), cs2 = T(0);
        for (int q = 0; q < G; ++q) sg += J.at(1 + q, p)[rs] * om[q], cg += J.at(1 + q, p)[rc] * om[q];
        for (int s = 0; s < S; ++s)
          ss += J.at(1 + G + s, p)[rs] * wAw[f * S + s], cs2 += J.at(1 + G + s, p)[rc] * wAw[f * S + s];
        // d/dtheta of: sin (value, grad, second) and cos (value, grad, second)
        const T coef = J.at(0, p)[rs] * cs - sn * sg - cs * ss - J.at(0, p)[rc] * sn - cs * cg + sn * cs2;
        for (int i = 0; i < d; ++i) g[i] += coef * om[i];
      }
      for (int i = 0; i < d; ++i) dx[static_cast<std::size_t>(p) * d + i] = g[i];
    }
  }

  /// Forward through every layer; y [m x C*np] gets the outputs.
  void forward_block(int b, const T* prm, const T* x, int np, T* base, T* y) const {
    const Ptrs p = layout(base);
    features(b, prm, x, np, p.phi);
    if (mod) {
      dense_forward(prm, net.u_, p.phi, p.zu, np);
      dense_forward(prm, net.v_, p.phi, p.zv, np);
      act_forward<TanhAct, G, S, T>({p.zu, w, np}, {p.U, w, np}, M);
      act_forward<TanhAct, G, S, T>({p.zv, w, np}, {p.V, w, np}, M);
    }
    const T* h = p.phi;
    for (std::size_t l = 0; l < net.hidden_.size(); ++l) {
      dense_forward(prm, net.hidden_[l], h, p.Z[l], np);
      act_forward<Act, G, S, T>({p.Z[l], w, np}, {p.A[l], w, np}, M);
      if (mod) gate_forward<G, S, T>({p.U, w, np}, {p.V, w, np}, {p.A[l], w, np}, {p.H[l], w, np}, M);
      h = p.H[l];
    }
    dense_forward(prm, net.out_, h, y, np);
  }

  /// Backward scratch per thread: dH [max(F,w)], dA, dZ, dU, dV [w], dphi [F].
  std::size_t scratch_size() const { return CPmax * (std::max(F, w) + 4 * w + F); }

  /// Reverse pass of forward_block: dy [m x C*np] -> gp += dL/dparams of the dense
  /// part (gp = ... when first), dx = dL/dx (when given), dfeat [np][C][k] = dL/dphi
  /// (when given: Gaussian features, whose gradient is gathered afterwards).
  void backward_block(const T* prm, const T* x, int np, T* base, const T* dy, T* gp, bool first, T* scr,
                      T* dx, T* dfeat = nullptr) const {
    const Ptrs p = layout(base);
    const int cp = C * np;
    T* dH = scr;
    T* dA = dH + CPmax * std::max(F, w);
    T* dZ = dA + CPmax * w;
    T* dU = dZ + CPmax * w;
    T* dV = dU + CPmax * w;
    T* dphi = dV + CPmax * w;
    if (mod) {
      std::fill(dU, dU + static_cast<std::size_t>(w) * cp, T(0));
      std::fill(dV, dV + static_cast<std::size_t>(w) * cp, T(0));
    }
    const int L = net.spec_.depth;
    const bool want_dphi = dx || dfeat;
    dense_backward(prm, net.out_, p.H[L - 1], dy, gp, first, dH, false, np);
    for (int l = L - 1; l >= 0; --l) {
      const T* dAct = dH;
      if (mod) {
        gate_backward<G, S, T>({p.U, w, np}, {p.V, w, np}, {p.A[l], w, np}, {dH, w, np}, {dA, w, np}, {dU, w, np},
                               {dV, w, np}, M);
        dAct = dA;
      }
      act_backward<Act, G, S, T>({p.Z[l], w, np}, {p.A[l], w, np}, {dAct, w, np}, {dZ, w, np}, M);
      const T* in = l > 0 ? p.H[l - 1] : p.phi;
      T* din = l > 0 ? dH : (want_dphi ? dphi : nullptr);
      dense_backward(prm, net.hidden_[l], in, dZ, gp, first, din, false, np);
    }
    if (mod) {
      act_backward<TanhAct, G, S, T>({p.zu, w, np}, {p.U, w, np}, {dU, w, np}, {dZ, w, np}, M);
      dense_backward(prm, net.u_, p.phi, dZ, gp, first, want_dphi ? dphi : nullptr, true, np);
      act_backward<TanhAct, G, S, T>({p.zv, w, np}, {p.V, w, np}, {dV, w, np}, {dZ, w, np}, M);
      dense_backward(prm, net.v_, p.phi, dZ, gp, first, want_dphi ? dphi : nullptr, true, np);
    }
    if (dx) features_backward(x, np, dphi, dx);
    if (dfeat) {
      Jets<const T> J{dphi, F, np};
      const int raw = net.raw_, k = GL.k;  // the Gaussian rows raw .. raw+k-1
      for (int pt = 0; pt < np; ++pt)
        for (int c = 0; c < C; ++c)
          std::copy(J.at(c, pt) + raw, J.at(c, pt) + raw + k, dfeat + (static_cast<std::size_t>(pt) * C + c) * k);
    }
  }
};

/// Runs f(BlockPass<T, Act, G, S>&) for the network's activation and the channel shape.
template <class T, class Fn>
void with_block_pass(const Network<T>& net, const ChannelSpec& ch, const GaussCtx<T>* gctx, Fn&& fn) {
  dispatch_activation(net.spec().activation, [&](auto act) {
    using Act = decltype(act);
    dispatch_channels(ch.n_grad(), ch.n_second(), [&](auto g_c, auto s_c) {
      BlockPass<T, Act, decltype(g_c)::value, decltype(s_c)::value> pass(net, ch, gctx);
      fn(pass);
    });
  });
}

/// Gradient of every Gaussian of every network (parallel over Gaussians; each one sums
/// its pairs in a fixed order, so the result does not depend on the number of threads).
template <class T, class Pass>
void gauss_gather(const Pass& pass, const Mat<const T>& params, const Arr3<const T>& x,
                  const std::vector<GaussCtx<T>>& ctx, const T* dfeat, const Mat<T>& grad, bool accumulate) {
  const int B = static_cast<int>(params.extent(0)), N = static_cast<int>(x.extent(1));
  const int Ng = pass.net.spec().features.n_gaussians;
  const std::size_t off = pass.net.n_dense_params(), fstride = static_cast<std::size_t>(pass.C) * pass.GL.k;
  Kokkos::parallel_for(
      "kpde::Network::gauss_gather", Kokkos::RangePolicy<HostExec>(0, B * Ng), [&](const int bg) {
        const int b = bg / Ng, g = bg % Ng;
        pass.gauss_gather(&params(b, 0), ctx[b], N > 0 ? &x(b, 0, 0) : nullptr, dfeat + fstride * N * b, g,
                          &grad(b, off + static_cast<std::size_t>(g) * pass.GL.stride), accumulate);
      });
}

}  // namespace detail

template <class T>
void Network<T>::check_shapes(const Mat<const T>& params, const Arr3<const T>& x, const ChannelSpec& channels,
                              const char* what) const {
  channels.validate();
  const int B = static_cast<int>(params.extent(0));
  KPDE_REQUIRE(channels.dim == spec_.input_dim, InputError,
               std::string(what) + ": channel spec dimension differs from the network input");
  KPDE_REQUIRE(params.extent(1) == n_params_, InputError, std::string(what) + ": params must be [B][n_params]");
  KPDE_REQUIRE(static_cast<int>(x.extent(0)) == B && static_cast<int>(x.extent(2)) == spec_.input_dim, InputError,
               std::string(what) + ": points must be [B][N][input_dim]");
}

template <class T>
std::vector<detail::GaussCtx<T>> Network<T>::gauss_contexts(const Mat<const T>& params, const Arr3<const T>& x,
                                                            const ChannelSpec& channels) const {
  std::vector<detail::GaussCtx<T>> ctx;
  if (!gaussian()) return ctx;
  const int B = static_cast<int>(params.extent(0)), N = static_cast<int>(x.extent(1)), d = spec_.input_dim;
  const auto& fs = spec_.features;
  const detail::GaussLayout L(d, fs.gauss_channels, fs.full_covariance);
  ctx.resize(B);
  // x is contiguous per network ([B][N][d] LayoutRight)
  for (int b = 0; b < B; ++b)
    detail::build_gauss_ctx(L, fs.n_gaussians, &params(b, n_dense_), fs.cutoff, channels, N > 0 ? &x(b, 0, 0) : nullptr,
                            N, ctx[b]);
  return ctx;
}

template <class T>
void Network<T>::forward(const Mat<const T>& params, const Arr3<const T>& x, const ChannelSpec& channels,
                         const Arr4<T>& out, Workspace<T>* ws) const {
  check_shapes(params, x, channels, "forward");
  const int B = static_cast<int>(params.extent(0)), N = static_cast<int>(x.extent(1));
  const int m = spec_.output_dim, C = channels.n_channels(), P = spec_.block_points;
  KPDE_REQUIRE(static_cast<int>(out.extent(0)) == B && static_cast<int>(out.extent(1)) == N &&
                   static_cast<int>(out.extent(2)) == C && static_cast<int>(out.extent(3)) == m,
               InputError, "forward: outputs must be [B][N][channels][output_dim]");
  const int n_blocks = (N + P - 1) / P;
  const std::size_t store_sz = block_store_size(C), CPmax = static_cast<std::size_t>(C) * P;
  if (ws) {
    const std::size_t need = store_sz * static_cast<std::size_t>(n_blocks) * B;
    ensure_size(ws->store, need, "kpde::ws.store");
    ws->B = B, ws->N = N, ws->C = C, ws->channels = channels, ws->valid = true;
  }
  Kokkos::Experimental::UniqueToken<HostExec> token;
  // Without a workspace the block storage lives in per-thread scratch.
  const std::size_t per_thread = CPmax * m + (ws ? 0 : store_sz);
  Kokkos::View<T*, HostSpace> scratch(Kokkos::view_alloc("kpde::fwd.scratch", Kokkos::WithoutInitializing),
                                      per_thread * token.size());
  const auto gctx = gauss_contexts(params, x, channels);
  detail::with_block_pass(*this, channels, gctx.data(), [&](const auto& pass) {
    Kokkos::parallel_for(
        "kpde::Network::forward", Kokkos::RangePolicy<HostExec>(0, B * n_blocks), [&](const int task) {
          const int b = task / n_blocks, k = task % n_blocks;
          const int p0 = k * P, np = std::min(P, N - p0);
          const int id = token.acquire();
          T* y = scratch.data() + per_thread * id;
          T* base = ws ? ws->store.data() + store_sz * static_cast<std::size_t>(task) : y + CPmax * m;
          pass.forward_block(b, &params(b, 0), &x(b, p0, 0), np, base, y);
          for (int c = 0; c < C; ++c)
            for (int p = 0; p < np; ++p)
              for (int j = 0; j < m; ++j) out(b, p0 + p, c, j) = y[j + static_cast<std::size_t>(m) * (c * np + p)];
          token.release(id);
        });
  });
}

template <class T>
void Network<T>::features(const Vec<const T>& params, const Mat<const T>& x, const ChannelSpec& channels,
                          const Arr3<T>& out) const {
  const Mat<const T> P = as_batch(params);
  const Arr3<const T> X = as_batch(x);
  check_shapes(P, X, channels, "features");
  const int N = static_cast<int>(x.extent(0)), C = channels.n_channels(), BP = spec_.block_points, F = F_;
  KPDE_REQUIRE(static_cast<int>(out.extent(0)) == N && static_cast<int>(out.extent(1)) == C &&
                   static_cast<int>(out.extent(2)) == F,
               InputError, "features: out must be [N][channels][n_features]");
  const int n_blocks = (N + BP - 1) / BP;
  const auto gctx = gauss_contexts(P, X, channels);
  detail::with_block_pass(*this, channels, gctx.data(), [&](const auto& pass) {
    Kokkos::parallel_for(
        "kpde::Network::features", Kokkos::RangePolicy<HostExec>(0, n_blocks), [&](const int k) {
          const int p0 = k * BP, np = std::min(BP, N - p0);
          std::vector<T> phi(static_cast<std::size_t>(C) * np * F);
          pass.features(0, &P(0, 0), &X(0, p0, 0), np, phi.data());
          for (int p = 0; p < np; ++p)
            for (int c = 0; c < C; ++c)
              for (int f = 0; f < F; ++f) out(p0 + p, c, f) = phi[static_cast<std::size_t>(F) * (c * np + p) + f];
        });
  });
}

// Backward tasks: consecutive blocks of one network (at least 2, so that the task's
// gradient accumulator is reused while in cache; more when there would be over 128
// tasks, so that the partial-gradient buffer stays small). The split does not depend
// on the number of threads, so neither do the results.
template <class T>
typename Network<T>::TaskSplit Network<T>::split_tasks(int B, int N) const {
  TaskSplit t;
  const int P = spec_.block_points;
  t.n_blocks = (N + P - 1) / P;
  t.per_task = std::max(2, (B * t.n_blocks + 127) / 128);
  t.tasks_per_net = (t.n_blocks + t.per_task - 1) / t.per_task;
  t.n_tasks = B * t.tasks_per_net;
  return t;
}

template <class T>
void Network<T>::reduce_partials(const Workspace<T>& ws, const TaskSplit& t, int B, const Mat<T>& grad,
                                 bool accumulate) const {
  const std::size_t np = n_dense_, n_sum = static_cast<std::size_t>(B) * np;
  const int tpn = t.tasks_per_net;
  Kokkos::parallel_for(
      "kpde::Network::reduce_grad", Kokkos::RangePolicy<HostExec>(0, n_sum), [&](const std::size_t bi) {
        const std::size_t b = bi / np, i = bi % np;
        T s = accumulate ? grad(b, i) : T(0);
        for (int k = 0; k < tpn; ++k) s += ws.partial(np * (b * tpn + k) + i);
        grad(b, i) = s;
      });
}

template <class T>
void Network<T>::backward(const Mat<const T>& params, const Arr3<const T>& x, Workspace<T>& ws,
                          const Arr4<const T>& d_out, const Mat<T>& grad, bool accumulate,
                          const Arr3<T>& dx) const {
  KPDE_REQUIRE(ws.valid, Error, "backward: the workspace holds no forward pass");
  const ChannelSpec& channels = ws.channels;
  const int B = ws.B, N = ws.N, C = ws.C, m = spec_.output_dim, d = spec_.input_dim, P = spec_.block_points;
  check_shapes(params, x, channels, "backward");
  KPDE_REQUIRE(static_cast<int>(params.extent(0)) == B && static_cast<int>(x.extent(1)) == N, InputError,
               "backward: params and points must match the forward pass");
  KPDE_REQUIRE(static_cast<int>(d_out.extent(0)) == B && static_cast<int>(d_out.extent(1)) == N &&
                   static_cast<int>(d_out.extent(2)) == C && static_cast<int>(d_out.extent(3)) == m,
               InputError, "backward: d_out must be [B][N][channels][output_dim] as in forward");
  KPDE_REQUIRE(static_cast<int>(grad.extent(0)) == B && grad.extent(1) == n_params_, InputError,
               "backward: grad must be [B][n_params]");
  const bool want_dx = dx.extent(0) > 0;
  KPDE_REQUIRE(!(want_dx && gaussian()), InputError, "backward: input gradients (dx) are not available with gaussian features");
  KPDE_REQUIRE(!want_dx || (static_cast<int>(dx.extent(0)) == B && static_cast<int>(dx.extent(1)) == N &&
                            static_cast<int>(dx.extent(2)) == d),
               InputError, "backward: dx must be [B][N][input_dim]");
  const TaskSplit t = split_tasks(B, N);
  const std::size_t np_ = n_dense_, store_sz = block_store_size(C), CPmax = static_cast<std::size_t>(C) * P;
  ensure_size(ws.partial, np_ * t.n_tasks, "kpde::ws.partial");
  const auto gctx = gauss_contexts(params, x, channels);
  const std::size_t fstride = static_cast<std::size_t>(C) * spec_.features.gauss_channels;  // dfeat per point
  if (gaussian()) ensure_size(ws.dfeat, fstride * N * B, "kpde::ws.dfeat");
  Kokkos::Experimental::UniqueToken<HostExec> token;
  detail::with_block_pass(*this, channels, gctx.data(), [&](const auto& pass) {
    const std::size_t per_thread = CPmax * m + pass.scratch_size();
    ensure_size(ws.scratch, per_thread * token.size(), "kpde::ws.scratch");
    Kokkos::parallel_for(
        "kpde::Network::backward", Kokkos::RangePolicy<HostExec>(0, t.n_tasks), [&](const int task) {
          const int b = task / t.tasks_per_net, tk = task % t.tasks_per_net;
          const int id = token.acquire();
          T* gp = ws.partial.data() + np_ * task;
          T* dy = ws.scratch.data() + per_thread * id;
          T* scr = dy + CPmax * m;
          const int k_end = std::min(t.n_blocks, (tk + 1) * t.per_task);
          for (int k = tk * t.per_task; k < k_end; ++k) {
            const int p0 = k * P, np = std::min(P, N - p0);
            T* base = ws.store.data() + store_sz * (static_cast<std::size_t>(b) * t.n_blocks + k);
            for (int c = 0; c < C; ++c)
              for (int p = 0; p < np; ++p)
                for (int j = 0; j < m; ++j)
                  dy[j + static_cast<std::size_t>(m) * (c * np + p)] = d_out(b, p0 + p, c, j);
            pass.backward_block(&params(b, 0), &x(b, p0, 0), np, base, dy, gp, k == tk * t.per_task, scr,
                                want_dx ? &dx(b, p0, 0) : nullptr,
                                gaussian() ? ws.dfeat.data() + fstride * (static_cast<std::size_t>(b) * N + p0) : nullptr);
          }
          token.release(id);
        });
    if (gaussian()) detail::gauss_gather(pass, params, x, gctx, ws.dfeat.data(), grad, accumulate);
  });
  reduce_partials(ws, t, B, grad, accumulate);
}

template <class T>
double Network<T>::forward_backward(const Mat<const T>& params, const Arr3<const T>& x, const ChannelSpec& channels,
                                    const BlockLoss<T>& loss, Workspace<T>& ws, const Mat<T>& grad,
                                    bool accumulate) const {
  check_shapes(params, x, channels, "forward_backward");
  const int B = static_cast<int>(params.extent(0)), N = static_cast<int>(x.extent(1));
  const int m = spec_.output_dim, C = channels.n_channels(), P = spec_.block_points;
  KPDE_REQUIRE(static_cast<int>(grad.extent(0)) == B && grad.extent(1) == n_params_, InputError,
               "forward_backward: grad must be [B][n_params]");
  const TaskSplit t = split_tasks(B, N);
  const std::size_t np_ = n_dense_, store_sz = block_store_size(C), CPmax = static_cast<std::size_t>(C) * P;
  ensure_size(ws.partial, np_ * t.n_tasks, "kpde::ws.partial");
  ws.valid = false;  // the block storage is per thread and not kept
  std::vector<double> task_loss(t.n_tasks, 0.0);
  const auto gctx = gauss_contexts(params, x, channels);
  const std::size_t fstride = static_cast<std::size_t>(C) * spec_.features.gauss_channels;  // dfeat per point
  if (gaussian()) ensure_size(ws.dfeat, fstride * N * B, "kpde::ws.dfeat");
  Kokkos::Experimental::UniqueToken<HostExec> token;
  detail::with_block_pass(*this, channels, gctx.data(), [&](const auto& pass) {
    const std::size_t per_thread = 2 * CPmax * m + store_sz + pass.scratch_size();
    ensure_size(ws.scratch, per_thread * token.size(), "kpde::ws.scratch");
    Kokkos::parallel_for(
        "kpde::Network::forward_backward", Kokkos::RangePolicy<HostExec>(0, t.n_tasks), [&](const int task) {
          const int b = task / t.tasks_per_net, tk = task % t.tasks_per_net;
          const int id = token.acquire();
          T* gp = ws.partial.data() + np_ * task;
          T* y = ws.scratch.data() + per_thread * id;
          T* dy = y + CPmax * m;
          T* base = dy + CPmax * m;
          T* scr = base + store_sz;
          double l = 0;
          const int k_end = std::min(t.n_blocks, (tk + 1) * t.per_task);
          for (int k = tk * t.per_task; k < k_end; ++k) {
            const int p0 = k * P, np = std::min(P, N - p0);
            pass.forward_block(b, &params(b, 0), &x(b, p0, 0), np, base, y);
            l += loss(b, p0, np, y, dy);
            pass.backward_block(&params(b, 0), &x(b, p0, 0), np, base, dy, gp, k == tk * t.per_task, scr, nullptr,
                                gaussian() ? ws.dfeat.data() + fstride * (static_cast<std::size_t>(b) * N + p0)
                                           : nullptr);
          }
          task_loss[task] = l;
          token.release(id);
        });
    if (gaussian()) detail::gauss_gather(pass, params, x, gctx, ws.dfeat.data(), grad, accumulate);
  });
  reduce_partials(ws, t, B, grad, accumulate);
  double total = 0;
  for (double l : task_loss) total += l;
  return total;
}

template class Network<float>;
template class Network<double>;

}  // namespace kpde::nn
