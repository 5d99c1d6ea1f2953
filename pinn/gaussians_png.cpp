#include "pinn/gaussians_png.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "io/atomic_file.hpp"
#include "io/png.hpp"
#include "nn/gaussian_features.hpp"

namespace kpde::pinn {

template <class T>
void write_gaussians_png(const std::string& path, const nn::Network<T>& net, const Vec<const T>& params,
                         const double* lo, const double* hi) {
  const nn::NetworkSpec& spec = net.spec();
  if (spec.features.kind != nn::FeatureKind::gaussian || spec.input_dim != 2) return;
  const auto& fs = spec.features;
  const nn::GaussLayout L(2, fs.gauss_channels, fs.full_covariance);
  // Map area S x S pixels with a margin; the longer side of the box fills it.
  const int S = 800, margin = 20, W = S + 2 * margin;
  const double ext = std::max(hi[0] - lo[0], hi[1] - lo[1]);
  const double scale = S / ext;
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(W) * W * 3, 255);
  auto put = [&](double x, double y, const io::Rgb& c) {
    const int px = margin + static_cast<int>(std::floor((x - lo[0]) * scale));
    const int py = margin + S - 1 - static_cast<int>(std::floor((y - lo[1]) * scale));
    if (px < 0 || py < 0 || px >= W || py >= W) return;
    std::uint8_t* q = &rgb[(static_cast<std::size_t>(py) * W + px) * 3];
    q[0] = c[0], q[1] = c[1], q[2] = c[2];
  };
  // domain box
  const io::Rgb grey = {120, 120, 120};
  for (int i = 0; i <= 4 * S; ++i) {
    const double t = double(i) / (4 * S);
    put(lo[0] + t * (hi[0] - lo[0]), lo[1], grey), put(lo[0] + t * (hi[0] - lo[0]), hi[1] - 1e-12, grey);
    put(lo[0], lo[1] + t * (hi[1] - lo[1]), grey), put(hi[0] - 1e-12, lo[1] + t * (hi[1] - lo[1]), grey);
  }
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
  for (int g : order) {
    const std::size_t o = off + static_cast<std::size_t>(g) * L.stride;
    const double mx = params(o + L.mu()), my = params(o + L.mu() + 1);
    // U^-1 = [[1/a, -b/(a c)], [0, 1/c]] for U = [[a, b], [0, c]]
    const double a = std::exp(-double(params(o + L.s()))), c = std::exp(-double(params(o + L.s() + 1)));
    const double b = L.full ? double(params(o + L.u())) : 0.0;
    const double i00 = 1 / a, i01 = -b / (a * c), i11 = 1 / c;
    const io::Rgb col = cmap[wmax > 0 ? std::min(255, static_cast<int>(255.0 * wn[g] / wmax)) : 0];
    // enough samples for a closed outline: its circumference in pixels
    const double r = std::max(std::hypot(i00, i01), i11) * scale;
    const int n = std::max(16, std::min(4096, static_cast<int>(8 * r)));
    for (int i = 0; i < n; ++i) {
      const double t = 6.283185307179586 * i / n, ct = std::cos(t), st = std::sin(t);
      put(mx + i00 * ct + i01 * st, my + i11 * st, col);
    }
  }
  const io::Rgb black = {0, 0, 0};
  for (int g = 0; g < Ng; ++g) {
    const std::size_t o = off + static_cast<std::size_t>(g) * L.stride;
    // a 3 x 3 pixel dot
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) put(params(o) + dx / scale, params(o + 1) + dy / scale, black);
  }
  io::write_file_atomically(path, io::encode_png_rgb(W, W, rgb));
}

template void write_gaussians_png<float>(const std::string&, const nn::Network<float>&, const Vec<const float>&,
                                         const double*, const double*);
template void write_gaussians_png<double>(const std::string&, const nn::Network<double>&, const Vec<const double>&,
                                          const double*, const double*);

}  // namespace kpde::pinn
