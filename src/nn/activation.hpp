#pragma once
/// Activation functions with their first three derivatives, written branch-free so
/// that the compiler vectorises the per-feature loops (the double tanh of libm and
/// Eigen is scalar; this one is not).
///
/// Each activation has   eval(z, s0, s1, s2, s3)   giving s(z), s'(z), s''(z), s'''(z).
/// Unused outputs are removed by the optimiser after inlining.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace kpde::nn {

enum class Activation { tanh, sin, gelu, silu };

Activation parse_activation(const std::string& name);
std::string to_string(Activation a);

namespace detail {

/// exp(x) for double: Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, Taylor
/// polynomial to r^13 (error < 1e-16 relative), scale by 2^k through the exponent
/// bits. x is clamped to [-708, 709] (no overflow to inf, no denormals).
inline double vexp(double x) {
  x = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
  // Round x/ln2 to the nearest integer k with the 1.5*2^52 shift (no libm call, so the
  // loop vectorises); the low bits of `shifted` then hold k in two's complement.
  const double shifted = x * 1.4426950408889634 + 0x1.8p52;
  const double k = shifted - 0x1.8p52;
  const double r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  std::uint64_t kb;
  std::memcpy(&kb, &shifted, sizeof kb);
  const std::uint64_t bits = (kb + 1023) << 52;  // 2^k (k in [-1022, 1023])
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/// exp(x) for float: same scheme, polynomial to r^7; x clamped to [-87, 88].
inline float vexp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float shifted = x * 1.44269504f + 0x1.8p23f;  // round to nearest, as above
  const float k = shifted - 0x1.8p23f;
  const float r = (x - k * 0.693359375f) + k * 2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  std::uint32_t kb;
  std::memcpy(&kb, &shifted, sizeof kb);
  const std::uint32_t bits = (kb + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

}  // namespace detail

/// tanh: s = 1 - 2/(1 + e^{2z}) (z clamped to |z| <= 20, where tanh is +-1 in double);
/// s' = 1 - s^2, s'' = -2 s s', s''' = -2 s' (1 - 3 s^2).
struct TanhAct {
  /// The derivatives are polynomials in the value t = s(z): the reverse pass reads t
  /// from the stored forward output instead of evaluating tanh again.
  static constexpr bool from_value = true;
  template <class T>
  static inline void derivatives_from_value(T t, T& s1, T& s2, T& s3) {
    const T d = T(1) - t * t;
    s1 = d;
    s2 = T(-2) * t * d;
    s3 = T(-2) * d * (T(1) - T(3) * t * t);
  }
  template <class T>
  static inline void eval(T z, T& s0, T& s1, T& s2, T& s3) {
    z = z < T(-20) ? T(-20) : (z > T(20) ? T(20) : z);
    const T t = T(1) - T(2) / (T(1) + detail::vexp(T(2) * z));
    const T d = T(1) - t * t;
    s0 = t;
    s1 = d;
    s2 = T(-2) * t * d;
    s3 = T(-2) * d * (T(1) - T(3) * t * t);
  }
};

/// sin: s = sin z, s' = cos z, s'' = -sin z, s''' = -cos z.
struct SinAct {
  static constexpr bool from_value = false;
  template <class T>
  static inline void derivatives_from_value(T, T&, T&, T&) {}
  template <class T>
  static inline void eval(T z, T& s0, T& s1, T& s2, T& s3) {
    const T s = std::sin(z), c = std::cos(z);
    s0 = s;
    s1 = c;
    s2 = -s;
    s3 = -c;
  }
};

/// GELU (exact, erf form): s = z Phi(z); s' = Phi + z phi; s'' = phi (2 - z^2);
/// s''' = phi (z^3 - 4 z), with phi the standard normal density.
struct GeluAct {
  static constexpr bool from_value = false;
  template <class T>
  static inline void derivatives_from_value(T, T&, T&, T&) {}
  template <class T>
  static inline void eval(T z, T& s0, T& s1, T& s2, T& s3) {
    const T Phi = T(0.5) * (T(1) + std::erf(z * T(0.70710678118654752440)));
    const T phi = T(0.39894228040143267794) * detail::vexp(T(-0.5) * z * z);
    s0 = z * Phi;
    s1 = Phi + z * phi;
    s2 = phi * (T(2) - z * z);
    s3 = phi * (z * z * z - T(4) * z);
  }
};

/// SiLU: s = z sigma(z); with q = sigma (1 - sigma), r = 1 - 2 sigma:
/// s' = sigma + z q, s'' = q (2 + z r), s''' = q (3 r + z (r^2 - 2 q)).
struct SiluAct {
  static constexpr bool from_value = false;
  template <class T>
  static inline void derivatives_from_value(T, T&, T&, T&) {}
  template <class T>
  static inline void eval(T z, T& s0, T& s1, T& s2, T& s3) {
    const T sg = T(1) / (T(1) + detail::vexp(-z));
    const T q = sg * (T(1) - sg), r = T(1) - T(2) * sg;
    s0 = z * sg;
    s1 = sg + z * q;
    s2 = q * (T(2) + z * r);
    s3 = q * (T(3) * r + z * (r * r - T(2) * q));
  }
};

/// Calls f(ActStruct{}) for the activation a.
template <class F>
decltype(auto) dispatch_activation(Activation a, F&& f) {
  switch (a) {
    case Activation::sin: return f(SinAct{});
    case Activation::gelu: return f(GeluAct{});
    case Activation::silu: return f(SiluAct{});
    case Activation::tanh: break;
  }
  return f(TanhAct{});
}

}  // namespace kpde::nn
