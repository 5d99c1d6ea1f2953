#pragma once
/// kpde's random numbers: a 64-bit Mersenne twister (std::mt19937_64, whose output
/// sequence the C++ standard fixes) with kpde's own uniform and normal transforms,
/// so that a seed gives the same numbers with every standard library.
#include <cmath>
#include <cstdint>
#include <random>

namespace kpde {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  /// Uniform in [0, 1): the top 53 bits of one draw.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Standard normal by Box-Muller (both values used).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1)), th = 6.283185307179586476925 * u2;
    spare_ = r * std::sin(th);
    has_spare_ = true;
    return r * std::cos(th);
  }
  std::uint64_t next() { return engine_(); }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace kpde
