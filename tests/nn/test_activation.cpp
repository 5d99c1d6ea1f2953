// Activations: values against libm, and s', s'', s''' against central differences
// of the next-lower derivative (double).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "nn/activation.hpp"

using namespace kpde::nn;

TEST(Activation, VexpMatchesLibm) {
  for (double x = -700; x <= 700; x += 0.731) {
    const double ref = std::exp(x);
    EXPECT_LE(std::abs(detail::vexp(x) - ref), 4e-16 * ref) << x;
  }
  for (float x = -80; x <= 80; x += 0.37f) {
    const float ref = std::exp(x);
    EXPECT_LE(std::abs(detail::vexp(x) - ref), 4e-7f * ref) << x;
  }
}

TEST(Activation, TanhValueIsAccurate) {
  for (double z = -30; z <= 30; z += 0.0137) {
    double s0, s1, s2, s3;
    TanhAct::eval(z, s0, s1, s2, s3);
    EXPECT_LE(std::abs(s0 - std::tanh(z)), 5e-16) << z;
  }
  for (float z = -30; z <= 30; z += 0.0137f) {
    float s0, s1, s2, s3;
    TanhAct::eval(z, s0, s1, s2, s3);
    EXPECT_LE(std::abs(s0 - std::tanh(z)), 3e-7f) << z;
  }
}

template <class Act>
void check_derivatives(double lo, double hi) {
  const double h = 1e-5;
  for (double z = lo; z <= hi; z += 0.173) {
    double s[4], sp[4], sm[4];
    Act::eval(z, s[0], s[1], s[2], s[3]);
    Act::eval(z + h, sp[0], sp[1], sp[2], sp[3]);
    Act::eval(z - h, sm[0], sm[1], sm[2], sm[3]);
    for (int k = 1; k < 4; ++k) {
      const double fd = (sp[k - 1] - sm[k - 1]) / (2 * h);
      EXPECT_NEAR(s[k], fd, 1e-6 * std::max(1.0, std::abs(fd))) << "order " << k << " at z=" << z;
    }
  }
}

TEST(Activation, TanhDerivatives) { check_derivatives<TanhAct>(-6, 6); }
TEST(Activation, SinDerivatives) { check_derivatives<SinAct>(-6, 6); }
TEST(Activation, GeluDerivatives) { check_derivatives<GeluAct>(-6, 6); }
TEST(Activation, SiluDerivatives) { check_derivatives<SiluAct>(-6, 6); }

TEST(Activation, GeluAndSiluValues) {
  for (double z = -5; z <= 5; z += 0.31) {
    double s0, s1, s2, s3;
    GeluAct::eval(z, s0, s1, s2, s3);
    EXPECT_NEAR(s0, 0.5 * z * (1 + std::erf(z / std::sqrt(2.0))), 1e-15);
    SiluAct::eval(z, s0, s1, s2, s3);
    EXPECT_NEAR(s0, z / (1 + std::exp(-z)), 1e-15);
  }
}

TEST(Activation, ParseNames) {
  EXPECT_EQ(parse_activation("TANH"), Activation::tanh);
  EXPECT_EQ(parse_activation("gelu"), Activation::gelu);
  EXPECT_THROW(parse_activation("relu6"), kpde::InputError);
}
