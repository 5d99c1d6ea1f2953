#include "pinn/gaussians_png.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "io/plot.hpp"
#include "nn/gaussian_features.hpp"

namespace kpde::pinn {

template <class T>
void write_gaussians_png(const std::string& path, const nn::Network<T>& net, const Vec<const T>& params,
                         const double* lo, const double* hi) {
  const nn::NetworkSpec& spec = net.spec();
  if (spec.features.kind != nn::FeatureKind::gaussian || spec.input_dim != 2) return;
  const auto& fs = spec.features;
  const nn::GaussLayout L(2, fs.gauss_channels, fs.full_covariance);
  const int Ng = fs.n_gaussians;
  const std::size_t off = net.n_dense_params();
  std::vector<double> wn(Ng);
  double wmax = 0;
  for (int g = 0; g < Ng; ++g) {
    double s = 0;
    for (int c = 0; c < L.k; ++c) s += double(params(off + g * L.stride + L.w() + c)) * double(params(off + g * L.stride + L.w() + c));
    wn[g] = std::sqrt(s), wmax = std::max(wmax, wn[g]);
  }
  // small weights first, so that the large ones are drawn on top
  std::vector<int> order(Ng);
  for (int g = 0; g < Ng; ++g) order[g] = g;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return wn[a] < wn[b]; });
  const auto& cmap = io::viridis_table();
  const double px_per_unit = 600 / std::max(hi[0] - lo[0], hi[1] - lo[1]);  // about, in the figure
  std::vector<io::Series> curves;
  io::Series centres;
  centres.colour = io::Rgb{0, 0, 0};
  centres.dots = true;
  for (int g : order) {
    const std::size_t o = off + static_cast<std::size_t>(g) * L.stride;
    const double mx = params(o + L.mu()), my = params(o + L.mu() + 1);
    // U^-1 = [[1/a, -b/(a c)], [0, 1/c]] for U = [[a, b], [0, c]]
    const double a = std::exp(-double(params(o + L.s()))), c = std::exp(-double(params(o + L.s() + 1)));
    const double b = L.full ? double(params(o + L.u())) : 0.0;
    const double i00 = 1 / a, i01 = -b / (a * c), i11 = 1 / c;
    io::Series e;
    e.colour = cmap[wmax > 0 ? std::min(255, static_cast<int>(255.0 * wn[g] / wmax)) : 0];
    // enough samples for a smooth outline: its circumference in pixels
    const double r = std::max(std::hypot(i00, i01), i11) * px_per_unit;
    const int n = std::max(16, std::min(4096, static_cast<int>(8 * r)));
    for (int i = 0; i <= n; ++i) {
      const double t = 6.283185307179586 * i / n, ct = std::cos(t), st = std::sin(t);
      e.x.push_back(mx + i00 * ct + i01 * st), e.y.push_back(my + i11 * st);
    }
    curves.push_back(std::move(e));
    centres.x.push_back(mx), centres.y.push_back(my);
  }
  curves.push_back(std::move(centres));
  io::LinePlotOptions opt;
  opt.title = std::to_string(Ng) + " Gaussians: one-sigma ellipses and centres";
  opt.x_label = "x", opt.y_label = "y";
  opt.x_range = {lo[0], hi[0]}, opt.y_range = {lo[1], hi[1]};
  opt.equal_aspect = true;
  opt.colour_bar = io::ColourBar{"|w|", 0, wmax > 0 ? wmax : 1};
  opt.width = 800, opt.height = 700;
  io::write_line_plot_png(path, curves, opt);
}

template void write_gaussians_png<float>(const std::string&, const nn::Network<float>&, const Vec<const float>&,
                                         const double*, const double*);
template void write_gaussians_png<double>(const std::string&, const nn::Network<double>&, const Vec<const double>&,
                                          const double*, const double*);

}  // namespace kpde::pinn
