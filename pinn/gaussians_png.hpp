#pragma once
/// gaussians.png: the Gaussians of a trained Gaussian-feature model (2-D) over the
/// domain's bounding box (x and y axes with tick labels, one unit as long on both):
/// each Gaussian's one-sigma ellipse {x : |U (x - mu)| = 1}, coloured by the norm of its
/// weight vector |w_g| (viridis, dark = small, yellow = the largest; a colour bar from 0
/// to max |w_g|), and its centre as a black dot.
#include <string>

#include "core/types.hpp"
#include "nn/network.hpp"

namespace kpde::pinn {

/// Writes the plot atomically to path. params: the model's flat parameter buffer;
/// [lo, hi]: the plotted box. Does nothing unless the model has Gaussian features in 2-D.
template <class T>
void write_gaussians_png(const std::string& path, const nn::Network<T>& net, const Vec<const T>& params,
                         const double* lo, const double* hi);

}  // namespace kpde::pinn
