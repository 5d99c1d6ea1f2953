// Antiderivative samples (data/antiderivative.hpp): s' = u with s(0) = 0 exactly by the
// trapezoidal rule on the fine grid (refine 1: the sensors are the fine grid) and to
// O(h^2) at the sensors otherwise; the field's variance and correlation against the
// squared-exponential kernel; reproducibility; bad settings; a dataset file round trip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "core/error.hpp"
#include "data/antiderivative.hpp"
#include "data/dataset.hpp"

using namespace kpde;

TEST(Antiderivative, TrapezoidalIntegralOfTheSensorValues) {
  data::AntiderivativeSettings s;
  s.sensors = 41, s.points = 41, s.refine = 1;
  const data::AntiderivativeSample a = data::generate_antiderivative_sample(s, 3, 0);
  ASSERT_EQ(a.u.size(), 41u);
  ASSERT_EQ(a.s.size(), 41u);
  EXPECT_EQ(a.s[0], 0.0);
  double sum = 0;
  const double h = 1.0 / 40;
  for (int j = 1; j < 41; ++j) {
    sum += 0.5 * h * (a.u[j - 1] + a.u[j]);
    EXPECT_NEAR(a.s[j], sum, 1e-13) << j;
  }
}

TEST(Antiderivative, DerivativeOfSIsUAtTheSensors) {
  // s' by central differences at the 100 sensors (h = 1/99): s''' = u'' = O(1/l^2), so
  // the error is about h^2/6 * |u''| ~ 1e-3; a wrong s (shifted, scaled) is off by O(1)
  data::AntiderivativeSettings s;  // 100 sensors, 100 points, l = 0.2, refine 10
  for (std::uint64_t i = 0; i < 5; ++i) {
    const data::AntiderivativeSample a = data::generate_antiderivative_sample(s, 1, i);
    const double h = 1.0 / 99;
    double err = 0, umax = 0;
    for (int j = 1; j < 99; ++j) {
      err = std::max(err, std::abs((a.s[j + 1] - a.s[j - 1]) / (2 * h) - a.u[j]));
      umax = std::max(umax, std::abs(a.u[j]));
    }
    EXPECT_LT(err, 1e-2 * std::max(1.0, umax)) << "sample " << i;
    EXPECT_EQ(a.s[0], 0.0);
  }
}

TEST(Antiderivative, FieldHasTheKernelsVarianceAndCorrelation) {
  data::AntiderivativeSettings s;
  s.sensors = 51, s.points = 51, s.refine = 4;  // sensors 0.02 apart: lag 10 = 0.2 = l
  double var = 0, cov = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    const data::AntiderivativeSample a = data::generate_antiderivative_sample(s, 7, static_cast<std::uint64_t>(i));
    for (int j = 0; j + 10 < 51; ++j) var += a.u[j] * a.u[j], cov += a.u[j] * a.u[j + 10];
  }
  var /= n * 41.0, cov /= n * 41.0;
  EXPECT_NEAR(var, 1.0, 0.1);
  EXPECT_NEAR(cov / var, std::exp(-0.5), 0.05);  // k(l) = exp(-1/2)
}

TEST(Antiderivative, ReproducibleAndDifferentPerIndex) {
  data::AntiderivativeSettings s;
  const auto a = data::generate_antiderivative_sample(s, 5, 2), b = data::generate_antiderivative_sample(s, 5, 2);
  const auto c = data::generate_antiderivative_sample(s, 5, 3);
  EXPECT_EQ(a.u, b.u);
  EXPECT_EQ(a.s, b.s);
  EXPECT_NE(a.u, c.u);
}

TEST(Antiderivative, BadSettingsNameTheKey) {
  data::AntiderivativeSettings s;
  s.points = 8;  // 7 does not divide 99 * 10
  try {
    s.validate();
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("points"), std::string::npos) << e.what();
  }
  s = data::AntiderivativeSettings{};
  s.length_scale = -1;
  EXPECT_THROW(s.validate(), InputError);
  s = data::AntiderivativeSettings{};
  s.sensors = 1;
  EXPECT_THROW(s.validate(), InputError);
}

TEST(Antiderivative, DatasetRoundTrip) {
  data::AntiderivativeSettings s;
  s.points = 34;  // 33 divides 990
  const std::string path = ::testing::TempDir() + "kpde_antiderivative.h5";
  {
    data::DatasetWriter w(path, data::antiderivative_schema(s, true), 3, 4);
    std::vector<data::SampleRecord> recs;
    for (std::uint64_t i = 0; i < 3; ++i) recs.push_back(data::to_record(data::generate_antiderivative_sample(s, 9, i)));
    w.write(0, recs);
    w.close();
  }
  const data::DatasetReader r(path);
  ASSERT_EQ(r.kind(), "antiderivative");
  for (long i = 0; i < 3; ++i) {
    const auto want = data::generate_antiderivative_sample(s, 9, static_cast<std::uint64_t>(i));
    EXPECT_EQ(r.read("u", i), want.u);
    EXPECT_EQ(r.read("s", i), want.s);
  }
  std::remove(path.c_str());
}
