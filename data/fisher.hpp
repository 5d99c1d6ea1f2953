#pragma once
/// Fisher-KPP samples for the multi-task DeepONet (MT-DeepONet's multi-task benchmark):
///
///   u_t = D u_xx + R(u)  on x in [0, 1], t in [0, 1],  u_x = 0 at x = 0 and x = 1
///   (zero flux),  u(x, 0) = u0(x),
///   R(u) = c1 u + c2 u^2 + c3 u^3 + c4 u^4,
///
/// with the reaction coefficients c = (c1, c2, c3, c4) of one of three forms (the task):
///   form 1 (task 0): a (u - u^2)                     c = (a, -a, 0, 0)
///   form 2 (task 1): a (u - u^3)                     c = (a, 0, -a, 0)
///   form 3 (task 2): the second-order truncation of a u (1 - u) e^{beta (u - 1)}:
///                    c = a e^{-beta} (1, beta - 1, beta (beta/2 - 1), -beta^2/2)
/// Every form has R(0) = R(1) = 0, so u stays in [0, 1] when u0 does.
///
/// Sample `index` of stream `seed` (Rng(mix_seed(seed, index, 0xf15e)), draws in this
/// order): xi_0..xi_{K-1} ~ N(0, 1) (K = 32), a ~ U[a_min, a_max], beta ~ U[beta_min,
/// beta_max] (drawn for every form; used by form 3 only). The form is
/// forms[index mod forms.size()]. The initial condition is
///   u0(x) = 1 / (1 + exp(-g(x))),
///   g(x) = sigma sum_{k=0}^{K-1} xi_k (1 + (pi k / tau)^2)^(-alpha/2) cos(pi k x)
/// (sigma = ic.scale 1, tau = ic.tau 10, alpha = ic.alpha 4): a smooth Gaussian random
/// field (its k = 0 term a random offset) squashed into (0, 1). Each cosine mode has
/// u0_x = 0 at both ends, as the boundary condition asks.
///
/// Reference solution: method of lines on the fine grid x_i = i / (F - 1),
/// F = (P - 1) r + 1 (P = points, r = refine): the fourth-order central stencil
/// (-u_{i-2} + 16 u_{i-1} - 30 u_i + 16 u_{i+1} - u_{i+2}) / (12 h^2) with the ghost nodes
/// mirrored (u_{-m} = u_m, u_{F-1+m} = u_{F-1-m}), which is fourth-order accurate here:
/// every odd x-derivative of u vanishes at both ends (u0 is a cosine series and the
/// equation keeps that symmetry), so the even extension of u is smooth. Classical RK4 in
/// time with S steps per output interval dt_out = 1 / (T - 1) (T = times):
///   S = time_refine * max(1, ceil(dt_out * lambda / 1.39)),
///   lambda = 16 D / (3 h^2) + |c1| + 2|c2| + 3|c3| + 4|c4|
/// (the stencil's largest eigenvalue plus the reaction's Lipschitz bound on [0, 1]; RK4
/// is stable on the negative real axis up to 2.78, so this is half the limit). The
/// output is u at the points x_i = i / (P - 1) (every r-th fine node) and the times
/// t_j = j / (T - 1), j = 0..T-1 (t_0 = 0: row 0 is u0).
#include <array>
#include <cstdint>
#include <functional>
#include <vector>

namespace kpde::data {

struct FisherSettings {
  int points = 64;          ///< P: output nodes in x on [0, 1], 2..10000
  int times = 20;           ///< T: output times on [0, 1] (t = 0 included), 2..10000
  double diffusion = 0.01;  ///< D >= 0
  std::vector<int> forms = {1, 2, 3};  ///< reaction forms cycled over the samples (each 1, 2 or 3)
  double a_min = 0.1, a_max = 1.0;       ///< a ~ U[a_min, a_max], a_min >= 0
  double beta_min = 0.5, beta_max = 2.0; ///< beta ~ U[beta_min, beta_max] (form 3)
  double ic_scale = 1.0;    ///< sigma of g, > 0
  double ic_tau = 10.0;     ///< tau of g (modes decay past k ~ tau / pi), > 0
  double ic_alpha = 4.0;    ///< alpha of g (smoothness), > 0
  int refine = 4;           ///< r: fine intervals per output interval, 1..64
  int time_refine = 1;      ///< multiplies the RK4 steps, 1..1024
  /// Fine-grid nodes F = (P - 1) r + 1.
  int fine_nodes() const { return (points - 1) * refine + 1; }
  /// Throws InputError naming the setting when out of range (F >= 5, F <= 100001; the
  /// RK4 work of one sample, steps x F, at most 1e9 for the largest a and beta).
  void validate() const;
};

/// Modes of the initial condition's cosine series.
constexpr int kFisherModes = 32;

struct FisherSample {
  int form = 1;                            ///< 1, 2 or 3 (task = form - 1)
  std::array<double, 4> coefficients{};    ///< c1..c4 of R(u) in the basis (u, u^2, u^3, u^4)
  double a = 0;                            ///< the rate a
  double beta = 0;                         ///< form 3: beta; NaN for forms 1 and 2
  std::vector<double> u0;                  ///< [P]: u0 at x_i
  std::vector<double> u;                   ///< [T][P]: u(x_i, t_j), row j at t_j (row 0 = u0)
  int steps = 0;                           ///< RK4 steps of the solve
};

/// The coefficients (c1, c2, c3, c4) of reaction form 1, 2 or 3 (file comment).
/// Throws InputError for another form.
std::array<double, 4> fisher_coefficients(int form, double a, double beta);

/// u(x_i, t_j) [T][P] of u_t = D u_xx + sum_k c_k u^k with u_x = 0 at both ends, from
/// u0 evaluated at the fine nodes, by the scheme of the file comment (s.validate()d).
/// `steps` (if not null) receives the RK4 steps.
std::vector<double> fisher_solve(const FisherSettings& s, const std::array<double, 4>& c,
                                 const std::function<double(double)>& u0, int* steps = nullptr);

/// Sample `index` of stream `seed` (depends only on settings, seed and index).
FisherSample generate_fisher_sample(const FisherSettings& s, std::uint64_t seed, std::uint64_t index);

}  // namespace kpde::data
