// The hypernetwork end to end on a tiny configuration, in double: parameter gradients of
// (a) a random linear functional of the emitted parameters and (b) the emitted PINNs'
// losses (through their derivative channels and the least-squares output layer, back
// through the heads, pooling, FiLM and convolutions) against central differences.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "hypernet/input.hpp"
#include "hypernet/model.hpp"
#include "hypernet/pinn_loss.hpp"
#include "support/fd_check.hpp"

using namespace kpde;
using namespace kpde::hypernet;

namespace {

ModelSpec tiny() {
  ModelSpec m;
  m.input_pool = 16;  // 224 -> 14 -> 7 -> 4 -> 2
  m.stem = 4;
  m.widths = {4, 6};
  m.blocks = 1;
  m.groups = 2;
  m.cond = 6;
  m.attention_heads = 2;
  m.head_hidden = 6;
  m.small_hidden = 4;
  m.head_groups = 2;
  m.correction_scale = 0.5;
  return m;
}

/// A box problem: Dirichlet ring, a sine source, coefficients varying with `k`.
Spec box_spec(int k) {
  Spec s;
  s.name = "box" + std::to_string(k);
  s.coefficients = {0.1 * k, 0, 0.3, -1, -1.0 + 0.2 * k};
  const std::size_t nn = s.size();
  for (auto* v : {&s.dirichlet_mask, &s.neumann_mask, &s.dirichlet_values, &s.neumann_values, &s.source, &s.domain_mask})
    v->assign(nn, 0);
  for (int i = 0; i < s.n; ++i)
    for (int j = 0; j < s.n; ++j) {
      const std::size_t q = static_cast<std::size_t>(i) * s.n + static_cast<std::size_t>(j);
      const double x = -1 + 2.0 * j / (s.n - 1), y = 1 - 2.0 * i / (s.n - 1);
      s.domain_mask[q] = 1;
      s.source[q] = std::sin(3 * x + k) * std::cos(2 * y);
      if (i < 3 || j < 3 || i >= s.n - 3 || j >= s.n - 3) s.dirichlet_mask[q] = 1, s.dirichlet_values[q] = 0.5 * x + 0.2 * k;
    }
  s.validate();
  return s;
}

}  // namespace

TEST(HypernetModel, ParameterGradientOfTheEmittedParameters) {
  const ModelSpec spec = tiny();
  Model<double> model(spec);
  std::vector<double> p(model.n_params());
  model.init(p.data(), 3);
  const int B = 2;
  std::vector<Spec> specs{box_spec(1), box_spec(2)};
  std::vector<PreparedInput> in{prepare_input(specs[0], spec.input_pool), prepare_input(specs[1], spec.input_pool)};
  const int m = model.input_size();
  Arr4<double> grids("g", B, kInputChannels, m, m);
  Mat<double> cond("c", B, kCondInputs);
  stack_inputs<double>({&in[0], &in[1]}, grids, cond);
  Rng rng(5);
  std::vector<double> v(B * target_size());
  for (double& a : v) a = rng.normal();
  const auto f = [&](const std::vector<double>& pp) {
    Mat<double> t("t", B, target_size());
    model.forward(pp.data(), grids, cond, t);
    double s = 0;
    for (std::size_t k = 0; k < v.size(); ++k) s += v[k] * t.data()[k];
    return s;
  };
  auto cache = model.make_cache();
  Mat<double> t("t", B, target_size());
  model.forward(p.data(), grids, cond, t, cache.get());
  std::vector<double> g(p.size(), 0.0);
  model.backward(p.data(), *cache, Mat<const double>(v.data(), B, target_size()), g.data());
  kpde::testing::GradientOptions o;
  o.indices = kpde::testing::sampled_indices(p.size(), p.size() / 40, model.param_blocks());  // every layer's first and last
  o.h = 1e-6;
  o.what = "d<v, theta>/dparams";
  EXPECT_TRUE(kpde::testing::fd_within(kpde::testing::check_gradient(f, p, g, o), 1e-6));
}

TEST(HypernetModel, GradientThroughTheEmittedPinnsLosses) {
  const ModelSpec spec = tiny();
  Model<double> model(spec);
  std::vector<double> p(model.n_params());
  model.init(p.data(), 4);
  const int B = 2;
  std::vector<Spec> specs{box_spec(1), box_spec(3)};
  std::vector<PreparedInput> in{prepare_input(specs[0], spec.input_pool), prepare_input(specs[1], spec.input_pool)};
  const int m = model.input_size();
  Arr4<double> grids("g", B, kInputChannels, m, m);
  Mat<double> cond("c", B, kCondInputs);
  stack_inputs<double>({&in[0], &in[1]}, grids, cond);
  // points of each sample: a few interior points with a made-up truth, boundary rows
  Rng rng(9);
  std::vector<SamplePoints> pts(B);
  for (int b = 0; b < B; ++b) {
    SamplePoints& s = pts[static_cast<std::size_t>(b)];
    s.coefficients = specs[static_cast<std::size_t>(b)].coefficients;
    s.n_interior = 40, s.n_boundary = 12;
    for (int q = 0; q < s.n_points(); ++q) s.x.push_back(2 * rng.uniform() - 1), s.x.push_back(2 * rng.uniform() - 1);
    for (int q = 0; q < s.n_interior; ++q) s.f.push_back(rng.normal());
    if (b == 0)
      for (int q = 0; q < 5 * s.n_interior; ++q) s.truth.push_back(0.3 * rng.normal());
    for (int q = 0; q < s.n_boundary; ++q) {
      s.g.push_back(rng.normal());
      s.h.push_back(q % 3 == 0 ? rng.normal() : std::nan(""));
      s.normal.push_back(0.6), s.normal.push_back(0.8);
    }
  }
  std::vector<const SamplePoints*> ptrs{&pts[0], &pts[1]};
  LossSettings ls;
  ls.huber_delta = 0.5;
  EmittedLoss<double> loss(ls);
  std::vector<double> w{0.1, 10, 1, 1, 0.1, 0.01, 1, 1, 0.1};
  const auto f = [&](const std::vector<double>& pp) {
    Mat<double> t("t", B, target_size());
    model.forward(pp.data(), grids, cond, t);
    std::vector<double> terms;
    return loss.evaluate(t, ptrs, w, terms, Mat<double>());
  };
  auto cache = model.make_cache();
  Mat<double> t("t", B, target_size()), dt("dt", B, target_size());
  model.forward(p.data(), grids, cond, t, cache.get());
  std::vector<double> terms;
  loss.evaluate(t, ptrs, w, terms, dt);
  std::vector<double> g(p.size(), 0.0);
  model.backward(p.data(), *cache, dt, g.data());
  kpde::testing::GradientOptions o;
  o.indices = kpde::testing::sampled_indices(p.size(), p.size() / 40, model.param_blocks());
  o.h = 1e-6;
  o.what = "d(loss)/dparams";
  EXPECT_TRUE(kpde::testing::fd_within(kpde::testing::check_gradient(f, p, g, o), 1e-5));
}
