// The C API's results: eval against the C++ network (to 1e-12 in double) and against
// finite differences; training steps lower their losses; model and training-state files
// round-trip exactly; parameters get and set.
#include <cmath>
#include <cstdio>

#include "config/config.hpp"
#include "coupling/capi_test.hpp"
#include "nn/network.hpp"
#include "pinn/solve.hpp"

namespace kpde::capi_test {
namespace {

constexpr unsigned kAll2d = KPDE_U | KPDE_U_X | KPDE_U_Y | KPDE_U_XX | KPDE_U_XY | KPDE_U_YY | KPDE_LAP;

/// u, u_x, u_y, u_xx, u_xy, u_yy of the C++ network with the model's parameters.
std::vector<double> cxx_channels(const std::vector<double>& params, const std::vector<double>& x) {
  config::Document doc = config::Document::load_file(config_path());
  const pinn::SolveConfig cfg = pinn::load_solve_config(doc, false);
  const nn::Network<double> net(cfg.model.network);
  const std::size_t n = x.size() / 2;
  Vec<double> p("p", params.size());
  for (std::size_t i = 0; i < params.size(); ++i) p(i) = params[i];
  Mat<double> xm("x", n, 2);
  for (std::size_t i = 0; i < 2 * n; ++i) xm.data()[i] = x[i];
  const nn::ChannelSpec ch = nn::ChannelSpec::hessian(2);  // u, u_x, u_y, u_xx, u_xy, u_yy
  Arr3<double> y("y", n, ch.n_channels(), 1);
  net.forward(nn::as_batch(Vec<const double>(p)), nn::as_batch(Mat<const double>(xm)), ch, nn::as_batch(y));
  return std::vector<double>(y.data(), y.data() + y.size());
}

TEST(Capi, EvalMatchesCxxNetwork) {
  Model m;
  int dim = 0, q = 0, ta = 0;
  ASSERT_EQ(kpde_model_dim(m.h, &dim), KPDE_OK);
  EXPECT_EQ(dim, 2);
  ASSERT_EQ(kpde_model_time_axis(m.h, &ta), KPDE_OK);
  EXPECT_EQ(ta, -1);
  ASSERT_EQ(kpde_quantity_count(kAll2d, &q), KPDE_OK);
  ASSERT_EQ(q, 7);
  const int n = 301;  // several blocks and a ragged last one
  const std::vector<double> x = points(n);
  std::vector<double> out(n * q);
  ASSERT_EQ(kpde_model_eval(m.h, n, x.data(), kAll2d, out.data()), KPDE_OK) << kpde_last_error();
  const std::vector<double> ref = cxx_channels(m.params(), x);
  double worst = 0, scale = 0;
  for (int p = 0; p < n; ++p) {
    const double* r = &ref[6 * p];
    const double want[7] = {r[0], r[1], r[2], r[3], r[4], r[5], r[3] + r[5]};
    for (int k = 0; k < 7; ++k) {
      worst = std::max(worst, std::abs(out[p * q + k] - want[k]));
      scale = std::max(scale, std::abs(want[k]));
    }
  }
  EXPECT_LT(worst, 1e-12 * std::max(1.0, scale)) << "max |C API - C++| over u .. lap";
  // subsets of the columns come in bit order and agree with the full set
  std::vector<double> lap(n), ux_yy(2 * n);
  ASSERT_EQ(kpde_model_eval(m.h, n, x.data(), KPDE_LAP, lap.data()), KPDE_OK);  // collapsed channel
  ASSERT_EQ(kpde_model_eval(m.h, n, x.data(), KPDE_U_YY | KPDE_U_X, ux_yy.data()), KPDE_OK);
  // (to rounding, not bit for bit: a subset runs the engine on other channels, whose sums
  // may round differently: seen on AMD EPYC Zen 3, AVX2)
  const double tol = 1e-12 * std::max(1.0, scale);
  for (int p = 0; p < n; ++p) {
    EXPECT_NEAR(lap[p], out[p * q + 6], tol);
    EXPECT_NEAR(ux_yy[2 * p], out[p * q + 1], tol);
    EXPECT_NEAR(ux_yy[2 * p + 1], out[p * q + 5], tol);
  }
}

TEST(Capi, DerivativesMatchFiniteDifferences) {
  Model m;
  const int n = 40;
  const std::vector<double> x = points(n, 0.1);
  std::vector<double> out(n * 7);
  ASSERT_EQ(kpde_model_eval(m.h, n, x.data(), kAll2d, out.data()), KPDE_OK);
  const auto u_at = [&](double a, double b) {
    const double pt[2] = {a, b};
    double u = 0;
    EXPECT_EQ(kpde_model_eval(m.h, 1, pt, KPDE_U, &u), KPDE_OK);
    return u;
  };
  double err1 = 0, err2 = 0, s1 = 0, s2 = 0;
  const double h = 1e-4, h2 = 1e-3;
  for (int p = 0; p < n; ++p) {
    const double a = x[2 * p], b = x[2 * p + 1], *o = &out[7 * p];
    const double ux = (u_at(a + h, b) - u_at(a - h, b)) / (2 * h), uy = (u_at(a, b + h) - u_at(a, b - h)) / (2 * h);
    const double u0 = u_at(a, b);
    const double uxx = (u_at(a + h2, b) - 2 * u0 + u_at(a - h2, b)) / (h2 * h2);
    const double uyy = (u_at(a, b + h2) - 2 * u0 + u_at(a, b - h2)) / (h2 * h2);
    const double uxy = (u_at(a + h2, b + h2) - u_at(a + h2, b - h2) - u_at(a - h2, b + h2) + u_at(a - h2, b - h2)) /
                       (4 * h2 * h2);
    err1 = std::max({err1, std::abs(ux - o[1]), std::abs(uy - o[2])});
    err2 = std::max({err2, std::abs(uxx - o[3]), std::abs(uxy - o[4]), std::abs(uyy - o[5]),
                     std::abs(uxx + uyy - o[6])});
    s1 = std::max({s1, std::abs(o[1]), std::abs(o[2])});
    s2 = std::max({s2, std::abs(o[3]), std::abs(o[4]), std::abs(o[5])});
  }
  EXPECT_LT(err1, 1e-7 * std::max(1.0, s1));
  EXPECT_LT(err2, 1e-4 * std::max(1.0, s2));
}

TEST(Capi, SupervisedStepsLowerTheLoss) {
  Model m;
  const int n = 256;
  const std::vector<double> x = points(n);
  std::vector<double> t(n), w(n);
  for (int p = 0; p < n; ++p) {
    t[p] = std::sin(M_PI * x[2 * p]) * std::sin(M_PI * x[2 * p + 1]);
    w[p] = p % 2 ? 1.0 : 0.5;
  }
  double first = 0, loss = 0;
  // the loss is the weighted mean squared error at the current parameters
  std::vector<double> u(n);
  ASSERT_EQ(kpde_model_eval(m.h, n, x.data(), KPDE_U, u.data()), KPDE_OK);
  double want = 0;
  for (int p = 0; p < n; ++p) want += w[p] * (u[p] - t[p]) * (u[p] - t[p]) / n;
  ASSERT_EQ(kpde_model_train_supervised(m.h, n, x.data(), t.data(), w.data(), &first), KPDE_OK) << kpde_last_error();
  EXPECT_NEAR(first, want, 1e-12 * want);
  for (int k = 0; k < 100; ++k)
    ASSERT_EQ(kpde_model_train_supervised(m.h, n, x.data(), t.data(), w.data(), &loss), KPDE_OK) << kpde_last_error();
  EXPECT_LT(loss, 0.2 * first) << "first " << first << ", after 100 steps " << loss;
  int64_t steps = 0;
  ASSERT_EQ(kpde_model_steps(m.h, &steps), KPDE_OK);
  EXPECT_EQ(steps, 101);
}

TEST(Capi, PhysicsStepsLowerTheLoss) {
  Model m;
  const int n = 256, nb = 64;
  const std::vector<double> x = points(n, 0.3);
  std::vector<double> xb(2 * nb);  // the four sides
  for (int k = 0; k < nb; ++k) {
    const double s = -1 + 2.0 * (k / 4 + 0.5) / (nb / 4);
    const int side = k % 4;
    xb[2 * k] = side == 0 ? -1 : side == 1 ? 1 : s;
    xb[2 * k + 1] = side == 2 ? -1 : side == 3 ? 1 : s;
  }
  double first = 0, loss = 0;
  ASSERT_EQ(kpde_model_train_physics(m.h, n, x.data(), nb, xb.data(), &first), KPDE_OK) << kpde_last_error();
  for (int k = 0; k < 60; ++k)
    ASSERT_EQ(kpde_model_train_physics(m.h, n, x.data(), nb, xb.data(), &loss), KPDE_OK) << kpde_last_error();
  EXPECT_LT(loss, 0.5 * first) << "first " << first << ", after 60 steps " << loss;
  // kpde draws the boundary points itself
  ASSERT_EQ(kpde_model_train_physics(m.h, n, x.data(), nb, nullptr, &loss), KPDE_OK) << kpde_last_error();
  EXPECT_TRUE(std::isfinite(loss));
}

TEST(Capi, ParamsGetAndSet) {
  Model a, b;
  std::vector<double> p = a.params();
  ASSERT_EQ(p, b.params());  // same config, same seed
  for (double& v : p) v *= 0.5;
  ASSERT_EQ(kpde_model_set_params(b.h, static_cast<int64_t>(p.size()), p.data()), KPDE_OK);
  EXPECT_EQ(b.params(), p);
  const std::vector<double> x = points(16);
  std::vector<double> ua(16), ub(16);
  ASSERT_EQ(kpde_model_eval(a.h, 16, x.data(), KPDE_U, ua.data()), KPDE_OK);
  ASSERT_EQ(kpde_model_eval(b.h, 16, x.data(), KPDE_U, ub.data()), KPDE_OK);
  EXPECT_NE(ua, ub);
}

TEST(Capi, ModelFileRoundTrip) {
  Model m;
  const std::vector<double> x = points(64), t(64, 0.25);
  for (int k = 0; k < 5; ++k) ASSERT_EQ(kpde_model_train_supervised(m.h, 64, x.data(), t.data(), nullptr, nullptr), KPDE_OK);
  const std::string path = scratch("roundtrip_model.h5");
  ASSERT_EQ(kpde_model_save(m.h, path.c_str()), KPDE_OK) << kpde_last_error();
  Model back(path, true);
  ASSERT_NE(back.h, nullptr);
  EXPECT_EQ(back.params(), m.params());
  std::vector<double> u1(64 * 7), u2(64 * 7);
  ASSERT_EQ(kpde_model_eval(m.h, 64, x.data(), kAll2d, u1.data()), KPDE_OK);
  ASSERT_EQ(kpde_model_eval(back.h, 64, x.data(), kAll2d, u2.data()), KPDE_OK);
  EXPECT_EQ(u1, u2);
  // a model read from a file trains on its stored problem too
  double loss = 0;
  ASSERT_EQ(kpde_model_train_physics(back.h, 64, x.data(), 16, nullptr, &loss), KPDE_OK) << kpde_last_error();
}

TEST(Capi, TrainingStateResumesExactly) {
  Model a, b;
  const std::vector<double> x = points(128);
  std::vector<double> t(128);
  for (int p = 0; p < 128; ++p) t[p] = x[2 * p] * x[2 * p + 1];
  const auto step = [&](const Model& m, int k) {
    for (int i = 0; i < k; ++i)
      ASSERT_EQ(kpde_model_train_supervised(m.h, 128, x.data(), t.data(), nullptr, nullptr), KPDE_OK) << kpde_last_error();
  };
  step(a, 4);
  const std::string path = scratch("state.h5");
  ASSERT_EQ(kpde_model_save_state(a.h, path.c_str()), KPDE_OK) << kpde_last_error();
  step(a, 3);
  ASSERT_EQ(kpde_model_load_state(b.h, path.c_str()), KPDE_OK) << kpde_last_error();
  int64_t steps = 0;
  ASSERT_EQ(kpde_model_steps(b.h, &steps), KPDE_OK);
  EXPECT_EQ(steps, 4);
  step(b, 3);
  EXPECT_EQ(a.params(), b.params());  // the same bits: parameters, moments and step count resumed
  // a different learning rate from now on keeps the moments
  ASSERT_EQ(kpde_model_set_learning_rate(b.h, 1e-4), KPDE_OK);
  step(b, 1);
  ASSERT_EQ(kpde_model_steps(b.h, &steps), KPDE_OK);
  EXPECT_EQ(steps, 8);
}

TEST(Capi, VersionAndInitialised) {
  EXPECT_EQ(kpde_initialized(), 1);
  EXPECT_FALSE(std::string(kpde_version()).empty());
}

}  // namespace
}  // namespace kpde::capi_test
