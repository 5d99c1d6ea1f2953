#include "operators/mgno.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/strings.hpp"
#include "nn/conv2d.hpp"
#include "nn/pointwise.hpp"

namespace kpde::operators {

void MgnoSpec::validate() const {
  KPDE_REQUIRE(in_channels >= 1 && in_channels <= 4096, InputError, "mgno: in_channels must be in [1, 4096]");
  KPDE_REQUIRE(channels >= 1 && channels <= 4096, InputError, "model.channels: must be in [1, 4096]");
  KPDE_REQUIRE(layers >= 1 && layers <= 64, InputError, "model.layers: must be in [1, 64]");
  KPDE_REQUIRE(!smoothing.empty() && smoothing.size() <= 16, InputError,
               "model.smoothing: one count per level, 1 to 16 levels");
  for (int s : smoothing) KPDE_REQUIRE(s >= 1 && s <= 64, InputError, "model.smoothing: counts must be in [1, 64]");
  KPDE_REQUIRE(std::isfinite(input_mean) && std::isfinite(input_std) && input_std > 0, InputError,
               "mgno: the input normalisation needs a finite mean and a std > 0");
  KPDE_REQUIRE(std::isfinite(output_scale) && output_scale > 0, InputError, "model.output_scale: must be > 0");
}

std::vector<int> MgnoSpec::extents(int n) const {
  std::vector<int> e{n};
  for (int k = 1; k < levels(); ++k) e.push_back((e.back() - 1) / 2 + 1);
  return e;
}

int MgnoSpec::min_extent() const {
  const int coarsest = pad == nn::PadMode::reflect ? 3 : 2;
  int n = coarsest;  // n_{k} = floor((n_{k-1} - 1) / 2) + 1 >= c  <=>  n_{k-1} >= 2c - 1
  for (int k = 1; k < levels(); ++k) n = 2 * n - 1;
  return n;
}

nn::PadMode parse_pad_mode(const std::string& name) {
  const std::string n = to_lower(name);
  if (n == "zeros") return nn::PadMode::zeros;
  if (n == "reflect") return nn::PadMode::reflect;
  if (n == "circular") return nn::PadMode::circular;
  throw InputError("padding '" + name + "': expected zeros (Dirichlet), reflect (Neumann) or circular (periodic)");
}

std::string to_string(nn::PadMode mode) {
  switch (mode) {
    case nn::PadMode::zeros: return "zeros";
    case nn::PadMode::reflect: return "reflect";
    case nn::PadMode::circular: return "circular";
  }
  return "zeros";
}

namespace {

/// A feature map [B][C][H][W] owning its values (zero on construction).
template <class T>
struct Map {
  int B = 0, C = 0, H = 0, W = 0;
  std::vector<T> v;
  Map() = default;
  Map(int b, int c, int h, int w)
      : B(b), C(c), H(h), W(w), v(static_cast<std::size_t>(b) * c * h * w, T(0)) {}
  Arr4<T> view() { return Arr4<T>(v.data(), B, C, H, W); }
  Arr4<const T> cview() const { return Arr4<const T>(v.data(), B, C, H, W); }
  std::size_t size() const { return v.size(); }
};

template <class T>
Arr4<T> mut(const Arr4<const T>& a) {  // the same values, writable (for maps this file owns)
  return Arr4<T>(const_cast<T*>(a.data()), a.extent(0), a.extent(1), a.extent(2), a.extent(3));
}

/// f(i) for i < n, on the host space when n is large.
template <class F>
void each(std::size_t n, const F& f) {
  if (n < (std::size_t(1) << 15)) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  Kokkos::parallel_for("kpde::mgno::each", Kokkos::RangePolicy<HostExec>(0, n), [&](const std::size_t i) { f(i); });
}

/// y += a * x (n values).
template <class T>
void axpy(std::size_t n, T a, const T* x, T* y) {
  each(n, [&](std::size_t i) { y[i] += a * x[i]; });
}

/// y = x - y (n values): the residual f - A u from y = A u.
template <class T>
void subtract_from(std::size_t n, const T* x, T* y) {
  each(n, [&](std::size_t i) { y[i] = x[i] - y[i]; });
}

}  // namespace

template <class T>
struct MgnoLayerCache {
  std::vector<Map<T>> f;                 ///< [level] f_k (level 0: the layer's input, not stored here)
  std::vector<Map<T>> q;                 ///< [level] f_{k-1} - A' u_{k-1} (residual restriction)
  std::vector<std::vector<Map<T>>> u;    ///< [level][i] u before step i, i = 0..nu (u[0][0] unused)
  std::vector<std::vector<Map<T>>> r;    ///< [level][i] the residual step i smoothed (r[0][0] unused)
  std::vector<Map<T>> fin;               ///< [level] u after the upward correction, levels 1..L-2
  Map<T> z, y;                           ///< pre-activation and output of the layer [B][C][H][W]
};

template <class T>
Mgno<T>::Cache::Cache() = default;
template <class T>
Mgno<T>::Cache::~Cache() = default;

namespace {

nn::Conv2dSpec conv3(int cin, int cout, int stride, nn::PadMode pad) {
  nn::Conv2dSpec s;
  s.in_channels = cin, s.out_channels = cout, s.kernel = 3, s.stride = stride, s.padding = 1, s.pad = pad;
  s.bias = false;
  return s;
}

nn::Conv2dSpec conv1(int cin, int cout, bool bias) {
  nn::Conv2dSpec s;
  s.in_channels = cin, s.out_channels = cout, s.kernel = 1, s.stride = 1, s.padding = 0, s.bias = bias;
  return s;
}

/// The prolongation as computed: output_padding 1 (a 2 n_c map), cropped to the fine extent.
nn::ConvTranspose2dSpec prolongation(int c) {
  nn::ConvTranspose2dSpec s;
  s.in_channels = c, s.out_channels = c, s.kernel = 3, s.stride = 2, s.padding = 1, s.output_padding = 1;
  s.bias = false;
  return s;
}

/// y [B][C][h][w] = P x (cropped), x [B][C][hc][wc]; y overwritten.
template <class T>
void prolong(int C, const T* w, const Arr4<const T>& x, Map<T>& y) {
  const nn::ConvTranspose2d<T> P(prolongation(C));
  const int B = static_cast<int>(x.extent(0)), hf = 2 * static_cast<int>(x.extent(2)),
            wf = 2 * static_cast<int>(x.extent(3));
  if (hf == y.H && wf == y.W) return P.forward(w, x, y.view());
  Map<T> full(B, C, hf, wf);
  P.forward(w, x, full.view());
  each(static_cast<std::size_t>(B) * C * y.H, [&](std::size_t bci) {
    const std::size_t bc = bci / y.H, i = bci % y.H;
    std::copy_n(full.v.data() + (bc * hf + i) * wf, y.W, y.v.data() + (bc * y.H + i) * y.W);
  });
}

/// From dy [B][C][h][w] (the cropped output's gradient): dx [B][C][hc][wc] (overwritten), grad += dP.
template <class T>
void prolong_backward(int C, const T* w, const Arr4<const T>& x, const Map<T>& dy, Map<T>& dx, T* grad) {
  const nn::ConvTranspose2d<T> P(prolongation(C));
  const int B = dy.B, hf = 2 * static_cast<int>(x.extent(2)), wf = 2 * static_cast<int>(x.extent(3));
  if (hf == dy.H && wf == dy.W) return P.backward(w, x, dy.cview(), dx.view(), grad);
  Map<T> full(B, C, hf, wf);
  each(static_cast<std::size_t>(B) * C * dy.H, [&](std::size_t bci) {
    const std::size_t bc = bci / dy.H, i = bci % dy.H;
    std::copy_n(dy.v.data() + (bc * dy.H + i) * dy.W, dy.W, full.v.data() + (bc * hf + i) * wf);
  });
  P.backward(w, x, full.cview(), dx.view(), grad);
}

}  // namespace

template <class T>
Mgno<T>::Mgno(const MgnoSpec& spec) : spec_(spec) {
  spec_.validate();
  const int C = spec_.channels, L = spec_.levels();
  std::size_t off = 0;
  const auto take = [&](std::size_t n) {
    const std::size_t at = off;
    off += n;
    return at;
  };
  for (int l = 0; l < spec_.layers; ++l) {
    MgnoLayerLayout lay;
    const int cf = l == 0 ? spec_.in_channels : C;
    lay.c_f = cf;
    lay.R.assign(L, MgnoLayerLayout::kNone), lay.Pi = lay.R, lay.Ares = lay.R;
    lay.A.resize(L), lay.S.resize(L);
    for (int k = 0; k < L; ++k) {
      if (k > 0) {
        lay.R[k] = take(9u * cf * cf);
        lay.Pi[k] = take(9u * C * C);
        if (spec_.residual_restriction) lay.Ares[k] = take(9u * cf * C);
      }
      for (int i = 0; i < spec_.smoothing[k]; ++i) {
        lay.A[k].push_back(k == 0 && i == 0 ? MgnoLayerLayout::kNone : take(9u * cf * C));
        lay.S[k].push_back(take(9u * C * cf));
      }
    }
    for (int k = 0; k + 1 < L; ++k) lay.P.push_back(take(9u * C * C));
    lay.K = take(static_cast<std::size_t>(C) * cf);
    lay.Kb = take(C);
    layouts_.push_back(lay);
  }
  out_ = take(C);
  n_params_ = off;
}

template <class T>
void Mgno<T>::init_params(T* p, std::uint64_t seed) const {
  Rng rng(seed);
  const int C = spec_.channels, L = spec_.levels();
  const nn::PadMode pad = spec_.pad;
  for (const MgnoLayerLayout& lay : layouts_) {  // buffer order (see the constructor)
    const int cf = lay.c_f;
    for (int k = 0; k < L; ++k) {
      if (k > 0) {
        nn::Conv2d<T>(conv3(cf, cf, 2, pad)).init(p + lay.R[k], rng);
        nn::Conv2d<T>(conv3(C, C, 2, pad)).init(p + lay.Pi[k], rng);
        if (spec_.residual_restriction) nn::Conv2d<T>(conv3(C, cf, 1, pad)).init(p + lay.Ares[k], rng);
      }
      for (int i = 0; i < spec_.smoothing[k]; ++i) {
        if (!(k == 0 && i == 0)) nn::Conv2d<T>(conv3(C, cf, 1, pad)).init(p + lay.A[k][i], rng);
        nn::Conv2d<T>(conv3(cf, C, 1, pad)).init(p + lay.S[k][i], rng);
      }
    }
    for (int k = 0; k + 1 < L; ++k) nn::ConvTranspose2d<T>(prolongation(C)).init(p + lay.P[k], rng);
    nn::Conv2d<T>(conv1(cf, C, true)).init(p + lay.K, rng);
  }
  nn::Conv2d<T>(conv1(C, 1, false)).init(p + out_, rng);
}

namespace {

/// The V-cycle of one layer (see mgno.hpp) with its maps kept in c; v = V(f0) [B][C][H][W].
template <class T>
void vcycle_forward(const MgnoSpec& spec, const MgnoLayerLayout& lay, const T* p, const Arr4<const T>& f0,
                    MgnoLayerCache<T>& c, Map<T>& v) {
  const int B = static_cast<int>(f0.extent(0)), cf = lay.c_f, C = spec.channels, L = spec.levels();
  const std::vector<int> eh = spec.extents(static_cast<int>(f0.extent(2))), ew = spec.extents(static_cast<int>(f0.extent(3)));
  const nn::PadMode pad = spec.pad;
  c.f.assign(L, {}), c.q.assign(L, {}), c.u.assign(L, {}), c.r.assign(L, {}), c.fin.assign(L, {});
  const auto f_of = [&](int k) { return k == 0 ? f0 : c.f[k].cview(); };
  const auto upre = [&](int k) { return c.u[k].back().cview(); };
  for (int k = 0; k < L; ++k) {
    const int h = eh[k], w = ew[k], nu = spec.smoothing[k];
    c.u[k].resize(nu + 1), c.r[k].resize(nu);
    if (k > 0) {
      Arr4<const T> src = f_of(k - 1);
      if (spec.residual_restriction) {  // q = f_{k-1} - A' u_{k-1}
        c.q[k] = Map<T>(B, cf, eh[k - 1], ew[k - 1]);
        nn::Conv2d<T>(conv3(C, cf, 1, pad)).forward(p + lay.Ares[k], upre(k - 1), c.q[k].view());
        subtract_from(c.q[k].size(), src.data(), c.q[k].v.data());
        src = c.q[k].cview();
      }
      c.f[k] = Map<T>(B, cf, h, w);
      nn::Conv2d<T>(conv3(cf, cf, 2, pad)).forward(p + lay.R[k], src, c.f[k].view());
      c.u[k][0] = Map<T>(B, C, h, w);
      nn::Conv2d<T>(conv3(C, C, 2, pad)).forward(p + lay.Pi[k], upre(k - 1), c.u[k][0].view());
    }
    const Arr4<const T> fk = f_of(k);
    for (int i = 0; i < nu; ++i) {
      c.u[k][i + 1] = Map<T>(B, C, h, w);
      if (k == 0 && i == 0) {  // u = S f (a zero first guess smoothed once)
        nn::Conv2d<T>(conv3(cf, C, 1, pad)).forward(p + lay.S[0][0], fk, c.u[0][1].view());
        continue;
      }
      c.r[k][i] = Map<T>(B, cf, h, w);  // r = f - A u
      nn::Conv2d<T>(conv3(C, cf, 1, pad)).forward(p + lay.A[k][i], c.u[k][i].cview(), c.r[k][i].view());
      subtract_from(c.r[k][i].size(), fk.data(), c.r[k][i].v.data());
      // u <- u + S r
      nn::Conv2d<T>(conv3(cf, C, 1, pad)).forward(p + lay.S[k][i], c.r[k][i].cview(), c.u[k][i + 1].view());
      axpy(c.u[k][i + 1].size(), T(1), c.u[k][i].v.data(), c.u[k][i + 1].v.data());
    }
  }
  // upward: u_k <- u_k + P_k u_{k+1}, from the coarsest level
  v = Map<T>(B, C, eh[0], ew[0]);
  for (int k = L - 2; k >= 0; --k) {
    Map<T>& dst = k == 0 ? v : (c.fin[k] = Map<T>(B, C, eh[k], ew[k]));
    prolong(C, p + lay.P[k], k + 1 == L - 1 ? upre(k + 1) : c.fin[k + 1].cview(), dst);
    axpy(dst.size(), T(1), upre(k).data(), dst.v.data());
  }
  if (L == 1) std::copy(c.u[0].back().v.begin(), c.u[0].back().v.end(), v.v.begin());
}

/// gf0 [B][C_f][H][W] += dV/df0^T gv and grad += dV/dtheta^T gv, from the maps of vcycle_forward.
template <class T>
void vcycle_backward(const MgnoSpec& spec, const MgnoLayerLayout& lay, const T* p, const Arr4<const T>& f0,
                     const MgnoLayerCache<T>& c, const Map<T>& gv, Map<T>& gf0, T* grad) {
  const int B = gv.B, cf = lay.c_f, C = spec.channels, L = spec.levels();
  const std::vector<int> eh = spec.extents(static_cast<int>(f0.extent(2))), ew = spec.extents(static_cast<int>(f0.extent(3)));
  const nn::PadMode pad = spec.pad;
  const auto f_of = [&](int k) { return k == 0 ? f0 : c.f[k].cview(); };
  const auto upre = [&](int k) { return c.u[k].back().cview(); };
  std::vector<Map<T>> gpre(L), gf(L);
  {  // the upward sweep, reversed: fin_k = upre_k + P_k fin_{k+1}
    Map<T> g = gv;
    for (int k = 0; k + 1 < L; ++k) {
      gpre[k] = g;
      Map<T> next(B, C, eh[k + 1], ew[k + 1]);
      prolong_backward(C, p + lay.P[k], k + 1 == L - 1 ? upre(k + 1) : c.fin[k + 1].cview(), g, next, grad + lay.P[k]);
      g = std::move(next);
    }
    gpre[L - 1] = std::move(g);
  }
  for (int k = 1; k < L; ++k) gf[k] = Map<T>(B, cf, eh[k], ew[k]);
  const auto gf_of = [&](int k) -> Map<T>& { return k == 0 ? gf0 : gf[k]; };
  for (int k = L - 1; k >= 0; --k) {
    const int h = eh[k], w = ew[k];
    Map<T>& g = gpre[k];  // dL/du_k, walking back through the smoothing steps
    Map<T>& gfk = gf_of(k);
    for (int i = spec.smoothing[k] - 1; i >= 0; --i) {
      Map<T> gr(B, cf, h, w);
      if (k == 0 && i == 0) {  // u = S f
        nn::Conv2d<T>(conv3(cf, C, 1, pad)).backward(p + lay.S[0][0], f0, g.cview(), gr.view(), grad + lay.S[0][0]);
        axpy(gr.size(), T(1), gr.v.data(), gfk.v.data());
        break;
      }
      // u' = u + S r, r = f - A u:  gr = S^T g,  gf += gr,  gu = g - A^T gr
      nn::Conv2d<T>(conv3(cf, C, 1, pad)).backward(p + lay.S[k][i], c.r[k][i].cview(), g.cview(), gr.view(),
                                                   grad + lay.S[k][i]);
      axpy(gr.size(), T(1), gr.v.data(), gfk.v.data());
      for (T& x : gr.v) x = -x;
      Map<T> gu(B, C, h, w);
      nn::Conv2d<T>(conv3(C, cf, 1, pad)).backward(p + lay.A[k][i], c.u[k][i].cview(), gr.cview(), gu.view(),
                                                   grad + lay.A[k][i]);
      axpy(gu.size(), T(1), gu.v.data(), g.v.data());
    }
    if (k == 0) break;
    // u_k = Pi u_{k-1}
    Map<T> gu(B, C, eh[k - 1], ew[k - 1]);
    nn::Conv2d<T>(conv3(C, C, 2, pad)).backward(p + lay.Pi[k], upre(k - 1), g.cview(), gu.view(), grad + lay.Pi[k]);
    axpy(gu.size(), T(1), gu.v.data(), gpre[k - 1].v.data());
    // f_k = R q,  q = f_{k-1} (- A' u_{k-1})
    Map<T> gq(B, cf, eh[k - 1], ew[k - 1]);
    const Arr4<const T> q = spec.residual_restriction ? c.q[k].cview() : f_of(k - 1);
    nn::Conv2d<T>(conv3(cf, cf, 2, pad)).backward(p + lay.R[k], q, gfk.cview(), gq.view(), grad + lay.R[k]);
    axpy(gq.size(), T(1), gq.v.data(), gf_of(k - 1).v.data());
    if (spec.residual_restriction) {
      for (T& x : gq.v) x = -x;
      nn::Conv2d<T>(conv3(C, cf, 1, pad)).backward(p + lay.Ares[k], upre(k - 1), gq.cview(), gu.view(),
                                                   grad + lay.Ares[k]);
      axpy(gu.size(), T(1), gu.v.data(), gpre[k - 1].v.data());
    }
  }
}

}  // namespace

template <class T>
void Mgno<T>::vcycle(int layer, const T* params, const Arr4<const T>& f, const Arr4<T>& v) const {
  const MgnoLayerLayout& lay = layouts_.at(static_cast<std::size_t>(layer));
  KPDE_REQUIRE(static_cast<int>(f.extent(1)) == lay.c_f && v.extent(1) == static_cast<std::size_t>(spec_.channels) &&
                   v.extent(0) == f.extent(0) && v.extent(2) == f.extent(2) && v.extent(3) == f.extent(3),
               Error, "Mgno::vcycle: shape mismatch");
  MgnoLayerCache<T> c;
  Map<T> out;
  vcycle_forward(spec_, lay, params, f, c, out);
  std::copy(out.v.begin(), out.v.end(), v.data());
}

template <class T>
void Mgno<T>::forward(const T* p, const Arr4<const T>& a, const Arr4<T>& u, Cache* cache) const {
  const int B = static_cast<int>(a.extent(0)), H = static_cast<int>(a.extent(2)), W = static_cast<int>(a.extent(3));
  const int C = spec_.channels;
  if (static_cast<int>(a.extent(1)) != spec_.in_channels)
    throw InputError("mgno: the input has " + std::to_string(a.extent(1)) + " channels, the model reads " +
                     std::to_string(spec_.in_channels));
  if (std::min(H, W) < spec_.min_extent())
    throw InputError("mgno: a " + std::to_string(H) + " x " + std::to_string(W) + " grid is too small for " +
                     std::to_string(spec_.levels()) + " levels (at least " + std::to_string(spec_.min_extent()) +
                     " nodes per axis)");
  KPDE_REQUIRE(u.extent(0) == a.extent(0) && u.extent(1) == 1 && u.extent(2) == a.extent(2) && u.extent(3) == a.extent(3),
               Error, "Mgno::forward: u must be [B][1][H][W]");
  Cache local;
  Cache& c = cache ? *cache : local;
  c.B = B, c.H = H, c.W = W;
  c.x0.resize(a.size());
  const T mu = T(spec_.input_mean), inv = T(1 / spec_.input_std);
  each(a.size(), [&](std::size_t i) { c.x0[i] = (a.data()[i] - mu) * inv; });
  c.layers.resize(layouts_.size());
  Arr4<const T> x(c.x0.data(), B, spec_.in_channels, H, W);
  for (std::size_t l = 0; l < layouts_.size(); ++l) {
    if (!c.layers[l]) c.layers[l] = std::make_unique<MgnoLayerCache<T>>();
    MgnoLayerCache<T>& lc = *c.layers[l];
    const MgnoLayerLayout& lay = layouts_[l];
    vcycle_forward(spec_, lay, p, x, lc, lc.z);
    Map<T> k(B, C, H, W);  // the pointwise path K x + b
    nn::Conv2d<T>(conv1(lay.c_f, C, true)).forward(p + lay.K, x, k.view());
    axpy(k.size(), T(1), k.v.data(), lc.z.v.data());
    lc.y = Map<T>(B, C, H, W);
    nn::gelu_forward(lc.z.size(), lc.z.v.data(), lc.y.v.data());
    if (!cache) {  // inference: only this layer's output is still needed
      lc = MgnoLayerCache<T>{{}, {}, {}, {}, {}, {}, std::move(lc.y)};
      if (l > 0) c.layers[l - 1].reset();
    }
    x = lc.y.cview();
  }
  nn::Conv2d<T>(conv1(C, 1, false)).forward(p + out_, x, u);
  const T sigma = T(spec_.output_scale);
  each(u.size(), [&](std::size_t i) { u.data()[i] *= sigma; });
}

template <class T>
void Mgno<T>::backward(const T* p, Cache& c, const Arr4<const T>& du, T* grad, T* da) const {
  const int B = c.B, H = c.H, W = c.W, C = spec_.channels;
  KPDE_REQUIRE(c.layers.size() == layouts_.size() && du.extent(0) == static_cast<std::size_t>(B) && du.extent(1) == 1 &&
                   du.extent(2) == static_cast<std::size_t>(H) && du.extent(3) == static_cast<std::size_t>(W),
               Error, "Mgno::backward: du does not match the cached forward pass");
  Map<T> g(B, 1, H, W);
  const T sigma = T(spec_.output_scale);
  each(g.size(), [&](std::size_t i) { g.v[i] = sigma * du.data()[i]; });
  Map<T> gy(B, C, H, W);
  nn::Conv2d<T>(conv1(C, 1, false)).backward(p + out_, c.layers.back()->y.cview(), g.cview(), gy.view(), grad + out_);
  for (int l = static_cast<int>(layouts_.size()) - 1; l >= 0; --l) {
    const MgnoLayerLayout& lay = layouts_[static_cast<std::size_t>(l)];
    MgnoLayerCache<T>& lc = *c.layers[static_cast<std::size_t>(l)];
    const Arr4<const T> x = l == 0 ? Arr4<const T>(c.x0.data(), B, spec_.in_channels, H, W)
                                   : c.layers[static_cast<std::size_t>(l - 1)]->y.cview();
    Map<T> gz(B, C, H, W);
    nn::gelu_backward(gz.size(), lc.z.v.data(), gy.v.data(), gz.v.data());
    Map<T> gx(B, lay.c_f, H, W);
    nn::Conv2d<T>(conv1(lay.c_f, C, true)).backward(p + lay.K, x, gz.cview(), gx.view(), grad + lay.K);
    vcycle_backward(spec_, lay, p, x, lc, gz, gx, grad);
    gy = std::move(gx);
  }
  if (da) {  // x0 = (a - mu) / s
    const T inv = T(1 / spec_.input_std);
    each(gy.size(), [&](std::size_t i) { da[i] = gy.v[i] * inv; });
  }
}

template <class T>
double Mgno<T>::forward_flops(int B, int H, int W) const {
  const int C = spec_.channels, L = spec_.levels();
  const std::vector<int> eh = spec_.extents(H), ew = spec_.extents(W);
  double f = 0;
  for (const MgnoLayerLayout& lay : layouts_) {
    const int cf = lay.c_f;
    for (int k = 0; k < L; ++k) {
      if (k > 0) {
        f += nn::Conv2d<T>(conv3(cf, cf, 2, spec_.pad)).forward_flops(B, eh[k - 1], ew[k - 1]);
        f += nn::Conv2d<T>(conv3(C, C, 2, spec_.pad)).forward_flops(B, eh[k - 1], ew[k - 1]);
        if (spec_.residual_restriction)
          f += nn::Conv2d<T>(conv3(C, cf, 1, spec_.pad)).forward_flops(B, eh[k - 1], ew[k - 1]);
      }
      const double step = nn::Conv2d<T>(conv3(cf, C, 1, spec_.pad)).forward_flops(B, eh[k], ew[k]);
      f += step * (2 * spec_.smoothing[k] - (k == 0 ? 1 : 0));
    }
    for (int k = 0; k + 1 < L; ++k)
      f += nn::ConvTranspose2d<T>(prolongation(C)).forward_flops(B, eh[k + 1], ew[k + 1]);
    f += nn::Conv2d<T>(conv1(cf, C, true)).forward_flops(B, H, W);
  }
  return f + nn::Conv2d<T>(conv1(C, 1, false)).forward_flops(B, H, W);
}

template class Mgno<float>;
template class Mgno<double>;

}  // namespace kpde::operators
