#pragma once
/// Readers of network settings that several methods' configs share (docs/config.md).
#include "config/config.hpp"
#include "nn/network.hpp"

namespace kpde::data {

/// A `features:` section: {type: none | fourier_fixed (n_frequencies 5, base 0.1, axes: all) |
/// fourier_random (n_random 64, sigma 1, seed 1234), include_input: true}. Errors name the
/// file, line and key.
nn::FeatureSpec load_fourier_features(const config::Node& features);

}  // namespace kpde::data
