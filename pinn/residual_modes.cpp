// The residual term with the residual's low modes (objective.hpp): forward keeping the
// blocks, c_m, the adjoints, backward.
#include "pinn/objective.hpp"

namespace kpde::pinn {

template <class T>
double PinnObjective<T>::residual_with_modes(const Mat<const T>& params, const Mat<T>& grad) {
  // Not fused: c_m needs every r_p before any adjoint. forward (keeping the blocks in
  // ws_int_), r_p and dr_p/du_c, c_m, the adjoints, backward.
  // Sharded (several ranks): n is this rank's count, scale the global one; c_m is summed
  // over the ranks (a second reduction in this evaluation) and rank 0 alone adds the
  // w sum_m w_m c_m^2 part of the term.
  const int n = n_interior_here(), C = ch_int_.n_channels(), M = n_modes_;
  const double scale = 1.0 / n_interior(), w = modes_weight_;
  const Interior& in = int_;
  const auto X = nn::as_batch(Mat<const T>(in.x));
  Arr4<T> out(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::pinn::out_modes"), 1, n, C, 1);
  if (n > 0) net_.forward(params, X, ch_int_, out, &ws_int_);
  std::vector<double> r(n), dr(static_cast<std::size_t>(n) * C);
  Kokkos::parallel_for(
      "kpde::pinn::residual_modes", Kokkos::RangePolicy<HostExec>(0, n), [&](const int p) {
        r[p] = residual_(in.pts, p, &out(0, p, 0, 0), 1, dr.data() + static_cast<std::size_t>(p) * C);
      });
  // c_m = (1/n) sum_p r_p phi_m(x_p), in a fixed order (the same c on every run)
  std::vector<double> c(M, 0.0);
  double ms = 0;
  for (int p = 0; p < n; ++p) {
    const double* ph = in.modes.data() + static_cast<std::size_t>(p) * M;
    for (int m = 0; m < M; ++m) c[m] += r[p] * ph[m];
    ms += r[p] * r[p];
  }
  for (int m = 0; m < M; ++m) c[m] *= scale;
  if (sharded()) comm_->sum(c);
  double c2 = 0;
  for (int m = 0; m < M; ++m) c2 += mode_w_[m] * c[m] * c[m];
  if (sharded() && !comm_->root()) c2 = 0;
  // dL/du_c(p) = 2 scale (r_p + w sum_m w_m c_m phi_m(x_p)) dr_p/du_c
  Arr4<T> dout(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::pinn::dout_modes"), 1, n, C, 1);
  Kokkos::parallel_for(
      "kpde::pinn::residual_modes_adjoint", Kokkos::RangePolicy<HostExec>(0, n), [&](const int p) {
        const double* ph = in.modes.data() + static_cast<std::size_t>(p) * M;
        double sp = 0, da[16], dn[16];
        for (int m = 0; m < M; ++m) sp += mode_w_[m] * c[m] * ph[m];
        const double a = 2 * scale * (r[p] + w * sp);
        const double* drp = dr.data() + static_cast<std::size_t>(p) * C;
        for (int k = 0; k < C; ++k) da[k] = a * drp[k];
        if (hard_) {
          residual_.to_network(in.pts, p, da, dn);
          for (int k = 0; k < C; ++k) dout(0, p, k, 0) = T(dn[k]);
        } else {
          for (int k = 0; k < C; ++k) dout(0, p, k, 0) = T(da[k]);
        }
      });
  if (n > 0)
    net_.backward(params, X, ws_int_, dout, grad, false);
  else
    Kokkos::deep_copy(grad, T(0));
  return ms * scale + w * c2;
}

template double PinnObjective<float>::residual_with_modes(const Mat<const float>&, const Mat<float>&);
template double PinnObjective<double>::residual_with_modes(const Mat<const double>&, const Mat<double>&);

}  // namespace kpde::pinn
