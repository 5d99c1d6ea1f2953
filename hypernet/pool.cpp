#include "hypernet/pool.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "io/hdf5.hpp"

namespace kpde::hypernet {

void PoolSettings::validate() const {
  if (mms.grid != kGrid) throw InputError("data.mms: the hypernetwork's samples need grid " + std::to_string(kGrid));
  if (size < 1) throw InputError("data.pool must be >= 1");
  if (refresh < 0 || refresh > size) throw InputError("data.refresh must be in 0..pool");
  if (n_interior < 1 || n_boundary < 1) throw InputError("data.points: interior and boundary must be >= 1");
  if (stored_interior < n_interior) throw InputError("data.stored_interior must be >= data.points.interior");
  mms.validate();
}

PoolEntry make_entry(const data::MmsSample& sample, std::uint64_t index, int pool, int stored_interior,
                     std::uint64_t seed) {
  const Spec spec = spec_from_sample(sample, "sample " + std::to_string(index));
  PoolEntry e;
  e.index = index;
  e.input = prepare_input(spec, pool);
  e.coefficients = spec.coefficients;
  e.supervised = sample.has_solution;
  const double inv = 1.0 / e.input.scale;
  const int n = spec.n;
  const auto xy = [n](std::size_t q, float* out) {
    out[0] = static_cast<float>(-1 + 2.0 * static_cast<double>(q % static_cast<std::size_t>(n)) / (n - 1));
    out[1] = static_cast<float>(1 - 2.0 * static_cast<double>(q / static_cast<std::size_t>(n)) / (n - 1));
  };
  std::vector<std::size_t> inside;
  for (std::size_t q = 0; q < spec.size(); ++q)
    if (spec.domain_mask[q] > 0) inside.push_back(q);
  Rng rng(data::mix_seed(seed, index, 0x1e7ULL));
  // a random subset of stored_interior nodes
  const std::size_t keep = std::min(inside.size(), static_cast<std::size_t>(stored_interior));
  partial_shuffle(inside, keep, rng);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  e.interior.resize(8 * keep);
  for (std::size_t k = 0; k < keep; ++k) {
    const std::size_t q = inside[k];
    float* row = &e.interior[8 * k];
    xy(q, row);
    row[2] = static_cast<float>(spec.source[q] * inv);
    const std::vector<double>* jet[5] = {&sample.u, &sample.u_x, &sample.u_y, &sample.u_xx, &sample.u_yy};
    for (int c = 0; c < 5; ++c) row[3 + c] = e.supervised ? static_cast<float>((*jet[c])[q] * inv) : nan;
  }
  for (std::size_t q = 0; q < spec.size(); ++q) {
    if (spec.dirichlet_mask[q] == 0 && spec.neumann_mask[q] == 0) continue;
    float row[6];
    xy(q, row);
    row[2] = spec.dirichlet_mask[q] > 0 ? static_cast<float>(spec.dirichlet_values[q] * inv) : nan;
    row[3] = spec.neumann_mask[q] > 0 ? static_cast<float>(spec.neumann_values[q] * inv) : nan;
    row[4] = static_cast<float>(spec.normals[2 * q]);
    row[5] = static_cast<float>(spec.normals[2 * q + 1]);
    e.boundary.insert(e.boundary.end(), row, row + 6);
  }
  return e;
}

void partial_shuffle(std::vector<std::size_t>& v, std::size_t keep, Rng& rng) {
  const std::size_t n = v.size();
  for (std::size_t k = 0; k < keep && k < n; ++k) {
    const std::size_t r = k + std::min(n - k - 1, static_cast<std::size_t>(rng.uniform() * static_cast<double>(n - k)));
    std::swap(v[k], v[r]);
  }
}

SamplePoints draw_points(const PoolEntry& e, int n_interior, int n_boundary, Rng& rng) {
  SamplePoints s;
  s.coefficients = e.coefficients;
  s.scale = e.input.scale;
  s.n_interior = n_interior;
  s.n_boundary = n_boundary;
  s.x.reserve(2 * static_cast<std::size_t>(n_interior + n_boundary));
  const std::size_t K = e.interior.size() / 8, M = e.boundary.size() / 6;
  KPDE_REQUIRE(K > 0, Error, "draw_points: a sample without interior nodes");
  // distinct nodes while there are enough (partial shuffle of an index list), else with repetition
  const auto pick = [&rng](std::size_t n, int count) {
    std::vector<std::size_t> idx;
    if (static_cast<std::size_t>(count) <= n) {
      idx.resize(n);
      for (std::size_t k = 0; k < n; ++k) idx[k] = k;
      partial_shuffle(idx, static_cast<std::size_t>(count), rng);
      idx.resize(static_cast<std::size_t>(count));
    } else {
      for (int k = 0; k < count; ++k) idx.push_back(std::min(n - 1, static_cast<std::size_t>(rng.uniform() * static_cast<double>(n))));
    }
    return idx;
  };
  for (std::size_t k : pick(K, n_interior)) {
    const float* r = &e.interior[8 * k];
    s.x.push_back(r[0]), s.x.push_back(r[1]);
    s.f.push_back(r[2]);
    if (e.supervised)
      for (int c = 0; c < 5; ++c) s.truth.push_back(r[3 + c]);
  }
  if (M == 0) {
    for (int k = 0; k < n_boundary; ++k) {
      s.x.push_back(0), s.x.push_back(0);
      s.g.push_back(std::nan("")), s.h.push_back(std::nan(""));
      s.normal.push_back(0), s.normal.push_back(0);
    }
  } else {
    for (std::size_t k : pick(M, n_boundary)) {
      const float* r = &e.boundary[6 * k];
      s.x.push_back(r[0]), s.x.push_back(r[1]);
      s.g.push_back(r[2]), s.h.push_back(r[3]);
      s.normal.push_back(r[4]), s.normal.push_back(r[5]);
    }
  }
  return s;
}

namespace {

/// Generates the samples of `jobs` (slot, stream index) into out[slot], one after the
/// other: the generator's grid work runs in parallel inside (Kokkos), and Kokkos
/// kernels may not be launched from inside a parallel region.
void generate(const PoolSettings& st, int input_pool, std::uint64_t seed, const std::vector<std::pair<int, std::uint64_t>>& jobs,
              std::vector<PoolEntry>& out) {
  for (const auto& [slot, index] : jobs) {
    try {
      const data::MmsSample s = data::generate_mms_sample(st.mms, seed, index);
      out[static_cast<std::size_t>(slot)] = make_entry(s, index, input_pool, st.stored_interior, seed);
    } catch (const InputError& e) {
      throw InputError("hypernetwork training data: sample " + std::to_string(index) + ": " + e.what());
    }
  }
}

}  // namespace

SamplePool::SamplePool(PoolSettings settings, int input_pool) : settings_(std::move(settings)), input_pool_(input_pool) {
  settings_.validate();
  entries_.resize(static_cast<std::size_t>(settings_.size));
  std::vector<std::pair<int, std::uint64_t>> jobs;
  for (int s = 0; s < settings_.size; ++s) jobs.emplace_back(s, next_++);
  fill(jobs);
}

void SamplePool::fill(const std::vector<std::pair<int, std::uint64_t>>& jobs) {
  generate(settings_, input_pool_, settings_.seed, jobs, entries_);
}

void SamplePool::refresh(long step) {
  std::vector<std::pair<int, std::uint64_t>> jobs;
  for (int r = 0; r < settings_.refresh; ++r) {
    const long slot = (step * settings_.refresh + r) % settings_.size;
    jobs.emplace_back(static_cast<int>(slot), next_++);
  }
  if (!jobs.empty()) fill(jobs);
}

std::vector<const PoolEntry*> SamplePool::batch(long step, int B, std::vector<SamplePoints>& points) const {
  std::vector<const PoolEntry*> out;
  points.clear();
  Rng pick(data::mix_seed(settings_.seed, static_cast<std::uint64_t>(step), 0xba7c4ULL));
  for (int b = 0; b < B; ++b) {
    const std::size_t slot = std::min(entries_.size() - 1, static_cast<std::size_t>(pick.uniform() * static_cast<double>(entries_.size())));
    out.push_back(&entries_[slot]);
    Rng rng(data::mix_seed(settings_.seed, static_cast<std::uint64_t>(step), 0x9017ULL + static_cast<std::uint64_t>(b)));
    points.push_back(draw_points(entries_[slot], settings_.n_interior, settings_.n_boundary, rng));
  }
  return out;
}

void SamplePool::save(io::H5File& file, const std::string& group) const {
  std::vector<double> idx;
  for (const PoolEntry& e : entries_) idx.push_back(static_cast<double>(e.index));
  file.write(group + "/slots", idx, {idx.size()});
  file.set_attribute(group + "/slots", "next", static_cast<double>(next_));
}

void SamplePool::load(const io::H5File& file, const std::string& group) {
  const std::vector<double> idx = file.read_checked(group + "/slots", {static_cast<std::size_t>(settings_.size)});
  next_ = static_cast<std::uint64_t>(file.number_attribute(group + "/slots", "next"));
  std::vector<std::pair<int, std::uint64_t>> jobs;
  for (std::size_t s = 0; s < idx.size(); ++s)
    if (entries_[s].index != static_cast<std::uint64_t>(idx[s])) jobs.emplace_back(static_cast<int>(s), static_cast<std::uint64_t>(idx[s]));
  fill(jobs);
}

std::vector<PoolEntry> make_entries(const PoolSettings& settings, int input_pool, std::uint64_t seed, std::uint64_t first,
                                    int n) {
  std::vector<PoolEntry> out(static_cast<std::size_t>(n));
  std::vector<std::pair<int, std::uint64_t>> jobs;
  for (int k = 0; k < n; ++k) jobs.emplace_back(k, first + static_cast<std::uint64_t>(k));
  generate(settings, input_pool, seed, jobs, out);
  return out;
}

}  // namespace kpde::hypernet
