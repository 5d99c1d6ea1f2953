#include "hypernet/emit.hpp"

#include <chrono>
#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "data/mms.hpp"
#include "hypernet/input.hpp"
#include "hypernet/model.hpp"
#include "hypernet/pool.hpp"

namespace kpde::hypernet {

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

/// Offsets of the engine's layout (network.hpp) for the target spec with width w.
struct Offsets {
  std::size_t W[4], b[4], Wo, bo, Wu, bu, Wv, bv, total;
  explicit Offsets(std::size_t w) {
    const std::size_t F = 22;
    std::size_t off = 0;
    for (int l = 0; l < 4; ++l) {
      W[l] = off, off += w * (l == 0 ? F : w);
      b[l] = off, off += w;
    }
    Wo = off, off += w;
    bo = off, off += 1;
    Wu = off, off += w * F;
    bu = off, off += w;
    Wv = off, off += w * F;
    bv = off, off += w;
    total = off;
  }
};

/// The least-squares rows of a spec (normalised by sigma): up to n_interior domain nodes
/// (drawn with seed) and every Dirichlet / Neumann node.
SamplePoints spec_points(const Spec& s, double sigma, int n_interior, std::uint64_t seed) {
  SamplePoints p;
  p.coefficients = s.coefficients;
  p.scale = sigma;
  const double inv = 1.0 / sigma;
  std::vector<std::size_t> inside;
  for (std::size_t q = 0; q < s.size(); ++q)
    if (s.domain_mask[q] > 0) inside.push_back(q);
  Rng rng(data::mix_seed(seed, 0x5eedULL));
  const std::size_t keep = std::min(inside.size(), static_cast<std::size_t>(n_interior));
  partial_shuffle(inside, keep, rng);
  const auto xy = [&](std::size_t q) {
    p.x.push_back(-1 + 2.0 * static_cast<double>(q % static_cast<std::size_t>(s.n)) / (s.n - 1));
    p.x.push_back(1 - 2.0 * static_cast<double>(q / static_cast<std::size_t>(s.n)) / (s.n - 1));
  };
  for (std::size_t k = 0; k < keep; ++k) xy(inside[k]), p.f.push_back(s.source[inside[k]] * inv);
  p.n_interior = static_cast<int>(keep);
  for (std::size_t q = 0; q < s.size(); ++q) {
    if (s.dirichlet_mask[q] == 0 && s.neumann_mask[q] == 0) continue;
    xy(q);
    p.g.push_back(s.dirichlet_mask[q] > 0 ? s.dirichlet_values[q] * inv : std::nan(""));
    p.h.push_back(s.neumann_mask[q] > 0 ? s.neumann_values[q] * inv : std::nan(""));
    p.normal.push_back(s.normals.empty() ? 0.0 : s.normals[2 * q]);
    p.normal.push_back(s.normals.empty() ? 0.0 : s.normals[2 * q + 1]);
    ++p.n_boundary;
  }
  return p;
}

/// The basis channels [N][5][32] of the hidden tensors of target parameters t at p's points.
std::vector<double> basis_channels(const std::vector<double>& t, const SamplePoints& p) {
  nn::Network<double> basis(target_spec(kTargetWidth));
  std::vector<double> bp(basis_size());
  basis_from_target(t.data(), bp.data());
  const std::size_t N = static_cast<std::size_t>(p.n_points());
  Arr3<double> x("x", 1, N, 2);
  for (std::size_t k = 0; k < N; ++k) x(0, k, 0) = p.x[2 * k], x(0, k, 1) = p.x[2 * k + 1];
  Arr4<double> phi("phi", 1, N, 5, static_cast<std::size_t>(kTargetWidth));
  basis.forward(Mat<const double>(bp.data(), 1, bp.size()), x, nn::ChannelSpec::diagonal(2), phi);
  return std::vector<double>(phi.data(), phi.data() + phi.size());
}

}  // namespace

std::vector<double> grid_channels(const std::vector<std::vector<double>>& members, int n) {
  const std::size_t nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  std::vector<double> out(5 * nn, 0.0);
  if (members.empty()) return out;
  nn::Network<double> net(target_spec(1));
  Arr3<double> x("x", 1, nn, 2);
  for (std::size_t q = 0; q < nn; ++q)
    x(0, q, 0) = -1 + 2.0 * static_cast<double>(q % static_cast<std::size_t>(n)) / (n - 1),
    x(0, q, 1) = 1 - 2.0 * static_cast<double>(q / static_cast<std::size_t>(n)) / (n - 1);
  Arr4<double> y("y", 1, nn, 5, 1);
  for (const std::vector<double>& m : members) {
    net.forward(Mat<const double>(m.data(), 1, m.size()), x, nn::ChannelSpec::diagonal(2), y);
    for (std::size_t q = 0; q < nn; ++q)
      for (int c = 0; c < 5; ++c) out[static_cast<std::size_t>(c) * nn + q] += y(0, q, c, 0);
  }
  return out;
}

Emitted emit(const TrainedHypernet& hn, const Spec& spec, const EmitOptions& o) {
  const double t0 = now_s();
  spec.validate();
  if (o.refine < 0 || o.refine > 64) throw InputError("hypernet: --refine must be in 0..64");
  Emitted out;
  const Model<float> model(hn.spec);
  std::vector<float> params(hn.params.begin(), hn.params.end());
  const int m = model.input_size();
  const std::size_t nn = spec.size();
  std::vector<double> sum(5 * nn, 0.0);  // channels of the current sum on the grid
  Spec cur = spec;
  // joint projection: every member's basis at the original spec's rows
  const double sigma0 = data_scale(spec);
  const SamplePoints rows0 = spec_points(spec, sigma0, o.n_interior, o.seed);
  std::vector<std::vector<double>> phis;
  for (int r = 0; r <= o.refine; ++r) {
    if (r > 0) {
      // the residual spec of the current sum
      for (std::size_t q = 0; q < nn; ++q) {
        const double u = sum[q], ux = sum[nn + q], uy = sum[2 * nn + q], uxx = sum[3 * nn + q], uyy = sum[4 * nn + q];
        cur.dirichlet_values[q] = spec.dirichlet_mask[q] > 0 ? spec.dirichlet_values[q] - u : 0.0;
        cur.neumann_values[q] =
            spec.neumann_mask[q] > 0 ? spec.neumann_values[q] - (spec.normals[2 * q] * ux + spec.normals[2 * q + 1] * uy) : 0.0;
        const auto& c = spec.coefficients;
        const double Lu = c[0] * u + c[1] * ux + c[2] * uy + c[3] * uxx + c[4] * uyy;
        cur.source[q] = spec.domain_mask[q] > 0 ? spec.source[q] - Lu : 0.0;
      }
    }
    const PreparedInput in = prepare_input(cur, hn.spec.input_pool);
    Arr4<float> grids("grids", 1, kInputChannels, static_cast<std::size_t>(m), static_cast<std::size_t>(m));
    Mat<float> cond("cond", 1, kCondInputs);
    stack_inputs<float>({&in}, grids, cond);
    Mat<float> t("t", 1, target_size());
    const double tm = now_s();
    model.forward(params.data(), grids, cond, t);
    out.model_seconds += now_s() - tm;
    std::vector<double> member(target_size());
    for (std::size_t k = 0; k < member.size(); ++k) member[k] = static_cast<double>(t(0, k));
    if (o.least_squares && o.joint) {
      // the output layers of all members so far by one least-squares fit of the
      // original spec's rows over their 32 (r + 1) basis functions and a shared bias
      phis.push_back(basis_channels(member, rows0));
      std::vector<const double*> ptr;
      for (const auto& ph : phis) ptr.push_back(ph.data());
      out.members.push_back(std::move(member));
      const std::vector<double> theta = least_squares_joint(rows0, ptr, o.loss);
      for (std::size_t k = 0; k < out.members.size(); ++k) {
        double layer[kOut];
        for (int j = 0; j < kTargetWidth; ++j) layer[j] = theta[k * kTargetWidth + static_cast<std::size_t>(j)];
        layer[kTargetWidth] = k == 0 ? theta.back() : 0.0;
        set_output_layer(layer, sigma0, out.members[k].data());
      }
      sum = grid_channels(out.members, spec.n);
    } else {
      std::array<double, kOut> theta{};
      if (o.least_squares) {
        const SamplePoints p = spec_points(cur, in.scale, o.n_interior, o.seed + static_cast<std::uint64_t>(r));
        theta = least_squares_output(p, basis_channels(member, p).data(), o.loss);
      } else {
        const TargetTensor &Wo = target_tensors()[6], &bo = target_tensors()[13];
        for (int j = 0; j < kTargetWidth; ++j) theta[static_cast<std::size_t>(j)] = member[Wo.offset + static_cast<std::size_t>(j)];
        theta[kTargetWidth] = member[bo.offset];
      }
      set_output_layer(theta.data(), in.scale, member.data());
      const std::vector<double> add = grid_channels({member}, spec.n);
      for (std::size_t k = 0; k < sum.size(); ++k) sum[k] += add[k];
      out.members.push_back(std::move(member));
    }
    // diagnostics of the sum so far
    RoundInfo info;
    info.scale = in.scale;
    double nf = 0, nd = 0, nnm = 0;
    for (std::size_t q = 0; q < nn; ++q) {
      const double u = sum[q], ux = sum[nn + q], uy = sum[2 * nn + q];
      const auto& c = spec.coefficients;
      const double Lu = c[0] * u + c[1] * ux + c[2] * uy + c[3] * sum[3 * nn + q] + c[4] * sum[4 * nn + q];
      if (spec.domain_mask[q] > 0) info.mse_f += (Lu - spec.source[q]) * (Lu - spec.source[q]), ++nf;
      if (spec.dirichlet_mask[q] > 0) info.mse_d += (u - spec.dirichlet_values[q]) * (u - spec.dirichlet_values[q]), ++nd;
      if (spec.neumann_mask[q] > 0) {
        const double dn = spec.normals[2 * q] * ux + spec.normals[2 * q + 1] * uy - spec.neumann_values[q];
        info.mse_n += dn * dn, ++nnm;
      }
    }
    info.mse_f /= std::max(nf, 1.0), info.mse_d /= std::max(nd, 1.0), info.mse_n /= std::max(nnm, 1.0);
    if (!spec.reference.empty()) {
      info.mse_reference = 0;
      for (std::size_t q = 0; q < nn; ++q) {
        const double e = sum[q] * spec.domain_mask[q] - spec.reference[q];
        info.mse_reference += e * e;
      }
      info.mse_reference /= static_cast<double>(nn);
    }
    out.rounds.push_back(info);
  }
  out.total_seconds = now_s() - t0;
  return out;
}

std::vector<double> Emitted::merged_params() const {
  const std::size_t M = members.size(), w = kTargetWidth, W = w * M, F = 22;
  const Offsets one(w), all(W);
  std::vector<double> p(all.total, 0.0);
  for (std::size_t k = 0; k < M; ++k) {
    const std::vector<double>& t = members[k];
    const std::size_t r0 = k * w;  // first row of this member's block
    for (std::size_t i = 0; i < w; ++i) {
      for (std::size_t j = 0; j < F; ++j) {
        p[all.W[0] + (r0 + i) * F + j] = t[one.W[0] + i * F + j];
        p[all.Wu + (r0 + i) * F + j] = t[one.Wu + i * F + j];
        p[all.Wv + (r0 + i) * F + j] = t[one.Wv + i * F + j];
      }
      for (int l = 1; l < 4; ++l)
        for (std::size_t j = 0; j < w; ++j) p[all.W[l] + (r0 + i) * W + r0 + j] = t[one.W[l] + i * w + j];
      for (int l = 0; l < 4; ++l) p[all.b[l] + r0 + i] = t[one.b[l] + i];
      p[all.bu + r0 + i] = t[one.bu + i];
      p[all.bv + r0 + i] = t[one.bv + i];
      p[all.Wo + r0 + i] = t[one.Wo + i];
    }
    p[all.bo] += t[one.bo];
  }
  return p;
}

nn::NetworkSpec Emitted::merged_spec() const {
  nn::NetworkSpec s = target_spec(1);
  s.width = kTargetWidth * static_cast<int>(members.size());
  return s;
}

std::string Emitted::merged_architecture() const {
  std::ostringstream o;
  o << "type: modified_mlp\nwidth: " << kTargetWidth * static_cast<int>(members.size())
    << "\ndepth: 4\nactivation: tanh\nfeatures: {type: fourier_fixed, n_frequencies: 5, base: 0.1, include_input: true}\n";
  return o.str();
}

io::ModelFile Emitted::model_file(const BoxMap& map, int time_axis, const std::string& description) const {
  io::ModelFile mf;
  mf.kind = "pinn";
  mf.precision = "float64";
  mf.architecture = merged_architecture();
  mf.coordinates = {"x", "y"};
  mf.time_axis = time_axis;
  mf.description = description;
  mf.params = merged_params();
  for (std::size_t k = 0; k < 2; ++k) {
    mf.input_offset.push_back(0.5 * (map.lo[k] + map.hi[k]));
    mf.input_scale.push_back(map.scale(static_cast<int>(k)));
    mf.domain_lo.push_back(map.lo[k]);
    mf.domain_hi.push_back(map.hi[k]);
  }
  return mf;
}

}  // namespace kpde::hypernet
