#include "pinn/points.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "io/hdf5.hpp"

namespace kpde::pinn {

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

PointSet draw_points(const data::Problem& problem, const PinnSettings& settings, std::uint64_t round) {
  mesh::InteriorOptions io;
  io.method = settings.method;
  io.seed = mix_seed(settings.seed, 2 * round);
  io.scramble = true;
  PointSet s;
  s.interior = mesh::sample_interior(*problem.geometry, static_cast<int>(settings.n_interior), io);
  s.boundary = mesh::sample_boundary(*problem.geometry, static_cast<int>(settings.n_boundary),
                                     mix_seed(settings.seed, 2 * round + 1), problem.constrained_parts());
  return s;
}

std::vector<double> boundary_jets(const data::HardDirichlet& hard, const data::BoundaryTargets::Set& s, int dim) {
  return hard.jets(boundary_inputs<double>(s, dim));
}

std::vector<double> residual_weights(const PinnSettings& settings, const Mat<const double>& x) {
  if (!settings.residual_weight) return {};
  const std::size_t n = x.extent(0), d = x.extent(1);
  std::vector<double> w(n);
  for (std::size_t p = 0; p < n; ++p) {
    double v[3] = {0, 0, 0};
    for (std::size_t k = 0; k < d && k < 3; ++k) v[k] = x(p, k);
    w[p] = settings.residual_weight->eval(v);
    if (!(w[p] >= 0) || !std::isfinite(w[p]))
      throw InputError("training.residual_weight: " + settings.residual_weight->text() + " is " +
                       std::to_string(w[p]) + " at (" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ", " +
                       std::to_string(v[2]) + "); weights must be finite and >= 0");
  }
  return w;
}

Mat<double> adaptive_points(const data::Problem& problem, const PinnSettings& settings, std::uint64_t round, int n,
                            const std::function<std::vector<double>(const Mat<const double>&)>& score) {
  const int dim = problem.dim;
  const int n_top = std::max(1, static_cast<int>(std::lround(settings.adaptive_fraction * n)));
  const int n_cand = settings.adaptive_candidates > 0 ? static_cast<int>(settings.adaptive_candidates) : 4 * n;
  mesh::InteriorOptions io;
  io.method = mesh::InteriorMethod::uniform;
  io.seed = 0x5eed0000ull + round * 7919ull + settings.seed;
  const Mat<double> cand = mesh::sample_interior(*problem.geometry, n_cand, io);
  std::vector<double> r = score(cand);
  const std::vector<double> w = residual_weights(settings, cand);
  for (std::size_t p = 0; p < w.size(); ++p) r[p] *= std::sqrt(w[p]);
  std::vector<int> idx(n_cand);
  std::iota(idx.begin(), idx.end(), 0);
  const int top = std::min(n_top, n_cand);
  std::partial_sort(idx.begin(), idx.begin() + top, idx.end(), [&](int a, int b) {
    return std::abs(r[a]) > std::abs(r[b]) || (std::abs(r[a]) == std::abs(r[b]) && a < b);
  });
  io.method = settings.method;
  io.seed = 0xabcd0000ull + round * 104729ull + settings.seed;
  const Mat<double> fresh = n - top > 0 ? mesh::sample_interior(*problem.geometry, n - top, io) : Mat<double>();
  Mat<double> x("kpde::pinn::adaptive_points", n, dim);
  for (int p = 0; p < top; ++p)
    for (int k = 0; k < dim; ++k) x(p, k) = cand(idx[p], k);
  for (int p = top; p < n; ++p)
    for (int k = 0; k < dim; ++k) x(p, k) = fresh(p - top, k);
  return x;
}

void save_points(io::H5File& f, const std::string& group, const Mat<double>& xi, const mesh::BoundarySamples& b,
                 std::uint64_t round) {
  f.write(group + "/interior", std::vector<double>(xi.data(), xi.data() + xi.size()), {xi.extent(0), xi.extent(1)});
  const std::size_t nb = b.x.extent(0), d = b.x.extent(1);
  if (nb > 0) {
    f.write(group + "/boundary", std::vector<double>(b.x.data(), b.x.data() + b.x.size()), {nb, d});
    f.write(group + "/normal", std::vector<double>(b.normal.data(), b.normal.data() + b.normal.size()), {nb, d});
    std::vector<double> part(nb);
    for (std::size_t q = 0; q < nb; ++q) part[q] = b.part(q);
    f.write(group + "/part", part, {nb});
  }
  f.set_attribute(group, "round", double(round));
}

PointSet load_points(const io::H5File& f, const std::string& group, const data::Problem& problem,
                     std::uint64_t* round) {
  const int dim = problem.dim;
  const auto bad = [&](const std::string& why) { throw InputError(f.path() + ": cannot resume: " + why); };
  *round = static_cast<std::uint64_t>(f.number_attribute(group, "round"));
  io::Shape shape;
  PointSet s;
  const auto xi = f.read(group + "/interior", &shape);
  if (shape.size() != 2 || shape[1] != static_cast<std::size_t>(dim)) bad("interior points have the wrong shape");
  s.interior = Mat<double>("kpde::pinn::interior", shape[0], shape[1]);
  std::copy(xi.begin(), xi.end(), s.interior.data());
  mesh::BoundarySamples& b = s.boundary;
  b.part_names = problem.geometry->part_names();
  if (f.exists(group + "/boundary")) {
    const auto xb = f.read(group + "/boundary", &shape);
    if (shape.size() != 2 || shape[1] != static_cast<std::size_t>(dim)) bad("boundary points have the wrong shape");
    const std::size_t nb = shape[0], d = shape[1];
    const auto nr = f.read_checked(group + "/normal", {nb, d});
    const auto pr = f.read_checked(group + "/part", {nb});
    b.x = Mat<double>("x", nb, d), b.normal = Mat<double>("n", nb, d), b.part = Vec<int>("part", nb);
    std::copy(xb.begin(), xb.end(), b.x.data());
    std::copy(nr.begin(), nr.end(), b.normal.data());
    for (std::size_t q = 0; q < nb; ++q) b.part(q) = static_cast<int>(pr[q]);
  } else {
    b.x = Mat<double>("x", 0, dim), b.normal = Mat<double>("n", 0, dim), b.part = Vec<int>("part", 0);
  }
  return s;
}

}  // namespace kpde::pinn
