// Training steps of a kpde_model handle: the supervised loss (a train::Objective of its
// own) and the problem's physics-informed loss (pinn::PinnObjective), one Adam step each,
// with the loss and gradient summed over the model's ranks.
#include <cmath>
#include <cstdint>

#include "c/capi_model.hpp"
#include "core/error.hpp"
#include "mesh/geometry.hpp"
#include "mesh/sampling.hpp"
#include "pinn/objective.hpp"
#include "train/objective.hpp"

namespace kpde::capi {

namespace {

/// The supervised loss over this rank's points, as its share of the global mean:
///   L_r = scale * sum_p w_p (u(x_p) - t_p)^2,   scale = 1 / N (N: points of all ranks),
/// u = N(z) (or g + phi N(z) with hard Dirichlet data; jets [n][stride] of g and phi).
/// dL_r/dtheta by one fused forward/backward pass (nothing of size n is stored).
template <class T>
class SupervisedObjective : public train::Objective<T> {
 public:
  SupervisedObjective(const nn::Network<T>& net, nn::Workspace<T>& ws, Arr3<const T> z, const double* target,
                      const double* weight, double scale, const data::HardDirichlet* hard, const double* jets)
      : net_(net), ws_(ws), z_(z), target_(target), weight_(weight), scale_(scale), hard_(hard), jets_(jets) {}

  std::size_t n_params() const override { return static_cast<std::size_t>(net_.n_params()); }
  std::vector<std::string> term_names() const override { return {"data"}; }
  void evaluate(const Vec<const T>& params, std::vector<double>& terms, std::vector<Vec<T>>& grads) override {
    if (z_.extent(1) == 0) {  // no points on this rank: its share is 0
      Kokkos::deep_copy(grads[0], T(0));
      terms[0] = 0;
      return;
    }
    const nn::BlockLoss<T> loss = [this](int, int p0, int np, const T* y, T* dy) {
      double s = 0;
      for (int p = 0; p < np; ++p) {
        const std::int64_t q = p0 + p;
        double u = double(y[p]), du = 1.0;  // value channel only: y[p] is N at point q
        if (hard_) {
          const double* h = jets_ + q * hard_->stride();
          du = hard_->value(h, 1.0) - hard_->value(h, 0.0);  // phi
          u = hard_->value(h, u);
        }
        const double w = weight_ ? weight_[q] : 1.0, e = u - target_[q];
        s += w * e * e;
        dy[p] = T(2 * scale_ * w * e * du);
      }
      return s * scale_;
    };
    terms[0] = net_.forward_backward(nn::as_batch(params), z_, nn::ChannelSpec::value(net_.spec().input_dim), loss,
                                     ws_, nn::as_batch(grads[0]));
  }

 private:
  const nn::Network<T>& net_;
  nn::Workspace<T>& ws_;
  Arr3<const T> z_;
  const double* target_;
  const double* weight_;
  double scale_;
  const data::HardDirichlet* hard_;
  const double* jets_;
};

void require_points(std::int64_t n, const void* x, const char* count, const char* array) {
  if (n < 0) throw InputError(std::string(count) + ": " + std::to_string(n) + "; expected a count >= 0");
  if (n > 0 && !x) throw InputError(std::string(array) + " is NULL; expected " + count + " points");
}

}  // namespace

template <class T>
void CModel<T>::set_learning_rate(double lr) {
  if (!(lr > 0) || !std::isfinite(lr)) throw InputError("lr: " + std::to_string(lr) + "; expected a finite number > 0");
  source_.adam.schedule = optim::Schedule{};
  source_.adam.schedule.lr = lr;
  if (!adam_) return;
  const std::size_t n = params_.extent(0);
  const long t = adam_->n_steps();
  Vec<T> m("kpde::capi::m", n), v("kpde::capi::v", n);
  Kokkos::deep_copy(m, adam_->m());
  Kokkos::deep_copy(v, adam_->v());
  adam_.emplace(n, source_.adam);
  adam_->set_state(t, m, v);
}

template <class T>
double CModel<T>::reduce_and_step(double loss) {
  const std::size_t n = params_.extent(0);
  std::vector<double> shares{loss};  // [loss, grad] summed over the ranks in one call
  comm_.sum_shares<T>(shares, {grad_}, reduce_);
  loss = shares[0];
  if (!std::isfinite(loss))
    throw Error("the loss is " + std::to_string(loss) +
                "; the parameters are unchanged (a smaller learning rate, kpde_model_set_learning_rate, may help)");
  if (!adam_) adam_.emplace(n, source_.adam);
  adam_->step(params_, grad_);
  return loss;
}

template <class T>
double CModel<T>::train_supervised(std::int64_t n, const double* x, const double* target, const double* weight) {
  const int d = dim();
  require_points(n, x, "n", "x");
  if (n > 0 && !target) throw InputError("target is NULL; expected n values");
  require_finite(x, n * d, "x", d);
  require_finite(target, n, "target");
  if (weight) {
    require_finite(weight, n, "weight");
    for (std::int64_t p = 0; p < n; ++p)
      if (weight[p] < 0) throw InputError("weight[" + std::to_string(p) + "] is negative; expected weights >= 0");
  }
  double total = double(n);
  comm_.sum(&total, 1);
  if (total == 0) throw InputError("n: 0 points on every rank; expected at least one point");
  std::optional<data::HardDirichlet> hard;
  std::vector<double> jets;
  if (source_.pinn.hard_dirichlet && n > 0) {
    hard.emplace(problem(), nn::ChannelSpec::value(d));
    jets = hard->jets(Mat<const double>(x, n, d));
  }
  const Arr3<const T> z = n > 0 ? network_input(n, x) : Arr3<const T>(static_cast<const T*>(nullptr), 1, 0, d);
  SupervisedObjective<T> objective(net_, ws_, z, target, weight, 1.0 / total, hard ? &*hard : nullptr, jets.data());
  std::vector<double> terms(1);
  std::vector<Vec<T>> grads{grad_};
  objective.evaluate(params_, terms, grads);
  return reduce_and_step(terms[0]);
}

template <class T>
double CModel<T>::train_physics(std::int64_t n_int, const double* x_int, std::int64_t n_bnd, const double* x_bnd) {
  const int d = dim();
  require_points(n_int, x_int, "n_interior", "x_interior");
  if (n_bnd < 0) throw InputError("n_boundary: " + std::to_string(n_bnd) + "; expected a count >= 0");
  const data::Problem& pr = problem();
  const mesh::Geometry& geo = *pr.geometry;
  require_finite(x_int, n_int * d, "x_interior", d);
  if (x_bnd) require_finite(x_bnd, n_bnd * d, "x_boundary", d);
  const double tol = 1e-6 * geo.scale();
  // interior points: in the closed domain
  const Mat<const double> xi(x_int, n_int, d);
  Vec<double> phi("kpde::capi::phi", n_int);
  geo.sdf(xi, phi);
  for (std::int64_t p = 0; p < n_int; ++p)
    if (phi(p) > tol)
      throw InputError("x_interior[" + std::to_string(p) + "] lies outside the domain (signed distance " +
                       std::to_string(phi(p)) + "); expected points of the closed domain");
  mesh::BoundarySamples b;
  if (x_bnd && n_bnd > 0) {  // the caller's boundary points: their parts and normals from the geometry
    b.x = Mat<double>("kpde::capi::xb", n_bnd, d);
    Kokkos::deep_copy(b.x, Mat<const double>(x_bnd, n_bnd, d));
    b.normal = Mat<double>("kpde::capi::nb", n_bnd, d);
    b.part = Vec<int>("kpde::capi::part", n_bnd);
    Vec<double> pb("kpde::capi::phib", n_bnd);
    geo.sdf(b.x, pb);
    for (std::int64_t p = 0; p < n_bnd; ++p)
      if (std::abs(pb(p)) > tol)
        throw InputError("x_boundary[" + std::to_string(p) + "] is " + std::to_string(std::abs(pb(p))) +
                         " away from the boundary; expected points on the domain's boundary");
    geo.normals(b.x, b.normal);
    geo.closest_parts(b.x, b.part);
    b.part_names = geo.part_names();
  } else if (n_bnd > 0) {  // fresh points on the constrained parts, different on every rank and step
    const std::uint64_t seed = (source_.pinn.seed + 0x9E3779B97F4A7C15ull * std::uint64_t(steps() + 1)) ^
                               (0xBF58476D1CE4E5B9ull * std::uint64_t(comm_.rank() + 1));
    b = mesh::sample_boundary(geo, static_cast<int>(n_bnd), seed, pr.constrained_parts());
  } else {
    b.x = Mat<double>("kpde::capi::xb", 0, d), b.normal = Mat<double>("kpde::capi::nb", 0, d);
    b.part = Vec<int>("kpde::capi::part", 0);
    b.part_names = geo.part_names();
  }
  if (!physics_) {
    physics_ = std::make_unique<pinn::PinnObjective<T>>(pr, net_, source_.pinn);
    if (comm_.parallel()) {  // every rank's own points; evaluate() gives this rank's share
      physics_->distribute(comm_);
      physics_->set_local_points(true);
    }
    for (int k = 0; k < 3; ++k) term_grads_.emplace_back("kpde::capi::term_grad", params_.extent(0));
  }
  physics_->set_interior(xi);  // collective: the point counts are summed over the ranks
  physics_->set_boundary(b);
  if (physics_->n_interior() + physics_->n_dirichlet() + physics_->n_neumann() == 0)
    throw InputError("n_interior, n_boundary: no points on any rank; expected interior or boundary points");
  std::vector<double> terms(3, 0.0);
  physics_->evaluate(params_, terms, term_grads_);  // means over every rank's points: shares
  double s[3], loss = 0;
  for (int k = 0; k < 3; ++k) {
    s[k] = source_.weights[k];
    loss += s[k] * terms[k];
  }
  const Vec<T> g0 = term_grads_[0], g1 = term_grads_[1], g2 = term_grads_[2], g = grad_;
  Kokkos::parallel_for("kpde::capi::combine", Kokkos::RangePolicy<HostExec>(0, g.extent(0)), [=](const std::size_t i) {
    g(i) = T(s[0] * double(g0(i)) + s[1] * double(g1(i)) + s[2] * double(g2(i)));
  });
  return reduce_and_step(loss);
}

#define KPDE_CAPI_TRAIN(T)                                                                               \
  template void CModel<T>::set_learning_rate(double);                                                    \
  template double CModel<T>::reduce_and_step(double);                                                    \
  template double CModel<T>::train_supervised(std::int64_t, const double*, const double*, const double*); \
  template double CModel<T>::train_physics(std::int64_t, const double*, std::int64_t, const double*);
KPDE_CAPI_TRAIN(float)
KPDE_CAPI_TRAIN(double)
#undef KPDE_CAPI_TRAIN

}  // namespace kpde::capi
