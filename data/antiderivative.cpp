#include "data/antiderivative.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/mms.hpp"

namespace kpde::data {

void AntiderivativeSettings::validate() const {
  KPDE_REQUIRE(sensors >= 2 && sensors <= 10000, InputError, "sensors: must be in [2, 10000]");
  KPDE_REQUIRE(points >= 2 && points <= 10000, InputError, "points: must be in [2, 10000]");
  KPDE_REQUIRE(length_scale > 0 && std::isfinite(length_scale), InputError, "length_scale: must be a number > 0");
  KPDE_REQUIRE(refine >= 1 && refine <= 100, InputError, "refine: must be in [1, 100]");
  KPDE_REQUIRE(fine_nodes() <= 20001, InputError,
               "refine: (sensors - 1) * refine + 1 = " + std::to_string(fine_nodes()) +
                   " fine nodes; at most 20001");
  KPDE_REQUIRE((fine_nodes() - 1) % (points - 1) == 0, InputError,
               "points: the output points must be fine-grid nodes: points - 1 = " + std::to_string(points - 1) +
                   " must divide (sensors - 1) * refine = " + std::to_string(fine_nodes() - 1));
}

namespace {

/// The Cholesky factor of K + 1e-10 I on the fine grid, made once per (F, l) and shared
/// (read-only) by every sample of the process.
std::shared_ptr<const Eigen::MatrixXd> cholesky_factor(int F, double l) {
  static std::mutex mutex;
  static std::map<std::pair<int, double>, std::shared_ptr<const Eigen::MatrixXd>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[{F, l}];
  if (!slot) {
    Eigen::MatrixXd K(F, F);
    const double h = 1.0 / (F - 1);
    for (int i = 0; i < F; ++i)
      for (int j = 0; j < F; ++j) {
        const double d = (i - j) * h;
        K(i, j) = std::exp(-d * d / (2 * l * l)) + (i == j ? 1e-10 : 0.0);
      }
    const Eigen::LLT<Eigen::MatrixXd> llt(K);
    if (llt.info() != Eigen::Success)
      throw Error("antiderivative: the covariance matrix is not positive definite (length_scale too large for "
                  "the fine grid); lower refine or length_scale");
    slot = std::make_shared<const Eigen::MatrixXd>(llt.matrixL());
  }
  return slot;
}

}  // namespace

AntiderivativeSample generate_antiderivative_sample(const AntiderivativeSettings& s, std::uint64_t seed,
                                                    std::uint64_t index) {
  s.validate();
  const int F = s.fine_nodes();
  const auto L = cholesky_factor(F, s.length_scale);
  Rng rng(mix_seed(seed, index));
  Eigen::VectorXd z(F);
  for (int i = 0; i < F; ++i) z(i) = rng.normal();
  const Eigen::VectorXd u = L->triangularView<Eigen::Lower>() * z;
  // s at the fine nodes: trapezoidal rule (exact for u linear between nodes)
  const double h = 1.0 / (F - 1);
  std::vector<double> S(F, 0.0);
  for (int i = 1; i < F; ++i) S[i] = S[i - 1] + 0.5 * h * (u(i - 1) + u(i));
  AntiderivativeSample out;
  out.u.resize(s.sensors);
  for (int i = 0; i < s.sensors; ++i) out.u[i] = u(i * s.refine);
  const int stride = (F - 1) / (s.points - 1);
  out.s.resize(s.points);
  for (int j = 0; j < s.points; ++j) out.s[j] = S[j * stride];
  return out;
}

}  // namespace kpde::data
