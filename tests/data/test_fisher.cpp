// Fisher-KPP samples (data/fisher.hpp): pure diffusion of a cosine mode decays exactly
// by exp(-D pi^2 k^2 t) under zero flux; a spatially constant u0 follows the logistic
// (form 1) and cubic (form 2) ODEs exactly; refining x and t changes a random sample by
// far less than 1e-4; the form-3 coefficients are the truncated Taylor series; samples
// are reproducible per (seed, index), cycle the forms and stay in (0, 1); bad settings
// name the key; a dataset file round trip.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/fisher.hpp"

using namespace kpde;

namespace {
constexpr double kPi = 3.141592653589793238462643383;

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t q = 0; q < a.size(); ++q) m = std::max(m, std::abs(a[q] - b[q]));
  return m;
}
}  // namespace

TEST(Fisher, PureDiffusionOfACosineModeDecaysExactly) {
  data::FisherSettings s;  // 64 points, 20 times, refine 4
  s.diffusion = 0.05;
  for (int k : {1, 3, 6}) {
    const auto u = data::fisher_solve(s, {0, 0, 0, 0}, [k](double x) { return 0.5 + 0.3 * std::cos(kPi * k * x); });
    ASSERT_EQ(u.size(), 20u * 64u);
    double err = 0;
    for (int j = 0; j < 20; ++j)
      for (int i = 0; i < 64; ++i) {
        const double x = i / 63.0, t = j / 19.0;
        const double exact = 0.5 + 0.3 * std::exp(-s.diffusion * kPi * kPi * k * k * t) * std::cos(kPi * k * x);
        err = std::max(err, std::abs(u[static_cast<std::size_t>(j * 64 + i)] - exact));
      }
    // fourth-order stencil: eigenvalue error (pi k h)^4 / 90 relative, h = 1/252
    EXPECT_LT(err, 1e-6) << "mode " << k;
  }
}

TEST(Fisher, ConstantInitialValueFollowsTheReactionOde) {
  data::FisherSettings s;
  s.points = 16, s.times = 11;
  const double a = 0.8, v0 = 0.3;
  // form 1: logistic u' = a u (1 - u)
  const auto u1 = data::fisher_solve(s, data::fisher_coefficients(1, a, 0), [v0](double) { return v0; });
  // form 2: u' = a (u - u^3), u^2 = 1 / (1 + (1/u0^2 - 1) e^{-2 a t})
  const auto u2 = data::fisher_solve(s, data::fisher_coefficients(2, a, 0), [v0](double) { return v0; });
  double e1 = 0, e2 = 0;
  for (int j = 0; j < 11; ++j) {
    const double t = j / 10.0;
    const double x1 = v0 * std::exp(a * t) / (1 - v0 + v0 * std::exp(a * t));
    const double x2 = 1 / std::sqrt(1 + (1 / (v0 * v0) - 1) * std::exp(-2 * a * t));
    for (int i = 0; i < 16; ++i) {
      e1 = std::max(e1, std::abs(u1[static_cast<std::size_t>(j * 16 + i)] - x1));
      e2 = std::max(e2, std::abs(u2[static_cast<std::size_t>(j * 16 + i)] - x2));
    }
  }
  EXPECT_LT(e1, 1e-10);
  EXPECT_LT(e2, 1e-10);
  EXPECT_GT(u1.back(), v0 + 0.1) << "the solution grows";
}

TEST(Fisher, RefiningSpaceAndTimeChangesASampleFarBelow1em4) {
  data::FisherSettings s;  // defaults: D = 0.01, refine 4
  data::FisherSettings fine = s;
  fine.refine = 8, fine.time_refine = 2;
  data::FisherSettings coarse = s;
  coarse.refine = 2;
  for (std::uint64_t i = 0; i < 3; ++i) {  // one sample of each form
    const data::FisherSample a = data::generate_fisher_sample(s, 11, i), b = data::generate_fisher_sample(fine, 11, i);
    const data::FisherSample c = data::generate_fisher_sample(coarse, 11, i);
    EXPECT_EQ(a.u0, b.u0);
    double scale = 0;
    for (double v : a.u) scale = std::max(scale, std::abs(v));
    const double d_fine = max_abs_diff(a.u, b.u), d_coarse = max_abs_diff(c.u, b.u);
    EXPECT_LT(d_fine, 1e-6 * scale) << "sample " << i << " (form " << a.form << ")";
    EXPECT_GT(b.steps, a.steps);
    // fourth order: halving h (and the step with it) cuts the change by about 16
    EXPECT_LT(d_fine, d_coarse / 4 + 1e-12) << "sample " << i << ": " << d_fine << " vs " << d_coarse;
  }
}

TEST(Fisher, FormThreeIsTheTruncatedTaylorSeries) {
  for (double beta : {0.5, 1.3, 2.0}) {
    const double a = 0.7;
    const auto c = data::fisher_coefficients(3, a, beta);
    for (double u : {0.1, 0.5, 0.9}) {
      const double R = u * (c[0] + u * (c[1] + u * (c[2] + u * c[3])));
      const double taylor = a * std::exp(-beta) * u * (1 - u) * (1 + beta * u + 0.5 * beta * beta * u * u);
      EXPECT_NEAR(R, taylor, 1e-14);
    }
    EXPECT_NEAR(c[0] + c[1] + c[2] + c[3], 0, 1e-14) << "R(1) = 0";
  }
  EXPECT_EQ(data::fisher_coefficients(1, 2, 0), (std::array<double, 4>{2, -2, 0, 0}));
  EXPECT_EQ(data::fisher_coefficients(2, 2, 0), (std::array<double, 4>{2, 0, -2, 0}));
  EXPECT_THROW(data::fisher_coefficients(4, 1, 1), InputError);
}

TEST(Fisher, SamplesAreReproducibleCycleTheFormsAndStayInTheUnitInterval) {
  data::FisherSettings s;
  s.points = 32, s.times = 8;
  const auto a = data::generate_fisher_sample(s, 5, 4), b = data::generate_fisher_sample(s, 5, 4);
  const auto c = data::generate_fisher_sample(s, 5, 7), d = data::generate_fisher_sample(s, 6, 4);
  EXPECT_EQ(a.u, b.u);
  EXPECT_EQ(a.coefficients, b.coefficients);
  EXPECT_NE(a.u0, c.u0);
  EXPECT_NE(a.u0, d.u0);
  EXPECT_EQ(a.form, c.form) << "4 and 7 are both 1 mod 3";
  for (std::uint64_t i = 0; i < 9; ++i) {
    const auto e = data::generate_fisher_sample(s, 3, i);
    EXPECT_EQ(e.form, static_cast<int>(i % 3) + 1);
    EXPECT_GE(e.a, 0.1);
    EXPECT_LE(e.a, 1.0);
    if (e.form == 3) {
      EXPECT_GE(e.beta, 0.5);
      EXPECT_LE(e.beta, 2.0);
    } else {
      EXPECT_TRUE(std::isnan(e.beta));
    }
    ASSERT_EQ(e.u0.size(), 32u);
    ASSERT_EQ(e.u.size(), 8u * 32u);
    EXPECT_TRUE(std::equal(e.u0.begin(), e.u0.end(), e.u.begin())) << "row 0 is u0";
    for (double v : e.u) {
      EXPECT_GT(v, 0.0);
      EXPECT_LT(v, 1.0);
    }
  }
  // a list of forms: [2] makes every sample form 2
  s.forms = {2};
  EXPECT_EQ(data::generate_fisher_sample(s, 3, 5).form, 2);
}

TEST(Fisher, BadSettingsNameTheKey) {
  const auto message = [](const data::FisherSettings& s) {
    try {
      s.validate();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  data::FisherSettings s;
  s.forms = {1, 4};
  EXPECT_NE(message(s).find("forms:"), std::string::npos) << message(s);
  s = {};
  s.forms.clear();
  EXPECT_NE(message(s).find("forms:"), std::string::npos) << message(s);
  s = {};
  s.a_min = 2;  // above a_max
  EXPECT_NE(message(s).find("a:"), std::string::npos) << message(s);
  s = {};
  s.points = 2, s.refine = 2;  // 3 fine nodes
  EXPECT_NE(message(s).find("refine:"), std::string::npos) << message(s);
  s = {};
  s.diffusion = 100;  // the explicit step would be tiny
  EXPECT_NE(message(s).find("diffusion:"), std::string::npos) << message(s);
  s = {};
  s.times = 1;
  EXPECT_NE(message(s).find("times:"), std::string::npos) << message(s);
}

TEST(Fisher, DatasetFileRoundTrip) {
  data::FisherSettings s;
  s.points = 24, s.times = 6;
  const std::string path = "/tmp/kpde_test_" + std::to_string(::getpid()) + "_fisher.h5";
  std::vector<data::FisherSample> samples;
  {
    data::DatasetWriter w(path, data::fisher_schema(s, true), 4, 4);
    std::vector<data::SampleRecord> recs;
    for (std::uint64_t i = 0; i < 4; ++i) {
      samples.push_back(data::generate_fisher_sample(s, 2, i));
      recs.push_back(data::to_record(samples.back()));
    }
    w.write(0, recs);
    w.close();
  }
  const data::DatasetReader r(path);
  EXPECT_EQ(r.kind(), "fisher");
  EXPECT_EQ(r.grid(), 24);
  EXPECT_EQ(r.sample_shape("u"), (io::Shape{6, 24}));
  EXPECT_EQ(r.sample_shape("coefficients"), (io::Shape{4}));
  const auto x = r.file().numbers_attribute("/", "x"), t = r.file().numbers_attribute("/", "t");
  ASSERT_EQ(x.size(), 24u);
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(x.back(), 1.0);
  EXPECT_EQ(t[1], 0.2);
  for (long i = 0; i < 4; ++i) {
    const auto& e = samples[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.read("u", i), e.u);  // float64 file: exact
    EXPECT_EQ(r.read("u0", i), e.u0);
    EXPECT_EQ(r.read("task", i)[0], e.form - 1);
    EXPECT_EQ(r.read("a", i)[0], e.a);
    const auto c = r.read("coefficients", i);
    EXPECT_TRUE(std::equal(c.begin(), c.end(), e.coefficients.begin()));
  }
  std::remove(path.c_str());
}
