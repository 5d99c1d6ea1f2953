#pragma once
/// The collocation points of a PINN objective, shared by the scalar (objective.hpp) and
/// the system (system_objective.hpp) objectives: the draw of a sampling round, one
/// adaptive round, and the points in a checkpoint.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "data/problem.hpp"
#include "data/residual.hpp"
#include "mesh/sampling.hpp"
#include "nn/network.hpp"
#include "pinn/settings.hpp"

namespace kpde::io {
class H5File;
}

namespace kpde::pinn {

/// A well-mixed 64-bit seed from two numbers (splitmix64 finaliser of a * phi + b).
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b);

/// The points of sampling round `round`: settings.n_interior interior points by
/// settings.method (scrambled, seed mix(seed, 2 round)) and settings.n_boundary points on
/// the parts that carry conditions (seed mix(seed, 2 round + 1)).
struct PointSet {
  Mat<double> interior;  ///< [n][dim]
  mesh::BoundarySamples boundary;
};
PointSet draw_points(const data::Problem& problem, const PinnSettings& settings, std::uint64_t round);

/// One residual-based adaptive round of n interior points: of
/// settings.adaptive_candidates (0: 4 n) uniform candidates, the share
/// settings.adaptive_fraction with the largest score (|r|, ties by index), the rest fresh
/// points by settings.method. score(x [m][dim]) returns m scores.
/// training.residual_weight at the rows of x [n][d] (empty without one). Throws
/// InputError when a weight is negative or not finite (naming the point).
std::vector<double> residual_weights(const PinnSettings& settings, const Mat<const double>& x);

Mat<double> adaptive_points(const data::Problem& problem, const PinnSettings& settings, std::uint64_t round, int n,
                            const std::function<std::vector<double>(const Mat<const double>&)>& score);

/// The points of a boundary target set as network inputs [n][dim] in T.
template <class T>
Mat<T> boundary_inputs(const data::BoundaryTargets::Set& s, int dim) {
  Mat<T> x("kpde::pinn::x_boundary", s.x.size(), dim);
  for (std::size_t p = 0; p < s.x.size(); ++p)
    for (int k = 0; k < dim; ++k) x(p, k) = T(s.x[p][k]);
  return x;
}

/// The hard-Dirichlet jets (HardDirichlet::jets, a value-and-gradient spec) at the
/// points of a boundary set: [n][hard.stride()].
std::vector<double> boundary_jets(const data::HardDirichlet& hard, const data::BoundaryTargets::Set& s, int dim);

/// The flux residual r = alpha u + beta n.grad u - g at point q of set b from the
/// network's value and gradient channels y[c * ystride], c = 0..dim; with exact
/// Dirichlet data (hard, its jets h at the point) u's channels are g + phi N's. dr
/// receives dr/dN_c (1 + dim values).
template <class Y>
double flux_residual(const data::BoundaryTargets::Set& b, int q, int dim, const data::HardDirichlet* hard,
                     const double* h, const Y* y, int ystride, double* dr) {
  double u[4], du[4];
  if (hard) {
    hard->forward(h, y, ystride, true, u);
  } else {
    for (int c = 0; c <= dim; ++c) u[c] = double(y[c * ystride]);
  }
  double r = b.alpha[q] * u[0] - b.g[q];
  du[0] = b.alpha[q];
  for (int k = 0; k < dim; ++k) {
    du[1 + k] = b.beta[q] * b.normal[static_cast<std::size_t>(q) * dim + k];
    r += du[1 + k] * u[1 + k];
  }
  if (hard) {
    hard->backward(h, du, dr);
  } else {
    for (int c = 0; c <= dim; ++c) dr[c] = du[c];
  }
  return r;
}

/// GEMM flops of one fused forward + backward pass of net over n points with these
/// channels (no input gradient).
template <class T>
double pass_flops(const nn::Network<T>& net, int n, const nn::ChannelSpec& channels) {
  return net.forward_flops(n, channels.n_channels()) + net.backward_flops(n, channels.n_channels(), false);
}

/// The sampling round (attribute `round`) and the points into `group`: interior [n][d],
/// boundary [m][d], normal [m][d], part [m].
void save_points(io::H5File& file, const std::string& group, const Mat<double>& interior,
                 const mesh::BoundarySamples& boundary, std::uint64_t round);
/// The same back; InputError naming the file when a shape is wrong.
PointSet load_points(const io::H5File& file, const std::string& group, const data::Problem& problem,
                     std::uint64_t* round);

}  // namespace kpde::pinn
