// `kpde generate CONFIG --out FILE.h5 -n N [--seed S] [--grid G] [--set key=value ...]`:
// random training samples (manufactured solutions, physics-only problems, Darcy flow)
// into one HDF5 dataset file (docs/datasets.md). Under mpirun the ranks generate
// disjoint index ranges in parallel; rank 0 writes. Sample i depends only on (config,
// seed, i), so the file is the same for any number of ranks.
#include <Kokkos_Core.hpp>
#include <mpi.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <thread>
#include <sys/stat.h>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "core/error.hpp"
#include "data/dataset.hpp"
#include "io/atomic_file.hpp"

namespace kpde::cli {

namespace {

struct GenerateJob {
  explicit GenerateJob(config::Document d) : doc(std::move(d)) {}
  config::Document doc;
  std::string kind;
  data::MmsSettings mms;
  data::DarcySettings darcy;
  bool float64 = false;
  int compression = 1;
  int batch = 8;
};

std::pair<long, long> min_max(config::Node sec, const std::string& key, long lo_default, long hi_default, long lo,
                              long hi) {
  config::Node r = sec.section(key);
  const long a = r.get_long_min("min", lo_default, lo, hi), b = r.get_long_min("max", hi_default, lo, hi);
  if (a > b) r.at("max").fail("max (" + std::to_string(b) + ") is below min (" + std::to_string(a) + ")");
  return {a, b};
}

std::pair<double, double> min_max_real(config::Node sec, const std::string& key, double lo_default,
                                       double hi_default) {
  config::Node r = sec.section(key);
  const double a = r.get_double("min", lo_default), b = r.get_double("max", hi_default);
  if (!(a <= b)) r.at("max").fail("max is below min");
  return {a, b};
}

void load_mms(config::Node m, data::MmsSettings& s) {
  std::tie(s.updates_min, s.updates_max) = min_max(m, "updates", 6, 10, 1, 64);
  config::Node ab = m.section("ab");
  s.ab_range = ab.get_double("range", s.ab_range);
  s.ab_zero_probability = ab.get_double("zero_probability", s.ab_zero_probability);
  s.cde_range = m.get_double("cde_range", s.cde_range);
  config::Node op = m.section("operator");
  std::tie(s.terms_min, s.terms_max) = min_max(op, "terms", 1, 3, 1, 5);
  s.coefficient_range = op.get_double_above("coefficient_range", s.coefficient_range, 0);
  if (auto c = op.find("classes")) {
    s.classes.clear();
    for (const auto& name : c->as_strings()) {
      try {
        s.classes.push_back(data::parse_operator_class(name));
      } catch (const InputError& e) {
        c->fail(e.what());
      }
    }
  }
  config::Node h = m.section("holes");
  std::tie(s.holes_min, s.holes_max) = min_max(h, "count", 0, 3, 0, 8);
  if (auto k = h.find("kinds")) {
    s.hole_kinds.clear();
    for (const auto& name : k->as_strings()) {
      try {
        s.hole_kinds.push_back(data::parse_hole_kind(name));
      } catch (const InputError& e) {
        k->fail(e.what());
      }
    }
  }
  std::tie(s.hole_size_min, s.hole_size_max) = min_max_real(h, "size", 0.1, 0.4);
  config::Node c = m.section("conditions");
  s.p_dirichlet = c.get_double("dirichlet", s.p_dirichlet);
  s.p_neumann = c.get_double("neumann", s.p_neumann);
  s.p_both = c.get_double("both", s.p_both);
  config::Node p = m.section("physics_only");
  s.physics_only_fraction = p.get_double("fraction", s.physics_only_fraction);
  s.source_range = p.get_double("source_range", s.source_range);
  std::tie(s.boundary_updates_min, s.boundary_updates_max) = min_max(p, "updates", 2, 4, 1, 64);
  config::Node r = m.section("reject");
  s.max_value = r.get_double_above("max_value", s.max_value, 0);
  s.min_std = r.get_double("min_std", s.min_std);
  s.max_source = r.get_double_above("max_source", s.max_source, 0);
  s.max_derivative = r.get_double_above("max_derivative", s.max_derivative, 0);
  s.max_attempts = static_cast<int>(r.get_long_min("max_attempts", s.max_attempts, 1, 1000000));
  config::Node pts = m.section("points");
  s.n_interior = static_cast<int>(pts.get_long_min("interior", s.n_interior, 0, 1000000));
  s.n_boundary = static_cast<int>(pts.get_long_min("boundary", s.n_boundary, 0, 1000000));
  try {
    s.validate();
  } catch (const InputError& e) {
    m.fail(e.what());
  }
}

void load_darcy(config::Node d, data::DarcySettings& s) {
  s.a_plus = d.get_double_above("a_plus", s.a_plus, 0);
  s.a_minus = d.get_double_above("a_minus", s.a_minus, 0);
  s.tau = d.get_double_above("tau", s.tau, 0);
  s.alpha = d.get_double_above("alpha", s.alpha, 0);
  s.source = d.get_double("source", s.source);
  s.solver = d.get_choice("solver", "auto", {"auto", "hypre", "gamg", "mumps", "ilu"});
  s.rtol = d.get_double_above("rtol", s.rtol, 0);
  try {
    s.validate();
  } catch (const InputError& e) {
    d.fail(e.what());
  }
}

GenerateJob load_job(const Args& args) {
  if (args.positional().empty()) throw InputError("generate: name a config file (kpde generate CONFIG --out FILE.h5 -n N)");
  GenerateJob job(config::Document::load_file(args.positional()[0]));
  for (const auto& a : args.all("--set")) job.doc.apply_override(a);
  if (args.has("--grid")) job.doc.apply_override("grid=" + std::to_string(args.integer("--grid", 0, 8)));
  config::Node root = job.doc.root();
  job.kind = root.get_choice("kind", {"mms", "darcy"});
  const bool darcy = job.kind == "darcy";
  const int grid = static_cast<int>(root.get_long_min("grid", darcy ? 64 : 224, 8, darcy ? 1025 : 4096));
  job.float64 = root.get_choice("precision", "float32", {"float32", "float64"}) == "float64";
  job.compression = static_cast<int>(root.get_long_min("compression", 1, 0, 9));
  job.batch = static_cast<int>(root.get_long_min("batch", darcy ? 16 : 8, 1, 4096));
  if (darcy) {
    job.darcy.grid = grid;
    load_darcy(root.section("darcy"), job.darcy);
  } else {
    job.mms.grid = grid;
    load_mms(root.section("mms"), job.mms);
  }
  job.doc.check_unused();
  return job;
}

/// Throws on every rank the message of the lowest rank that failed (or nothing).
void collective_check(const std::optional<std::string>& error, bool input_error, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int mine = error ? rank : size, first = size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return;
  int kind = input_error ? 2 : 1;
  MPI_Bcast(&kind, 1, MPI_INT, first, comm);
  std::string msg = error ? *error : std::string();
  long len = static_cast<long>(msg.size());
  MPI_Bcast(&len, 1, MPI_LONG, first, comm);
  msg.resize(static_cast<std::size_t>(len));
  MPI_Bcast(msg.data(), static_cast<int>(len), MPI_CHAR, first, comm);
  if (kind == 2) throw InputError(msg);
  throw Error(msg);
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int generate(int argc, char** argv, int first) {
  const Args args(argc, argv, first, "generate", {"--out", "-n", "--n", "--seed", "--grid", "--set", "--threads"},
                  {"--quiet"}, 1);
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (!args.has("--out")) throw InputError("generate: --out FILE.h5 is required");
  if (!args.has("-n") && !args.has("--n")) throw InputError("generate: -n N (the number of samples) is required");
  const long n = args.has("-n") ? args.integer("-n", 0, 1) : args.integer("--n", 0, 1);
  if (n > 100000000) throw InputError("generate: -n " + std::to_string(n) + " is above the limit of 10^8 samples");
  const long seed_arg = args.integer("--seed", 0, 0);
  const auto seed = static_cast<std::uint64_t>(seed_arg);
  const std::string out = args.str("--out", "");
  const bool quiet = args.has("--quiet");
  GenerateJob job = load_job(args);
  if (rank == 0 && !quiet) {
    const long threads = Kokkos::DefaultHostExecutionSpace::concurrency();
    const long cores = static_cast<long>(std::thread::hardware_concurrency());
    if (cores > 0 && threads * size > cores)
      std::fprintf(stderr,
                   "generate: note: %d rank(s) x %ld thread(s) exceed the %ld cores; under mpirun pass --threads 1\n",
                   size, threads, cores);
  }
  const bool darcy = job.kind == "darcy";
  const data::DatasetSchema schema =
      darcy ? data::darcy_schema(job.darcy, job.float64) : data::mms_schema(job.mms, job.float64);

  // rank 0 opens the output first: an unwritable path fails before any work
  std::unique_ptr<data::DatasetWriter> writer;
  {
    std::optional<std::string> err;
    bool input = true;
    if (rank == 0) {
      try {
        struct stat st {};
        if (::stat(out.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
          throw InputError("generate: --out '" + out + "' is a directory; name the .h5 file to write");
        writer = std::make_unique<data::DatasetWriter>(out, schema, n, job.compression);
      } catch (const InputError& e) {
        err = e.what();
      } catch (const Error& e) {
        err = e.what();
        input = false;
      }
    }
    collective_check(err, input, comm);
  }

  const double t0 = now_s();
  double last_print = t0;
  data::MmsStats stats;
  long darcy_iterations = 0;
  const long per_round = static_cast<long>(job.batch) * size;
  // The kernels inside a sample run in parallel over the host threads; under mpirun
  // the ranks make disjoint samples. Rank 0 writes round k on a second thread while
  // the ranks make round k + 1 (HDF5 is only ever called from one thread at a time).
  std::thread write_thread;
  struct JoinOnExit {  // an exception must not destroy a running std::thread
    std::thread& t;
    ~JoinOnExit() {
      if (t.joinable()) t.join();
    }
  } join_on_exit{write_thread};
  // A write failure (disk full) is reported at the next collective check, so that no
  // rank is left waiting in a collective while rank 0 stops.
  std::string write_error;
  std::atomic<bool> write_failed{false};
  auto writer_failure = [&](bool wait) -> std::optional<std::string> {
    if (rank != 0) return std::nullopt;
    if (wait || write_failed.load()) {
      if (write_thread.joinable()) write_thread.join();
      if (write_failed.load()) return write_error;
    }
    return std::nullopt;
  };
  for (long base = 0; base < n; base += per_round) {
    const long lo = std::min(n, base + static_cast<long>(rank) * job.batch);
    const long hi = std::min(n, lo + job.batch);
    std::vector<data::SampleRecord> records;
    std::optional<std::string> err = writer_failure(false);
    bool input = !err;
    // samples one after the other (PETSc solves and the host kernels stay on this thread);
    // the first failure stops the round and is reported collectively below
    for (long i = lo; i < hi && !err; ++i) {
      try {
        if (darcy) {
          const data::DarcySample d = data::generate_darcy_sample(job.darcy, seed, static_cast<std::uint64_t>(i));
          darcy_iterations += d.iterations;
          records.push_back(data::to_record(d));
        } else {
          records.push_back(data::to_record(data::generate_mms_sample(job.mms, seed, static_cast<std::uint64_t>(i), &stats)));
        }
      } catch (const InputError& e) {
        err = e.what();
      } catch (const std::exception& e) {
        err = e.what();
        input = false;
      }
    }
    collective_check(err, input, comm);
    if (size > 1) {
      // gather this round's samples on rank 0, in rank order = index order
      std::vector<char> bytes;
      for (const auto& rec : records) {
        const std::vector<char> one = data::pack(rec);
        const std::uint64_t len = one.size();
        bytes.insert(bytes.end(), reinterpret_cast<const char*>(&len), reinterpret_cast<const char*>(&len) + 8);
        bytes.insert(bytes.end(), one.begin(), one.end());
      }
      int my_len = static_cast<int>(bytes.size());
      std::vector<int> lens(static_cast<std::size_t>(size)), offs(static_cast<std::size_t>(size));
      MPI_Gather(&my_len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, comm);
      std::vector<char> all;
      if (rank == 0) {
        long total = 0;
        for (int r = 0; r < size; ++r) {
          offs[static_cast<std::size_t>(r)] = static_cast<int>(total);
          total += lens[static_cast<std::size_t>(r)];
        }
        if (total > 2000000000L) throw Error("generate: one round of samples exceeds 2 GB; lower batch");
        all.resize(static_cast<std::size_t>(total));
      }
      MPI_Gatherv(bytes.data(), my_len, MPI_CHAR, all.data(), lens.data(), offs.data(), MPI_CHAR, 0, comm);
      records.clear();
      std::size_t pos = 0;
      while (pos < all.size()) {
        std::uint64_t len = 0;
        std::memcpy(&len, all.data() + pos, 8);
        records.push_back(data::unpack(all.data() + pos + 8, static_cast<std::size_t>(len)));
        pos += 8 + static_cast<std::size_t>(len);
      }
    }
    if (rank == 0) {
      if (write_thread.joinable()) write_thread.join();
      write_thread = std::thread([&writer, &write_error, &write_failed, base, recs = std::move(records)]() {
        try {
          writer->write(base, recs);
        } catch (const std::exception& e) {
          write_error = e.what();
          write_failed = true;
        }
      });
      const long done = std::min(n, base + per_round);
      const double t = now_s();
      if (!quiet && (t - last_print > (isatty(2) ? 0.5 : 10.0) || done == n)) {
        const double rate = done / std::max(t - t0, 1e-9);
        std::fprintf(stderr, "generate: %ld/%ld samples, %.1f samples/s, ETA %.0f s\n", done, n, rate,
                     (n - done) / std::max(rate, 1e-9));
        last_print = t;
      }
    }
  }
  collective_check(writer_failure(true), false, comm);
  // totals over ranks
  long local[9] = {stats.attempts,         stats.accepted,         stats.rejected_value,
                   stats.rejected_std,     stats.rejected_source,  stats.rejected_derivative,
                   stats.rejected_nonfinite, stats.rejected_geometry, darcy_iterations};
  long total[9] = {};
  MPI_Reduce(local, total, 9, MPI_LONG, MPI_SUM, 0, comm);
  const double wall = now_s() - t0;
  if (rank == 0) {
    io::H5File& f = writer->file();
    f.set_attribute("/", "seed", static_cast<double>(seed_arg));
    f.set_attribute("/", "config", job.doc.resolved_text());
    f.set_attribute("/", "config_file", job.doc.file());
    f.set_attribute("/", "generator", "kpde generate 0.1.0");
    f.set_attribute("/", "mpi_ranks", static_cast<double>(size));
    f.set_attribute("/", "wall_s", wall);
    f.set_attribute("/", "samples_per_s", n / std::max(wall, 1e-9));
    if (!darcy) {
      f.set_attribute("/", "attempts", static_cast<double>(total[0]));
      const char* names[6] = {"rejected_value", "rejected_std", "rejected_source", "rejected_derivative",
                              "rejected_nonfinite", "rejected_geometry"};
      for (int k = 0; k < 6; ++k) f.set_attribute("/", names[k], static_cast<double>(total[2 + k]));
    }
    writer->close();
    std::printf("generate: wrote %ld %s samples (grid %d) to %s in %.2f s: %.1f samples/s on %d rank(s)\n", n,
                job.kind.c_str(), schema.grid, out.c_str(), wall, n / std::max(wall, 1e-9), size);
    if (!darcy)
      std::printf("generate: %.2f draws per sample; rejected: |u| %ld, std %ld, |f| %ld, derivative %ld, "
                  "non-finite %ld, holes %ld\n",
                  static_cast<double>(total[0]) / std::max<long>(total[1], 1), total[2], total[3], total[4], total[5],
                  total[6], total[7]);
    else
      std::printf("generate: %.1f Krylov iterations per solve\n", static_cast<double>(total[8]) / std::max<long>(n, 1));
  }
  return 0;
}

}  // namespace kpde::cli
