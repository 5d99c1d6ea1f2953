#include "nn/network.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "core/rng.hpp"
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

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Activation parse_activation(const std::string& name) {
  const std::string n = lower(name);
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
  const std::string n = lower(name);
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
  if (features.kind == FeatureKind::fourier_random && (features.n_random < 1 || !(features.sigma > 0)))
    throw InputError("network: random fourier features need n_random >= 1 and sigma > 0");
}

template <class T>
Network<T>::Network(const NetworkSpec& spec) : spec_(spec) {
  spec_.validate();
  const int d = spec_.input_dim, w = spec_.width;
  const auto& fs = spec_.features;
  constexpr double two_pi = 6.283185307179586476925;
  if (fs.kind == FeatureKind::none) {
    raw_ = d;
  } else {
    raw_ = fs.include_input ? d : 0;
    if (fs.kind == FeatureKind::fourier_fixed) {
      for (int j = 0; j < d; ++j)
        for (int k = 0; k < fs.n_frequencies; ++k) {
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
  F_ = raw_ + 2 * M_;

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

// Per-thread scratch: forward Y [m]; backward dY [m], dH [max(F,w)], dA, dZ, dU, dV [w], dphi [F].
template <class T>
std::size_t Network<T>::block_scratch_size(int C, bool backward) const {
  const std::size_t cp = static_cast<std::size_t>(C) * spec_.block_points;
  const std::size_t w = spec_.width, m = spec_.output_dim;
  if (!backward) return cp * m;
  return cp * (m + std::max<std::size_t>(F_, w) + 4 * w + F_);
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

namespace {

template <class T>
detail::SecondMats<T> second_mats(const ChannelSpec& ch) {
  detail::SecondMats<T> M{};
  for (int s = 0; s < ch.n_second(); ++s) {
    const auto A = ch.second_matrix(s);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) M.A[s][a][b] = static_cast<T>(A[a][b]);
  }
  return M;
}

}  // namespace

template <class T>
void Network<T>::forward(const Mat<const T>& params, const Arr3<const T>& x, const ChannelSpec& channels,
                         const Arr4<T>& out, Workspace<T>* ws) const {
  channels.validate();
  const int B = static_cast<int>(params.extent(0)), N = static_cast<int>(x.extent(1));
  const int d = spec_.input_dim, m = spec_.output_dim, w = spec_.width, F = F_;
  const int G = channels.n_grad(), S = channels.n_second(), C = channels.n_channels();
  const int P = spec_.block_points;
  KPDE_REQUIRE(channels.dim == d, InputError, "forward: channel spec dimension differs from the network input");
  KPDE_REQUIRE(params.extent(1) == n_params_, InputError, "forward: params must be [B][n_params]");
  KPDE_REQUIRE(static_cast<int>(x.extent(0)) == B && static_cast<int>(x.extent(2)) == d, InputError,
               "forward: points must be [B][N][input_dim]");
  KPDE_REQUIRE(static_cast<int>(out.extent(0)) == B && static_cast<int>(out.extent(1)) == N &&
                   static_cast<int>(out.extent(2)) == C && static_cast<int>(out.extent(3)) == m,
               InputError, "forward: outputs must be [B][N][channels][output_dim]");
  const int n_blocks = (N + P - 1) / P;
  const std::size_t store_sz = block_store_size(C), scr_sz = block_scratch_size(C, false);
  if (ws) {
    const std::size_t need = store_sz * static_cast<std::size_t>(n_blocks) * B;
    if (ws->store.extent(0) < need)
      ws->store = Kokkos::View<T*, HostSpace>(Kokkos::view_alloc("kpde::ws.store", Kokkos::WithoutInitializing), need);
    ws->B = B, ws->N = N, ws->C = C, ws->channels = channels, ws->valid = true;
  }
  Kokkos::Experimental::UniqueToken<HostExec> token;
  // Without a workspace the per-block storage lives in per-thread scratch.
  const std::size_t per_thread = scr_sz + (ws ? 0 : store_sz);
  Kokkos::View<T*, HostSpace> scratch(Kokkos::view_alloc("kpde::fwd.scratch", Kokkos::WithoutInitializing),
                                      per_thread * token.size());
  const auto M = second_mats<T>(channels);
  const bool mod = spec_.arch == Arch::modified_mlp;
  const std::vector<T> omega(omega_.begin(), omega_.end());
  // w^T A^s w for each frequency vector and second-order channel
  std::vector<T> wAw(static_cast<std::size_t>(M_) * std::max(S, 1), T(0));
  for (int f = 0; f < M_; ++f)
    for (int s = 0; s < S; ++s) {
      const auto A = channels.second_matrix(s);
      double q = 0;
      for (int a = 0; a < d; ++a)
        for (int b = 0; b < d; ++b) q += A[a][b] * omega_[f * d + a] * omega_[f * d + b];
      wAw[f * S + s] = static_cast<T>(q);
    }

  dispatch_activation(spec_.activation, [&](auto act) {
    using Act = decltype(act);
    detail::dispatch_channels(G, S, [&](auto g_c, auto s_c) {
      constexpr int GG = decltype(g_c)::value, SS = decltype(s_c)::value;
      Kokkos::parallel_for(
          "kpde::Network::forward", Kokkos::RangePolicy<HostExec>(0, B * n_blocks), [&](const int task) {
            const int b = task / n_blocks, k = task % n_blocks;
            const int p0 = k * P, np = std::min(P, N - p0), cp = C * np;
            const int id = token.acquire();
            T* scr = scratch.data() + per_thread * id;
            T* base = ws ? ws->store.data() + store_sz * static_cast<std::size_t>(task) : scr + scr_sz;
            const std::size_t CPmax = static_cast<std::size_t>(C) * P;
            const T* prm = &params(b, 0);
            T* phi = base;
            T* cur = base + CPmax * F;
            // features phi (jets)
            {
              detail::Jets<T> J{phi, F, np};
              for (int p = 0; p < np; ++p) {
                for (int c = 0; c < C; ++c) std::fill(J.at(c, p), J.at(c, p) + F, T(0));
                const T* xp = &x(b, p0 + p, 0);
                for (int i = 0; i < raw_; ++i) {
                  J.at(0, p)[i] = xp[i];
                  if (GG > 0) J.at(1 + i, p)[i] = T(1);
                }
                for (int f = 0; f < M_; ++f) {
                  T th = T(0);
                  for (int i = 0; i < d; ++i) th += omega[f * d + i] * xp[i];
                  const T sn = std::sin(th), cs = std::cos(th);
                  const int rs = raw_ + f, rc = raw_ + M_ + f;
                  J.at(0, p)[rs] = sn;
                  J.at(0, p)[rc] = cs;
                  for (int g = 0; g < GG; ++g) {
                    J.at(1 + g, p)[rs] = cs * omega[f * d + g];
                    J.at(1 + g, p)[rc] = -sn * omega[f * d + g];
                  }
                  for (int s = 0; s < SS; ++s) {
                    J.at(1 + GG + s, p)[rs] = -sn * wAw[f * SS + s];
                    J.at(1 + GG + s, p)[rc] = -cs * wAw[f * SS + s];
                  }
                }
              }
            }
            auto dense_fwd = [&](const Dense& L, const T* in, T* z) {
              gemm('T', 'N', T(1), lm(prm + L.W, L.in, L.out), lm(in, L.in, cp), T(0), lm(z, L.out, cp));
              for (int p = 0; p < np; ++p)
                for (int j = 0; j < L.out; ++j) z[j + static_cast<std::size_t>(L.out) * p] += prm[L.b + j];
            };
            T *U = nullptr, *V = nullptr;
            if (mod) {
              T* zu = cur;
              U = cur + CPmax * w;
              T* zv = cur + 2 * CPmax * w;
              V = cur + 3 * CPmax * w;
              cur += 4 * CPmax * w;
              dense_fwd(u_, phi, zu);
              dense_fwd(v_, phi, zv);
              detail::act_forward<TanhAct, GG, SS, T>({zu, w, np}, {U, w, np}, M);
              detail::act_forward<TanhAct, GG, SS, T>({zv, w, np}, {V, w, np}, M);
            }
            const T* h = phi;
            for (const auto& L : hidden_) {
              T* z = cur;
              T* a = cur + CPmax * w;
              cur += CPmax * w * 2;
              dense_fwd(L, h, z);
              detail::act_forward<Act, GG, SS, T>({z, w, np}, {a, w, np}, M);
              if (mod) {
                T* hg = cur;
                cur += CPmax * w;
                detail::gate_forward<GG, SS, T>({U, w, np}, {V, w, np}, {a, w, np}, {hg, w, np}, M);
                h = hg;
              } else {
                h = a;
              }
            }
            T* y = scr;
            dense_fwd(out_, h, y);
            for (int c = 0; c < C; ++c)
              for (int p = 0; p < np; ++p)
                for (int j = 0; j < m; ++j) out(b, p0 + p, c, j) = y[j + static_cast<std::size_t>(m) * (c * np + p)];
            token.release(id);
          });
    });
  });
}

template <class T>
void Network<T>::backward(const Mat<const T>& params, const Arr3<const T>& x, Workspace<T>& ws,
                          const Arr4<const T>& d_out, const Mat<T>& grad, bool accumulate,
                          const Arr3<T>& dx) const {
  KPDE_REQUIRE(ws.valid, Error, "backward: the workspace holds no forward pass");
  const ChannelSpec& channels = ws.channels;
  const int B = ws.B, N = ws.N, C = ws.C;
  const int d = spec_.input_dim, m = spec_.output_dim, w = spec_.width, F = F_;
  const int G = channels.n_grad(), S = channels.n_second();
  const int P = spec_.block_points;
  KPDE_REQUIRE(static_cast<int>(params.extent(0)) == B && params.extent(1) == n_params_ &&
                   static_cast<int>(x.extent(0)) == B && static_cast<int>(x.extent(1)) == N,
               InputError, "backward: params and points must match the forward pass");
  KPDE_REQUIRE(static_cast<int>(d_out.extent(0)) == B && static_cast<int>(d_out.extent(1)) == N &&
                   static_cast<int>(d_out.extent(2)) == C && static_cast<int>(d_out.extent(3)) == m,
               InputError, "backward: d_out must be [B][N][channels][output_dim] as in forward");
  KPDE_REQUIRE(static_cast<int>(grad.extent(0)) == B && grad.extent(1) == n_params_, InputError,
               "backward: grad must be [B][n_params]");
  const bool want_dx = dx.extent(0) > 0;
  KPDE_REQUIRE(!want_dx || (static_cast<int>(dx.extent(0)) == B && static_cast<int>(dx.extent(1)) == N &&
                            static_cast<int>(dx.extent(2)) == d),
               InputError, "backward: dx must be [B][N][input_dim]");
  const int n_blocks = (N + P - 1) / P;
  // Tasks: consecutive blocks of one network, at most ~128 tasks in all, so that the
  // partial-gradient buffer stays small; the split does not depend on thread count.
  const int per_task = std::max(1, (B * n_blocks + 127) / 128);
  const int tasks_per_net = (n_blocks + per_task - 1) / per_task;
  const int n_tasks = B * tasks_per_net;
  const std::size_t np_ = n_params_;
  if (ws.partial.extent(0) < np_ * n_tasks)
    ws.partial = Kokkos::View<T*, HostSpace>(Kokkos::view_alloc("kpde::ws.partial", Kokkos::WithoutInitializing),
                                             np_ * n_tasks);
  Kokkos::Experimental::UniqueToken<HostExec> token;
  const std::size_t store_sz = block_store_size(C), scr_sz = block_scratch_size(C, true);
  if (ws.scratch.extent(0) < scr_sz * token.size())
    ws.scratch = Kokkos::View<T*, HostSpace>(Kokkos::view_alloc("kpde::ws.scratch", Kokkos::WithoutInitializing),
                                             scr_sz * token.size());
  const auto M = second_mats<T>(channels);
  const bool mod = spec_.arch == Arch::modified_mlp;
  const std::vector<T> omega(omega_.begin(), omega_.end());
  std::vector<T> wAw(static_cast<std::size_t>(M_) * std::max(S, 1), T(0));
  for (int f = 0; f < M_; ++f)
    for (int s = 0; s < S; ++s) {
      const auto A = channels.second_matrix(s);
      double q = 0;
      for (int a = 0; a < d; ++a)
        for (int b = 0; b < d; ++b) q += A[a][b] * omega_[f * d + a] * omega_[f * d + b];
      wAw[f * S + s] = static_cast<T>(q);
    }

  dispatch_activation(spec_.activation, [&](auto act) {
    using Act = decltype(act);
    detail::dispatch_channels(G, S, [&](auto g_c, auto s_c) {
      constexpr int GG = decltype(g_c)::value, SS = decltype(s_c)::value;
      Kokkos::parallel_for(
          "kpde::Network::backward", Kokkos::RangePolicy<HostExec>(0, n_tasks), [&](const int task) {
            const int b = task / tasks_per_net, t = task % tasks_per_net;
            const int id = token.acquire();
            T* gp = ws.partial.data() + np_ * task;
            std::fill(gp, gp + np_, T(0));
            const T* prm = &params(b, 0);
            const std::size_t CPmax = static_cast<std::size_t>(C) * P;
            T* scr = ws.scratch.data() + scr_sz * id;
            T* dY = scr;
            T* dH = dY + CPmax * m;
            T* dA = dH + CPmax * std::max(F, w);
            T* dZ = dA + CPmax * w;
            T* dU = dZ + CPmax * w;
            T* dV = dU + CPmax * w;
            T* dphi = dV + CPmax * w;
            const int k_end = std::min(n_blocks, (t + 1) * per_task);
            const int L = spec_.depth;
            std::vector<const T*> Zl(L), Al(L), Hl(L);
            for (int k = t * per_task; k < k_end; ++k) {
              const int p0 = k * P, np = std::min(P, N - p0), cp = C * np;
              const T* base = ws.store.data() + store_sz * (static_cast<std::size_t>(b) * n_blocks + k);
              const T* phi = base;
              const T* cur = base + CPmax * F;
              const T *zu = nullptr, *U = nullptr, *zv = nullptr, *V = nullptr;
              if (mod) {
                zu = cur, U = cur + CPmax * w, zv = cur + 2 * CPmax * w, V = cur + 3 * CPmax * w;
                cur += 4 * CPmax * w;
                std::fill(dU, dU + static_cast<std::size_t>(w) * cp, T(0));
                std::fill(dV, dV + static_cast<std::size_t>(w) * cp, T(0));
              }
              for (int l = 0; l < L; ++l) {
                Zl[l] = cur, Al[l] = cur + CPmax * w;
                cur += 2 * CPmax * w;
                if (mod) Hl[l] = cur, cur += CPmax * w;
                else Hl[l] = Al[l];
              }
              // dense layer adjoint: dW += dz in^T, db += sum over value columns of dz,
              // din = W^T dz (when din != nullptr)
              auto dense_bwd = [&](const Dense& Ld, const T* in, const T* dz, T* din) {
                gemm('N', 'T', T(1), lm(in, Ld.in, cp), lm(dz, Ld.out, cp), T(1), lm(gp + Ld.W, Ld.in, Ld.out));
                for (int p = 0; p < np; ++p)
                  for (int j = 0; j < Ld.out; ++j) gp[Ld.b + j] += dz[j + static_cast<std::size_t>(Ld.out) * p];
                if (din)
                  gemm('N', 'N', T(1), lm(prm + Ld.W, Ld.in, Ld.out), lm(dz, Ld.out, cp), T(0), lm(din, Ld.in, cp));
              };
              for (int c = 0; c < C; ++c)
                for (int p = 0; p < np; ++p)
                  for (int j = 0; j < m; ++j) dY[j + static_cast<std::size_t>(m) * (c * np + p)] = d_out(b, p0 + p, c, j);
              dense_bwd(out_, Hl[L - 1], dY, dH);
              const bool need_dphi = want_dx;
              for (int l = L - 1; l >= 0; --l) {
                const T* dAct = dH;
                if (mod) {
                  detail::gate_backward<GG, SS, T>({U, w, np}, {V, w, np}, {Al[l], w, np}, {dH, w, np}, {dA, w, np},
                                                    {dU, w, np}, {dV, w, np}, M);
                  dAct = dA;
                }
                detail::act_backward<Act, GG, SS, T>({Zl[l], w, np}, {dAct, w, np}, {dZ, w, np}, M);
                const T* in = l > 0 ? Hl[l - 1] : phi;
                T* din = l > 0 ? dH : (need_dphi ? dphi : nullptr);
                dense_bwd(hidden_[l], in, dZ, din);
              }
              if (mod) {
                // gates: dZu = tanh'(.)dU ...; their input adjoints add to dphi
                detail::act_backward<TanhAct, GG, SS, T>({zu, w, np}, {dU, w, np}, {dZ, w, np}, M);
                dense_bwd(u_, phi, dZ, nullptr);
                if (need_dphi)
                  gemm('N', 'N', T(1), lm(prm + u_.W, u_.in, u_.out), lm(dZ, w, cp), T(1), lm(dphi, F, cp));
                detail::act_backward<TanhAct, GG, SS, T>({zv, w, np}, {dV, w, np}, {dZ, w, np}, M);
                dense_bwd(v_, phi, dZ, nullptr);
                if (need_dphi)
                  gemm('N', 'N', T(1), lm(prm + v_.W, v_.in, v_.out), lm(dZ, w, cp), T(1), lm(dphi, F, cp));
              }
              if (want_dx) {
                detail::Jets<const T> J{dphi, F, np};
                for (int p = 0; p < np; ++p) {
                  const T* xp = &x(b, p0 + p, 0);
                  T g[3] = {T(0), T(0), T(0)};
                  for (int i = 0; i < raw_; ++i) g[i] += J.at(0, p)[i];
                  for (int f = 0; f < M_; ++f) {
                    const T* om = &omega[f * d];
                    T th = T(0);
                    for (int i = 0; i < d; ++i) th += om[i] * xp[i];
                    const T sn = std::sin(th), cs = std::cos(th);
                    const int rs = raw_ + f, rc = raw_ + M_ + f;
                    T sg = T(0), cg = T(0), ss = T(0), cs2 = T(0);
                    for (int q = 0; q < GG; ++q) sg += J.at(1 + q, p)[rs] * om[q], cg += J.at(1 + q, p)[rc] * om[q];
                    for (int s = 0; s < SS; ++s)
                      ss += J.at(1 + GG + s, p)[rs] * wAw[f * SS + s], cs2 += J.at(1 + GG + s, p)[rc] * wAw[f * SS + s];
                    const T coef = J.at(0, p)[rs] * cs - sn * sg - cs * ss - J.at(0, p)[rc] * sn - cs * cg + sn * cs2;
                    for (int i = 0; i < d; ++i) g[i] += coef * om[i];
                  }
                  for (int i = 0; i < d; ++i) dx(b, p0 + p, i) = g[i];
                }
              }
            }
            token.release(id);
          });
    });
  });
  // Sum the task partials of each network in a fixed order.
  const std::size_t n_sum = static_cast<std::size_t>(B) * np_;
  Kokkos::parallel_for(
      "kpde::Network::reduce_grad", Kokkos::RangePolicy<HostExec>(0, n_sum), [&](const std::size_t bi) {
        const std::size_t b = bi / np_, i = bi % np_;
        T s = accumulate ? grad(b, i) : T(0);
        for (int t = 0; t < tasks_per_net; ++t) s += ws.partial(np_ * (b * tasks_per_net + t) + i);
        grad(b, i) = s;
      });
}

template class Network<float>;
template class Network<double>;

}  // namespace kpde::nn
