#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/types.hpp"
#include "optim/adam.hpp"
#include "optim/schedule.hpp"

namespace {

using kpde::Vec;
using kpde::optim::Adam;
using kpde::optim::AdamOptions;
using kpde::optim::Schedule;
using kpde::optim::ScheduleKind;

template <class T>
Vec<T> make_vec(const std::vector<double>& values) {
  Vec<T> v("v", values.size());
  for (std::size_t i = 0; i < values.size(); ++i) v(i) = static_cast<T>(values[i]);
  return v;
}

/// Adam written out scalar by scalar, straight from the formulas, in double.
struct ReferenceAdam {
  AdamOptions o;
  std::vector<double> m, v;
  long t = 0;

  void step(std::vector<double>& p, std::vector<double> g) {
    ++t;
    const double lr = o.schedule.lr_at(t - 1);
    if (o.clip_norm > 0) {
      double n2 = 0;
      for (const double gi : g) n2 += gi * gi;
      const double n = std::sqrt(n2);
      if (n > o.clip_norm) {
        for (double& gi : g) gi *= o.clip_norm / n;
      }
    }
    if (m.empty()) m.assign(p.size(), 0.0), v.assign(p.size(), 0.0);
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (!o.decoupled) g[i] += o.weight_decay * p[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
      const double mhat = m[i] / (1 - std::pow(o.beta1, t));
      const double vhat = v[i] / (1 - std::pow(o.beta2, t));
      if (o.decoupled) p[i] -= lr * o.weight_decay * p[i];
      p[i] -= lr * mhat / (std::sqrt(vhat) + o.eps);
    }
  }
};

const std::vector<double> p0 = {0.5, -1.25, 2.0, 0.0, -3.5};
const std::vector<std::vector<double>> grads = {
    {0.1, -2.0, 0.3, 1e-3, -0.7}, {-0.4, 1.5, 0.2, 0.0, 2.5}, {0.05, -0.3, -1.1, 4.0, 0.6}};

void expect_close(double actual, double expected, double rel) {
  EXPECT_NEAR(actual, expected, rel * std::max(1.0, std::abs(expected))) << "expected " << expected;
}

TEST(Adam, FirstStepIsLrTimesBiasCorrectedRatio) {
  AdamOptions o;
  o.schedule.lr = 0.01;
  Adam<double> adam(p0.size(), o);
  auto p = make_vec<double>(p0);
  const auto g = make_vec<double>(grads[0]);
  const double lr = adam.step(p, g);
  EXPECT_EQ(lr, 0.01);
  EXPECT_EQ(adam.n_steps(), 1);
  // t = 1: mhat = g, vhat = g^2, so p1 = p0 - lr g / (|g| + eps).
  for (std::size_t i = 0; i < p0.size(); ++i) {
    const double gi = grads[0][i];
    expect_close(p(i), p0[i] - 0.01 * gi / (std::abs(gi) + 1e-8), 1e-14);
    expect_close(adam.m()(i), 0.1 * gi, 1e-14);
    expect_close(adam.v()(i), 0.001 * gi * gi, 1e-14);
  }
}

struct Variant {
  const char* name;
  double weight_decay;
  bool decoupled;
};

TEST(Adam, OneAndThreeStepsMatchHandComputedUpdate) {
  for (const Variant variant : {Variant{"adam", 0.0, false}, Variant{"adam_l2", 0.05, false},
                                Variant{"adamw", 0.05, true}}) {
    SCOPED_TRACE(variant.name);
    AdamOptions o;
    o.schedule.lr = 0.02;
    o.beta1 = 0.8;
    o.beta2 = 0.95;
    o.eps = 1e-6;
    o.weight_decay = variant.weight_decay;
    o.decoupled = variant.decoupled;
    Adam<double> adam(p0.size(), o);
    ReferenceAdam reference{o, {}, {}, 0};
    auto p = make_vec<double>(p0);
    std::vector<double> p_ref = p0;
    for (int s = 0; s < 3; ++s) {
      adam.step(p, make_vec<double>(grads[s]));
      reference.step(p_ref, grads[s]);
      if (s == 0 || s == 2) {
        for (std::size_t i = 0; i < p0.size(); ++i) {
          expect_close(p(i), p_ref[i], 1e-14);
          expect_close(adam.m()(i), reference.m[i], 1e-14);
          expect_close(adam.v()(i), reference.v[i], 1e-14);
        }
      }
    }
    EXPECT_EQ(adam.n_steps(), 3);
  }
}

TEST(Adam, WeightDecayKindsDiffer) {
  // With a zero gradient, AdamW shrinks p by (1 - lr wd) exactly; L2 decay moves p by
  // about lr against its sign (Adam normalises the decay term).
  AdamOptions o;
  o.schedule.lr = 0.1;
  o.weight_decay = 0.5;
  o.decoupled = true;
  Adam<double> adamw(1, o);
  auto p = make_vec<double>({2.0});
  adamw.step(p, make_vec<double>({0.0}));
  EXPECT_DOUBLE_EQ(p(0), 2.0 * (1 - 0.1 * 0.5));
  o.decoupled = false;
  Adam<double> adam_l2(1, o);
  p(0) = 2.0;
  adam_l2.step(p, make_vec<double>({0.0}));
  EXPECT_NEAR(p(0), 2.0 - 0.1, 1e-8);
}

TEST(Adam, FloatInstantiationTracksDouble) {
  AdamOptions o;
  o.schedule.lr = 0.05;
  o.weight_decay = 0.01;
  o.decoupled = true;
  Adam<float> adam(p0.size(), o);
  ReferenceAdam reference{o, {}, {}, 0};
  auto p = make_vec<float>(p0);
  std::vector<double> p_ref = p0;
  for (int s = 0; s < 3; ++s) {
    const double lr = adam.step(p, make_vec<float>(grads[s]));
    EXPECT_EQ(lr, 0.05);
    reference.step(p_ref, grads[s]);
  }
  for (std::size_t i = 0; i < p0.size(); ++i) EXPECT_NEAR(p(i), p_ref[i], 1e-5);
}

TEST(GlobalNorm, NormAndClipping) {
  auto g = make_vec<double>({3.0, -4.0, 0.0, 12.0});  // norm 13
  EXPECT_DOUBLE_EQ(kpde::optim::global_norm(g), 13.0);
  const Vec<const double> g_const = g;
  EXPECT_DOUBLE_EQ(kpde::optim::global_norm(g_const), 13.0);

  EXPECT_DOUBLE_EQ(kpde::optim::clip_by_global_norm(g, 26.0), 13.0);  // below: untouched
  EXPECT_EQ(g(0), 3.0);
  EXPECT_DOUBLE_EQ(kpde::optim::clip_by_global_norm(g, 6.5), 13.0);  // above: halved
  EXPECT_DOUBLE_EQ(g(0), 1.5);
  EXPECT_DOUBLE_EQ(g(1), -2.0);
  EXPECT_DOUBLE_EQ(g(3), 6.0);
  EXPECT_NEAR(kpde::optim::global_norm(g), 6.5, 1e-15);
  EXPECT_THROW(kpde::optim::clip_by_global_norm(g, 0.0), kpde::Error);

  auto gf = make_vec<float>({3.0, 4.0});
  EXPECT_NEAR(kpde::optim::clip_by_global_norm(gf, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(kpde::optim::global_norm(gf), 1.0, 1e-6);
}

TEST(Adam, ClipNormClipsBeforeTheUpdateAndKeepsCallersGradient) {
  AdamOptions o;
  o.schedule.lr = 0.01;
  o.clip_norm = 0.5;
  o.weight_decay = 0.1;
  Adam<double> adam(p0.size(), o);
  ReferenceAdam reference{o, {}, {}, 0};
  auto p = make_vec<double>(p0);
  std::vector<double> p_ref = p0;
  for (int s = 0; s < 3; ++s) {
    const auto g = make_vec<double>(grads[s]);
    adam.step(p, g);
    reference.step(p_ref, grads[s]);
    for (std::size_t i = 0; i < p0.size(); ++i) EXPECT_EQ(g(i), grads[s][i]);
  }
  for (std::size_t i = 0; i < p0.size(); ++i) expect_close(p(i), p_ref[i], 1e-14);
  // The first moment after step 1 is (1 - b1) times the clipped (L2-augmented) gradient.
  Adam<double> one(p0.size(), o);
  auto q = make_vec<double>(p0);
  one.step(q, make_vec<double>(grads[0]));
  const double n = kpde::optim::global_norm(make_vec<double>(grads[0]));
  ASSERT_GT(n, o.clip_norm);
  for (std::size_t i = 0; i < p0.size(); ++i) {
    expect_close(one.m()(i), 0.1 * (grads[0][i] * 0.5 / n + 0.1 * p0[i]), 1e-14);
  }
}

TEST(Schedule, Constant) {
  Schedule s;
  s.lr = 3e-4;
  s.validate();
  EXPECT_EQ(s.lr_at(0), 3e-4);
  EXPECT_EQ(s.lr_at(123456), 3e-4);
}

TEST(Schedule, ExponentialIsContinuous) {
  Schedule s;
  s.kind = ScheduleKind::exponential;
  s.lr = 1e-2;
  s.decay_rate = 0.5;
  s.decay_steps = 100;
  s.validate();
  EXPECT_DOUBLE_EQ(s.lr_at(0), 1e-2);
  EXPECT_DOUBLE_EQ(s.lr_at(50), 1e-2 * std::sqrt(0.5));
  EXPECT_DOUBLE_EQ(s.lr_at(100), 5e-3);
  EXPECT_DOUBLE_EQ(s.lr_at(250), 1e-2 * std::pow(0.5, 2.5));
}

TEST(Schedule, CosineWithWarmup) {
  Schedule s;
  s.kind = ScheduleKind::cosine;
  s.lr = 1e-2;
  s.min_lr = 1e-4;
  s.warmup_steps = 10;
  s.total_steps = 110;
  s.validate();
  EXPECT_EQ(s.lr_at(0), 0.0);                             // warm-up starts at 0
  EXPECT_DOUBLE_EQ(s.lr_at(5), 0.5e-2);                  // mid warm-up
  EXPECT_DOUBLE_EQ(s.lr_at(10), 1e-2);                   // end of warm-up: peak
  EXPECT_DOUBLE_EQ(s.lr_at(60), 0.5 * (1e-2 + 1e-4));    // halfway through the cosine
  EXPECT_NEAR(s.lr_at(35), 1e-4 + (1e-2 - 1e-4) * 0.5 * (1 + std::cos(M_PI / 4)), 1e-17);
  EXPECT_DOUBLE_EQ(s.lr_at(110), 1e-4);                  // end
  EXPECT_DOUBLE_EQ(s.lr_at(1000), 1e-4);                 // stays at min_lr
  s.warmup_steps = 0;
  EXPECT_DOUBLE_EQ(s.lr_at(0), 1e-2);
}

// PyTorch's OneCycleLR(max_lr=1, total_steps=10, pct_start=0.3, div_factor=25,
// final_div_factor=1e4) gives 0.04, 0.52, 1, ..., 4e-6: e1 = 2, e2 = 9.
TEST(Schedule, OneCycleAsPyTorch) {
  Schedule s;
  s.kind = ScheduleKind::onecycle;
  s.lr = 1;
  s.total_steps = 10;
  s.pct_start = 0.3, s.div_factor = 25, s.final_div_factor = 1e4;
  s.validate();
  EXPECT_NEAR(s.lr_at(0), 0.04, 1e-15);
  EXPECT_NEAR(s.lr_at(1), 0.52, 1e-15);
  EXPECT_DOUBLE_EQ(s.lr_at(2), 1.0);
  const double z = 0.04 / 1e4;  // cos(1, z, (5 - 2) / 7) halfway-ish down
  EXPECT_NEAR(s.lr_at(5), z + (1 - z) * 0.5 * (1 + std::cos(M_PI * 3.0 / 7.0)), 1e-15);
  EXPECT_DOUBLE_EQ(s.lr_at(9), z);
  EXPECT_DOUBLE_EQ(s.lr_at(100), z);
  for (long k = 2; k < 9; ++k) EXPECT_GT(s.lr_at(k), s.lr_at(k + 1));  // falls after the peak
  s.pct_start = 1.0;
  EXPECT_THROW(s.validate(), kpde::InputError);
  s.pct_start = 0.2, s.div_factor = 0.5;
  EXPECT_THROW(s.validate(), kpde::InputError);
  s.div_factor = 2, s.total_steps = 0;
  EXPECT_THROW(s.validate(), kpde::InputError);
}

TEST(Adam, UsesTheScheduleAndReturnsTheRate) {
  AdamOptions o;
  o.schedule.kind = ScheduleKind::exponential;
  o.schedule.lr = 0.1;
  o.schedule.decay_rate = 0.5;
  o.schedule.decay_steps = 1;
  Adam<double> adam(2, o);
  auto p = make_vec<double>({1.0, 1.0});
  const auto g = make_vec<double>({1.0, -1.0});
  EXPECT_DOUBLE_EQ(adam.next_lr(), 0.1);
  EXPECT_DOUBLE_EQ(adam.step(p, g), 0.1);
  EXPECT_DOUBLE_EQ(adam.step(p, g), 0.05);
  EXPECT_DOUBLE_EQ(adam.step(p, g), 0.025);
  // Constant gradient: mhat/sqrt(vhat) = sign(g) up to eps, so p moved by the sum of rates.
  EXPECT_NEAR(p(0), 1.0 - 0.175, 1e-7);
  EXPECT_NEAR(p(1), 1.0 + 0.175, 1e-7);
}

TEST(Adam, NonFiniteGradientThrowsAndLeavesEverythingUntouched) {
  for (const double bad : {std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity()}) {
    AdamOptions o;
    Adam<double> adam(p0.size(), o);
    auto p = make_vec<double>(p0);
    adam.step(p, make_vec<double>(grads[0]));
    const std::vector<double> p1 = {p(0), p(1), p(2), p(3), p(4)};
    const double m1 = adam.m()(1), v1 = adam.v()(1);
    auto g = make_vec<double>(grads[1]);
    g(3) = bad;
    try {
      adam.step(p, g);
      FAIL() << "no throw";
    } catch (const kpde::Error& e) {
      EXPECT_NE(std::string(e.what()).find("non-finite gradient"), std::string::npos) << e.what();
    }
    EXPECT_EQ(adam.n_steps(), 1);
    for (std::size_t i = 0; i < p0.size(); ++i) EXPECT_EQ(p(i), p1[i]);
    EXPECT_EQ(adam.m()(1), m1);
    EXPECT_EQ(adam.v()(1), v1);
  }
  Adam<float> adam_f(2, AdamOptions{});
  auto pf = make_vec<float>({1.0, 2.0});
  auto gf = make_vec<float>({std::numeric_limits<float>::quiet_NaN(), 0.0});
  EXPECT_THROW(adam_f.step(pf, gf), kpde::Error);
  EXPECT_EQ(pf(0), 1.0f);
}

TEST(Adam, LengthMismatchThrows) {
  Adam<double> adam(3, AdamOptions{});
  auto p = make_vec<double>({1.0, 2.0, 3.0});
  EXPECT_THROW(adam.step(p, make_vec<double>({1.0, 2.0})), kpde::Error);
  auto short_p = make_vec<double>({1.0});
  EXPECT_THROW(adam.step(short_p, make_vec<double>({1.0, 2.0, 3.0})), kpde::Error);
}

TEST(Adam, CheckpointRoundTripAndReset) {
  AdamOptions o;
  o.schedule.lr = 0.03;
  Adam<double> a(p0.size(), o);
  auto pa = make_vec<double>(p0);
  a.step(pa, make_vec<double>(grads[0]));
  a.step(pa, make_vec<double>(grads[1]));

  Adam<double> b(p0.size(), o);
  b.set_state(a.n_steps(), a.m(), a.v());
  auto pb = make_vec<double>({pa(0), pa(1), pa(2), pa(3), pa(4)});
  a.step(pa, make_vec<double>(grads[2]));
  b.step(pb, make_vec<double>(grads[2]));
  EXPECT_EQ(b.n_steps(), 3);
  for (std::size_t i = 0; i < p0.size(); ++i) EXPECT_EQ(pa(i), pb(i));

  EXPECT_THROW(b.set_state(-1, a.m(), a.v()), kpde::Error);
  EXPECT_THROW(b.set_state(1, make_vec<double>({1.0}), a.v()), kpde::Error);

  b.reset();
  EXPECT_EQ(b.n_steps(), 0);
  for (std::size_t i = 0; i < p0.size(); ++i) EXPECT_EQ(b.m()(i), 0.0);
  auto pc = make_vec<double>(p0);
  b.step(pc, make_vec<double>(grads[0]));
  auto pd = make_vec<double>(p0);
  Adam<double> fresh(p0.size(), o);
  fresh.step(pd, make_vec<double>(grads[0]));
  for (std::size_t i = 0; i < p0.size(); ++i) EXPECT_EQ(pc(i), pd(i));
}

TEST(Adam, ManyParametersInParallelMatchReference) {
  const std::size_t n = 10007;
  std::vector<double> p_ref(n), g(n);
  for (std::size_t i = 0; i < n; ++i) {
    p_ref[i] = std::sin(0.1 * i);
    g[i] = std::cos(0.37 * i) * (1 + i % 7);
  }
  AdamOptions o;
  o.clip_norm = 10.0;
  Adam<double> adam(n, o);
  ReferenceAdam reference{o, {}, {}, 0};
  auto p = make_vec<double>(p_ref);
  const auto gv = make_vec<double>(g);
  for (int s = 0; s < 2; ++s) {
    adam.step(p, gv);
    reference.step(p_ref, g);
  }
  double max_err = 0;
  for (std::size_t i = 0; i < n; ++i) max_err = std::max(max_err, std::abs(p(i) - p_ref[i]));
  EXPECT_LT(max_err, 1e-14);
}

template <class F>
void expect_input_error(F&& f, const char* needle) {
  try {
    f();
    ADD_FAILURE() << "no InputError for " << needle;
  } catch (const kpde::InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Schedule, ValidateRejectsNonsense) {
  const auto check = [](Schedule s, const char* needle) {
    expect_input_error([&] { s.validate(); }, needle);
  };
  Schedule s;
  s.lr = -1e-3;
  check(s, "lr");
  s.lr = 0;
  check(s, "lr");
  s.lr = std::numeric_limits<double>::quiet_NaN();
  check(s, "lr");

  Schedule e;
  e.kind = ScheduleKind::exponential;
  e.decay_steps = 0;
  check(e, "decay_steps");
  e.decay_steps = 10;
  e.decay_rate = 1.5;
  check(e, "decay_rate");
  e.decay_rate = 0;
  check(e, "decay_rate");

  Schedule c;
  c.kind = ScheduleKind::cosine;
  check(c, "total_steps");
  c.total_steps = 100;
  c.warmup_steps = 100;
  check(c, "warmup_steps");
  c.warmup_steps = -1;
  check(c, "warmup_steps");
  c.warmup_steps = 10;
  c.min_lr = 1.0;
  check(c, "min_lr");
  c.min_lr = 0;
  c.validate();

  Schedule w;
  w.warmup_steps = 5;
  check(w, "warmup_steps");
}

TEST(Adam, ValidateRejectsBadOptions) {
  const auto check = [](AdamOptions o, const char* needle) {
    expect_input_error([&] { o.validate(); }, needle);
    expect_input_error([&] { Adam<double>(3, o); }, needle);
  };
  AdamOptions o;
  o.beta1 = 1.0;
  check(o, "beta1");
  o = {};
  o.beta2 = -0.1;
  check(o, "beta2");
  o = {};
  o.eps = 0;
  check(o, "eps");
  o = {};
  o.weight_decay = -1;
  check(o, "weight_decay");
  o = {};
  o.clip_norm = -1;
  check(o, "clip_norm");
  o = {};
  o.schedule.lr = -1;
  check(o, "lr");
  o = {};
  o.validate();
}

}  // namespace
