#include "operators/operator_data.hpp"

#include <mpi.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "data/darcy.hpp"
#include "data/dataset.hpp"
#include "data/generate.hpp"
#include "data/solution_output.hpp"
#include "io/model_file.hpp"

namespace kpde::operators {

namespace {

/// The uniform points j / (P - 1) of [0, 1], [P][1].
Mat<double> unit_points(long P) {
  Mat<double> y("kpde::operators::points", P, 1);
  for (long j = 0; j < P; ++j) y(j, 0) = P > 1 ? double(j) / double(P - 1) : 0.0;
  return y;
}

Mat<double> matrix(const std::vector<double>& v, long rows, const char* name) {
  const std::size_t cols = rows > 0 ? v.size() / static_cast<std::size_t>(rows) : 0;
  Mat<double> m(std::string(name), rows, cols);
  std::copy(v.begin(), v.end(), m.data());
  return m;
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

OperatorData read_operator_data(const std::string& path, bool multi_task) {
  const data::DatasetReader r(path);
  OperatorData d;
  d.kind = r.kind();
  const long N = r.n_samples();
  d.group.assign(static_cast<std::size_t>(N), 0);
  d.group_names = {d.kind};
  if (N == 0) throw InputError("the dataset '" + path + "' has no samples");
  if (d.kind == "antiderivative") {
    d.u = matrix(r.read("u", 0, N), N, "kpde::operators::u");
    d.s = matrix(r.read("s", 0, N), N, "kpde::operators::s");
    d.y = unit_points(static_cast<long>(d.s.extent(1)));
    d.x = unit_points(static_cast<long>(d.u.extent(1)));
  } else if (d.kind == "darcy") {
    const long n = r.grid(), n2 = n * n;
    if (!r.has("mask")) throw InputError("the dataset '" + path + "' has no field 'mask' (the domain of each sample)");
    const std::vector<double> a = r.read("permeability", 0, N), u = r.read("solution", 0, N),
                              mask = r.read("mask", 0, N);
    const int C = multi_task ? 2 : 1;
    d.image = {C, static_cast<int>(n), static_cast<int>(n)};
    d.u = Mat<double>("kpde::operators::u", N, C * n2);
    for (long b = 0; b < N; ++b)
      for (long k = 0; k < n2; ++k) {
        const std::size_t i = static_cast<std::size_t>(b * n2 + k);
        if (!(a[i] > 0)) throw InputError("the dataset '" + path + "': permeability <= 0 in sample " + std::to_string(b));
        d.u(b, k) = std::log(a[i]);
        if (multi_task) d.u(b, n2 + k) = mask[i];
      }
    d.s = matrix(u, N, "kpde::operators::s");
    if (multi_task) {  // the output mask: the interior nodes, where u is free (u = 0 at the others)
      d.mask = Mat<double>("kpde::operators::mask", N, n2);
      for (long b = 0; b < N; ++b) {
        const std::vector<double> mb(mask.begin() + b * n2, mask.begin() + (b + 1) * n2);
        const std::vector<double> in = data::darcy_interior(mb, static_cast<int>(n));
        for (long k = 0; k < n2; ++k) d.mask(b, k) = in[static_cast<std::size_t>(k)];
      }
    }
    d.y = Mat<double>("kpde::operators::points", n2, 2);
    for (long i = 0; i < n; ++i)
      for (long j = 0; j < n; ++j) d.y(i * n + j, 0) = double(j) / double(n - 1), d.y(i * n + j, 1) = 1 - double(i) / double(n - 1);
    if (r.file().has_attribute("/", "geometry")) d.group_names = {r.file().string_attribute("/", "geometry")};
  } else if (d.kind == "fisher") {
    const std::vector<double> c = r.read("coefficients", 0, N), u0 = r.read("u0", 0, N), u = r.read("u", 0, N),
                              task = r.read("task", 0, N);
    const std::vector<double> xs = r.file().numbers_attribute("/", "x"), ts = r.file().numbers_attribute("/", "t");
    const long P = static_cast<long>(xs.size()), T = static_cast<long>(ts.size());
    if (static_cast<long>(u0.size()) != N * P || static_cast<long>(u.size()) != N * T * P)
      throw InputError("the dataset '" + path + "': u0 and u do not fit the attributes x [" + std::to_string(P) + "] and t [" +
                       std::to_string(T) + "]");
    d.u = Mat<double>("kpde::operators::u", N, 4 + P);
    for (long b = 0; b < N; ++b) {
      for (int k = 0; k < 4; ++k) d.u(b, k) = c[static_cast<std::size_t>(b * 4 + k)];
      for (long i = 0; i < P; ++i) d.u(b, 4 + i) = u0[static_cast<std::size_t>(b * P + i)];
    }
    d.s = matrix(u, N, "kpde::operators::s");
    d.y = Mat<double>("kpde::operators::points", T * P, 2);
    for (long j = 0; j < T; ++j)
      for (long i = 0; i < P; ++i) d.y(j * P + i, 0) = xs[static_cast<std::size_t>(i)], d.y(j * P + i, 1) = ts[static_cast<std::size_t>(j)];
    d.group_names = {"form1", "form2", "form3"};
    for (long b = 0; b < N; ++b) {
      const int t = static_cast<int>(task[static_cast<std::size_t>(b)]);
      if (t < 0 || t > 2) throw InputError("the dataset '" + path + "': task " + std::to_string(t) + " (expected 0, 1 or 2)");
      d.group[static_cast<std::size_t>(b)] = t;
    }
  } else {
    throw InputError("the dataset '" + path + "' holds " + d.kind +
                     " samples; DeepONets read antiderivative, darcy and fisher data");
  }
  return d;
}

OperatorData concatenate(const std::vector<OperatorData>& parts, const std::string& where) {
  KPDE_REQUIRE(!parts.empty(), InputError, where + ": no data");
  if (parts.size() == 1) return parts[0];
  const OperatorData& a = parts[0];
  long N = 0;
  for (const OperatorData& p : parts) {
    const bool same = p.kind == a.kind && p.u.extent(1) == a.u.extent(1) && p.s.extent(1) == a.s.extent(1) &&
                      p.y.extent(0) == a.y.extent(0) && p.y.extent(1) == a.y.extent(1) &&
                      (p.mask.extent(0) > 0) == (a.mask.extent(0) > 0) && p.image == a.image;
    if (!same)
      throw InputError(where + ": the entries' data differ (kind, sensors, points or mask): " + a.kind + " [" +
                       std::to_string(a.u.extent(1)) + " sensors, " + std::to_string(a.s.extent(1)) + " outputs] vs " +
                       p.kind + " [" + std::to_string(p.u.extent(1)) + ", " + std::to_string(p.s.extent(1)) + "]");
    N += p.n_samples();
  }
  OperatorData d;
  d.kind = a.kind;
  d.y = a.y;
  d.x = a.x;
  d.image = a.image;
  d.u = Mat<double>("kpde::operators::u", N, a.u.extent(1));
  d.s = Mat<double>("kpde::operators::s", N, a.s.extent(1));
  if (a.mask.extent(0) > 0) d.mask = Mat<double>("kpde::operators::mask", N, a.mask.extent(1));
  long row = 0;
  for (const OperatorData& p : parts) {
    const long n = p.n_samples();
    std::copy(p.u.data(), p.u.data() + p.u.size(), d.u.data() + row * d.u.extent(1));
    std::copy(p.s.data(), p.s.data() + p.s.size(), d.s.data() + row * d.s.extent(1));
    if (d.mask.extent(0) > 0) std::copy(p.mask.data(), p.mask.data() + p.mask.size(), d.mask.data() + row * d.mask.extent(1));
    // groups by name across the entries
    for (long b = 0; b < n; ++b) {
      const std::string& name = p.group_names[static_cast<std::size_t>(p.group[static_cast<std::size_t>(b)])];
      auto it = std::find(d.group_names.begin(), d.group_names.end(), name);
      if (it == d.group_names.end()) it = d.group_names.insert(d.group_names.end(), name);
      d.group.push_back(static_cast<int>(it - d.group_names.begin()));
    }
    row += n;
  }
  return d;
}

namespace {

/// One entry of a split.
OperatorData load_entry(const config::Node& e, const std::string& default_generate, const std::string& cache,
                        bool multi_task, const config::Document& doc) {
  OperatorData d;
  if (e.has("file")) {
    if (e.has("generate") || e.has("n") || e.has("seed") || e.has("set"))
      e.fail("give `file:`, or `generate:` (with `set:`), `n:` and `seed:`, not both");
    const std::string path = doc.resolve_path(e.get_string("file"));
    d = e.at("file").check([&] { return read_operator_data(path, multi_task); });
  } else {
    const std::string gpath = e.has("generate") ? doc.resolve_path(e.get_string("generate")) : default_generate;
    if (gpath.empty()) e.fail("give `file:`, or `n:` and `seed:` with a generate config (here or data.generate)");
    const long N = e.get_long_min("n", 1000, 1, 10000000);
    const auto seed = static_cast<std::uint64_t>(e.get_long_min("seed", 1, 0, 1L << 52));
    config::Document g = config::Document::load_file(gpath);
    if (auto st = e.find("set"))  // overrides of the generate config: {darcy.geometry: disk, grid: 32}
      for (const std::string& key : st->keys()) {
        const config::Node v = st->at(key);
        const std::string value = v.is_scalar() ? v.as_string() : config::emit_yaml(v.yaml());
        st->at(key).check([&] { g.apply_override(key + "=" + value); });
      }
    const data::GenerateConfig gen = data::load_generate_config(g.root());
    g.check_unused();
    // the cache file: the kind, n, seed and a fingerprint of the resolved generate config
    const std::string key = g.resolved_text() + "\nn: " + std::to_string(N) + "\nseed: " + std::to_string(seed) + "\n";
    const std::string path = cache + "/" + gen.kind + "-n" + std::to_string(N) + "-seed" + std::to_string(seed) + "-" +
                             io::fingerprint(key) + ".h5";
    int have = exists(path) ? 1 : 0;
    MPI_Bcast(&have, 1, MPI_INT, 0, MPI_COMM_WORLD);  // rank 0 decides for every rank
    if (!have) {
      int rank = 0;
      MPI_Comm_rank(MPI_COMM_WORLD, &rank);
      if (rank == 0) {
        data::make_output_directory(cache);
        std::fprintf(stderr, "kpde train: generating %ld %s samples (seed %llu) into %s\n", N, gen.kind.c_str(),
                     static_cast<unsigned long long>(seed), path.c_str());
      }
      data::generate_dataset(gen, g.resolved_text(), gpath, path, N, seed, true, MPI_COMM_WORLD);
    }
    d = read_operator_data(path, multi_task);
  }
  if (e.has("name")) {
    d.group_names.assign(1, e.get_string("name"));
    d.group.assign(static_cast<std::size_t>(d.n_samples()), 0);
  }
  return d;
}

}  // namespace

OperatorData load_operator_split(const config::Node& split, const std::string& default_generate,
                                 const std::string& cache, bool multi_task, const config::Document& doc) {
  std::vector<OperatorData> parts;
  if (split.is_list()) {
    for (std::size_t i = 0; i < split.size(); ++i) parts.push_back(load_entry(split[i], default_generate, cache, multi_task, doc));
  } else {
    parts.push_back(load_entry(split, default_generate, cache, multi_task, doc));
  }
  return split.check([&] { return concatenate(parts, "the split's entries"); });
}

}  // namespace kpde::operators
