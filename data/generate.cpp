#include "data/generate.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>
#include <utility>

#include "core/error.hpp"

namespace kpde::data {

namespace {

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

/// Parses a list of names with `parse`, failing at the list's node.
template <class E, class Parse>
std::vector<E> parse_names(const config::Node& list, Parse parse) {
  std::vector<E> out;
  for (const auto& name : list.as_strings()) out.push_back(list.check([&] { return parse(name); }));
  return out;
}

}  // namespace

void load_mms_settings(config::Node m, MmsSettings& s) {
  std::tie(s.updates_min, s.updates_max) = min_max(m, "updates", 6, 10, 1, 64);
  config::Node ab = m.section("ab");
  s.ab_range = ab.get_double("range", s.ab_range);
  s.ab_zero_probability = ab.get_double("zero_probability", s.ab_zero_probability);
  s.cde_range = m.get_double("cde_range", s.cde_range);
  config::Node op = m.section("operator");
  std::tie(s.terms_min, s.terms_max) = min_max(op, "terms", 1, 3, 1, 5);
  s.coefficient_range = op.get_double_above("coefficient_range", s.coefficient_range, 0);
  if (auto c = op.find("classes")) s.classes = parse_names<OperatorClass>(*c, parse_operator_class);
  config::Node h = m.section("holes");
  std::tie(s.holes_min, s.holes_max) = min_max(h, "count", 0, 3, 0, 8);
  if (auto k = h.find("kinds")) s.hole_kinds = parse_names<HoleKind>(*k, parse_hole_kind);
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
  s.band_half_width = m.get_double_above("band_half_width", s.band_half_width, 0);
  m.check([&] { s.validate(); });
}

namespace {

void load_darcy(config::Node d, DarcySettings& s) {
  s.geometry = parse_darcy_geometry(d.get_choice("geometry", "square", darcy_geometries()));
  s.a_plus = d.get_double_above("a_plus", s.a_plus, 0);
  s.a_minus = d.get_double_above("a_minus", s.a_minus, 0);
  s.tau = d.get_double_above("tau", s.tau, 0);
  s.alpha = d.get_double_above("alpha", s.alpha, 0);
  s.source = d.get_double("source", s.source);
  s.solver = d.get_choice("solver", "auto", {"auto", "hypre", "gamg", "mumps", "ilu"});
  s.rtol = d.get_double_above("rtol", s.rtol, 0);
  d.check([&] { s.validate(); });
}

void load_fisher(config::Node f, FisherSettings& s) {
  s.points = static_cast<int>(f.get_long_min("points", s.points, 2, 10000));
  s.times = static_cast<int>(f.get_long_min("times", s.times, 2, 10000));
  s.diffusion = f.get_double("diffusion", s.diffusion);
  if (!(s.diffusion >= 0)) f.at("diffusion").fail("must be >= 0");
  if (auto list = f.find("forms")) {
    if (!list->is_list() || list->size() == 0) list->fail("expected a list of reaction forms (1, 2 or 3), e.g. [1, 2, 3]");
    s.forms.clear();
    for (std::size_t k = 0; k < list->size(); ++k) {
      const config::Node e = (*list)[k];
      const long form = e.as_long();
      if (form < 1 || form > 3) e.fail("a reaction form must be 1, 2 or 3, got " + std::to_string(form));
      s.forms.push_back(static_cast<int>(form));
    }
  }
  std::tie(s.a_min, s.a_max) = min_max_real(f, "a", s.a_min, s.a_max);
  if (!(s.a_min >= 0)) f.section("a").at("min").fail("must be >= 0");
  std::tie(s.beta_min, s.beta_max) = min_max_real(f, "beta", s.beta_min, s.beta_max);
  config::Node ic = f.section("ic");
  s.ic_scale = ic.get_double_above("scale", s.ic_scale, 0);
  s.ic_tau = ic.get_double_above("tau", s.ic_tau, 0);
  s.ic_alpha = ic.get_double_above("alpha", s.ic_alpha, 0);
  s.refine = static_cast<int>(f.get_long_min("refine", s.refine, 1, 64));
  s.time_refine = static_cast<int>(f.get_long_min("time_refine", s.time_refine, 1, 1024));
  f.check([&] { s.validate(); });
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

/// Runs f() and returns its failure as (message, is-input-error), or nothing.
template <class F>
std::pair<std::optional<std::string>, bool> capture(const F& f) {
  try {
    f();
  } catch (const InputError& e) {
    return {e.what(), true};
  } catch (const std::exception& e) {
    return {e.what(), false};
  }
  return {std::nullopt, true};
}

/// The shared sample counter of a run: take() hands out the next sample index to
/// whichever rank asks first (an MPI one-sided fetch-and-add on a window of rank 0), so
/// that a rank that drew quick samples takes more of them (samples cost from one draw to
/// thousands); stop() makes every later take() return n or more. Sample i is a pure
/// function of (config, seed, i): which rank makes it does not change the file.
/// Construction and close() are collective; nothing between them may skip close().
class WorkCounter {
 public:
  WorkCounter(MPI_Comm comm, long n) : n_(n) {
    MPI_Comm_size(comm, &size_);
    MPI_Comm_rank(comm, &rank_);
    if (size_ == 1) return;
    long* base = nullptr;
    MPI_Win_allocate(rank_ == 0 ? static_cast<MPI_Aint>(sizeof(long)) : 0, static_cast<int>(sizeof(long)),
                     MPI_INFO_NULL, comm, &base, &win_);
    if (rank_ == 0) *base = 0;
    MPI_Win_lock_all(0, win_);
    MPI_Win_sync(win_);
    MPI_Barrier(comm);
  }
  WorkCounter(const WorkCounter&) = delete;
  WorkCounter& operator=(const WorkCounter&) = delete;
  ~WorkCounter() { close(); }
  long take() {
    if (size_ == 1) return next_++;
    const long one = 1;
    long index = 0;
    MPI_Fetch_and_op(&one, &index, MPI_LONG, 0, 0, MPI_SUM, win_);
    MPI_Win_flush(0, win_);
    return index;
  }
  void stop() {
    if (size_ == 1) {
      next_ = n_;
      return;
    }
    long old = 0;
    MPI_Fetch_and_op(&n_, &old, MPI_LONG, 0, 0, MPI_SUM, win_);
    MPI_Win_flush(0, win_);
  }
  void close() {
    if (win_ == MPI_WIN_NULL) return;
    MPI_Win_unlock_all(win_);
    MPI_Win_free(&win_);
  }

 private:
  long n_;
  int rank_ = 0, size_ = 1;
  long next_ = 0;
  MPI_Win win_ = MPI_WIN_NULL;
};

constexpr int kTagSample = 7101, kTagDone = 7102;

/// A DatasetWriter fed from a second thread: write() returns at once and the previous
/// write is joined first (HDF5 is only ever called from one thread at a time). Samples
/// arrive in index order, either encoded by the ranks that made them or as records that
/// the thread encodes (one process: the compression then overlaps the next round's
/// samples). A failed write (disk full) is kept and reported by failure().
class AsyncWriter {
 public:
  AsyncWriter(const std::string& path, const DatasetSchema& schema, long n, int gzip_level)
      : writer_(path, schema, n, gzip_level), schema_(schema) {}
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;
  ~AsyncWriter() { join(); }  // an exception must not destroy a running std::thread

  /// Samples first, first + 1, ...: `records` to encode here, then `encoded` ones.
  void write(long first, std::vector<SampleRecord> records, std::vector<EncodedSample> encoded) {
    join();
    if (failed_.load()) return;
    busy_ = true;
    thread_ = std::thread([this, first, recs = std::move(records), encs = std::move(encoded)]() {
      struct Idle {
        std::atomic<bool>& busy;
        ~Idle() { busy = false; }
      } idle{busy_};
      try {
        if (first != appended_) throw Error("generate: samples reached the writer out of order");
        for (const auto& r : recs) writer_.append(encode(r, schema_, writer_.gzip_level()));
        for (const auto& e : encs) writer_.append(e);
        appended_ += static_cast<long>(recs.size() + encs.size());
      } catch (const std::exception& e) {
        error_ = e.what();
        failed_ = true;
      }
    });
  }
  /// The message of a failed write, if any (waits for the running write when `wait`).
  std::optional<std::string> failure(bool wait) {
    if (wait || failed_.load()) join();
    if (failed_.load()) return error_;
    return std::nullopt;
  }
  /// Whether a write is still running.
  bool busy() const { return busy_.load(); }
  /// The file, for the final attributes (after failure(true)).
  DatasetWriter& writer() { return writer_; }

 private:
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  DatasetWriter writer_;
  DatasetSchema schema_;
  long appended_ = 0;
  std::thread thread_;
  std::string error_;
  std::atomic<bool> failed_{false};
  std::atomic<bool> busy_{false};
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

DatasetSchema GenerateConfig::schema() const {
  if (kind == "antiderivative") return antiderivative_schema(antiderivative, float64);
  if (kind == "fisher") return fisher_schema(fisher, float64);
  return kind == "darcy" ? darcy_schema(darcy, float64) : mms_schema(mms, float64);
}

GenerateConfig load_generate_config(config::Node root) {
  GenerateConfig c;
  c.kind = root.get_choice("kind", {"mms", "darcy", "antiderivative", "fisher"});
  c.float64 = root.get_choice("precision", "float32", {"float32", "float64"}) == "float64";
  c.compression = static_cast<int>(root.get_long_min("compression", 1, 0, 9));
  if (c.kind == "antiderivative") {  // 1-D: sensors and points instead of a grid
    c.batch = static_cast<int>(root.get_long_min("batch", 256, 1, 1 << 20));
    const config::Node a = root.section("antiderivative");
    AntiderivativeSettings& s = c.antiderivative;
    s.sensors = static_cast<int>(a.get_long_min("sensors", s.sensors, 2, 10000));
    s.points = static_cast<int>(a.get_long_min("points", s.points, 2, 10000));
    s.length_scale = a.get_double_above("length_scale", s.length_scale, 0);
    s.refine = static_cast<int>(a.get_long_min("refine", s.refine, 1, 100));
    a.check([&] { s.validate(); });
    return c;
  }
  if (c.kind == "fisher") {  // 1-D in space: points and times instead of a grid
    c.batch = static_cast<int>(root.get_long_min("batch", 64, 1, 1 << 20));
    load_fisher(root.section("fisher"), c.fisher);
    return c;
  }
  const bool darcy = c.kind == "darcy";
  const int grid = static_cast<int>(root.get_long_min("grid", darcy ? 64 : 224, 8, darcy ? 1025 : 4096));
  c.batch = static_cast<int>(root.get_long_min("batch", darcy ? 16 : 8, 1, 4096));
  if (darcy) {
    c.darcy.grid = grid;
    load_darcy(root.section("darcy"), c.darcy);
  } else {
    c.mms.grid = grid;
    load_mms_settings(root.section("mms"), c.mms);
  }
  return c;
}

GenerateReport generate_dataset(const GenerateConfig& config, const std::string& resolved_config,
                                const std::string& config_file, const std::string& out, long n,
                                std::uint64_t seed, bool quiet, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const bool darcy = config.kind == "darcy";
  const DatasetSchema schema = config.schema();

  // rank 0 opens the output first: an unwritable path fails before any work
  std::unique_ptr<AsyncWriter> writer;
  {
    const auto [err, input] = capture([&] {
      if (rank != 0) return;
      struct stat st {};
      if (::stat(out.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw InputError("generate: --out '" + out + "' is a directory; name the .h5 file to write");
      writer = std::make_unique<AsyncWriter>(out, schema, n, config.compression);
    });
    collective_check(err, input, comm);
  }
  const auto writer_failure = [&](bool wait) -> std::optional<std::string> {
    return writer ? writer->failure(wait) : std::nullopt;
  };

  // the level every rank compresses its chunks at (the writer stores them as they are)
  const int gzip_level = config.compression > 0 && io::deflate_available() ? std::min(config.compression, 9) : 0;
  if (writer && writer->writer().gzip_level() != gzip_level) throw Error("generate: writer and ranks disagree on gzip level");
  // one process: the writer thread encodes (on a second core, while the next samples are
  // made); several ranks: each rank encodes its own samples and sends the stored bytes

  const double t0 = now_s();
  double last_print = t0;
  GenerateReport report;
  // Every rank takes the next free index, makes the sample and (with several ranks)
  // encodes it; ranks > 0 send the stored bytes to rank 0 (at most `batch` sends in
  // flight), rank 0 receives between its own samples and hands the samples to the writer
  // in index order. A failure stops the counter; every rank then meets at the check.
  std::optional<std::string> err;
  bool input = true;
  const auto fail = [&](std::pair<std::optional<std::string>, bool> e) {
    if (e.first && !err) std::tie(err, input) = e;
  };
  WorkCounter counter(comm, n);
  const auto make = [&](long i) {
    const auto index = static_cast<std::uint64_t>(i);
    if (config.kind == "antiderivative") return to_record(generate_antiderivative_sample(config.antiderivative, seed, index));
    if (config.kind == "fisher") return to_record(generate_fisher_sample(config.fisher, seed, index));
    if (darcy) {
      const DarcySample d = generate_darcy_sample(config.darcy, seed, index);
      report.krylov_iterations += d.iterations;
      return to_record(d);
    }
    return to_record(generate_mms_sample(config.mms, seed, index, &report.stats));
  };
  if (rank != 0) {
    struct Send {
      std::vector<char> bytes;
      MPI_Request request = MPI_REQUEST_NULL;
    };
    std::deque<Send> sends;
    long sent = 0;
    const auto retire = [&](bool all) {  // completed sends free their buffers
      while (!sends.empty()) {
        int done = 0;
        if (all || static_cast<long>(sends.size()) > config.batch)
          MPI_Wait(&sends.front().request, MPI_STATUS_IGNORE), done = 1;
        else
          MPI_Test(&sends.front().request, &done, MPI_STATUS_IGNORE);
        if (!done) return;
        sends.pop_front();
      }
    };
    while (!err) {
      const long i = counter.take();
      if (i >= n) break;
      Send s;
      fail(capture([&] {
        const std::int64_t index = i;
        const std::vector<char> one = pack(encode(make(i), schema, gzip_level));
        s.bytes.resize(8 + one.size());
        std::memcpy(s.bytes.data(), &index, 8);
        std::memcpy(s.bytes.data() + 8, one.data(), one.size());
        if (s.bytes.size() > 2000000000UL) throw Error("generate: one sample exceeds 2 GB");
      }));
      if (err) {
        counter.stop();
        break;
      }
      sends.push_back(std::move(s));
      MPI_Isend(sends.back().bytes.data(), static_cast<int>(sends.back().bytes.size()), MPI_CHAR, 0, kTagSample, comm,
                &sends.back().request);
      ++sent;
      retire(false);
    }
    std::int64_t done[2] = {sent, err ? 1 : 0};
    MPI_Send(done, 2, MPI_INT64_T, 0, kTagDone, comm);
    retire(true);
  } else {
    std::map<long, SampleRecord> records;  // one process: encoded by the writer thread
    std::map<long, EncodedSample> encoded;
    long next_write = 0;
    int ranks_done = 0;
    bool own_done = false;
    const auto receive = [&](bool block) {  // what the other ranks sent (one message at least when block)
      while (size > 1) {
        int flag = 0;
        MPI_Status st;
        if (block)
          MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &st), flag = 1;
        else
          MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &flag, &st);
        if (!flag) return;
        block = false;
        int count = 0;
        MPI_Get_count(&st, MPI_CHAR, &count);
        std::vector<char> bytes(static_cast<std::size_t>(std::max(count, 0)));
        MPI_Recv(bytes.data(), count, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, comm, MPI_STATUS_IGNORE);
        if (st.MPI_TAG == kTagDone) {
          ++ranks_done;
          continue;
        }
        fail(capture([&] {
          std::int64_t index = 0;
          if (bytes.size() < 8) throw Error("generate: a truncated sample message");
          std::memcpy(&index, bytes.data(), 8);
          encoded.emplace(static_cast<long>(index), unpack_encoded(bytes.data() + 8, bytes.size() - 8));
        }));
      }
    };
    const auto feed = [&](bool wait) {  // the samples next_write, next_write + 1, ... to the writer
      if (err || (!wait && writer->busy())) return;
      std::vector<SampleRecord> recs;
      std::vector<EncodedSample> encs;
      for (auto it = records.begin(); it != records.end() && it->first == next_write + static_cast<long>(recs.size());)
        recs.push_back(std::move(it->second)), it = records.erase(it);
      for (auto it = encoded.begin(); it != encoded.end() && it->first == next_write + static_cast<long>(encs.size());)
        encs.push_back(std::move(it->second)), it = encoded.erase(it);
      if (recs.empty() && encs.empty()) return;
      const long count = static_cast<long>(recs.size() + encs.size());
      writer->write(next_write, std::move(recs), std::move(encs));
      next_write += count;
      const double t = now_s();
      if (!quiet && (t - last_print > (isatty(2) ? 0.5 : 10.0) || next_write == n)) {
        const double rate = next_write / std::max(t - t0, 1e-9);
        std::fprintf(stderr, "generate: %ld/%ld samples, %.1f samples/s, ETA %.0f s\n", next_write, n, rate,
                     (n - next_write) / std::max(rate, 1e-9));
        last_print = t;
      }
    };
    const std::size_t backlog = static_cast<std::size_t>(config.batch) * static_cast<std::size_t>(size) * 2;
    while (true) {
      if (!own_done) {
        fail({writer_failure(false), false});
        const long i = err ? n : counter.take();
        if (i >= n) {
          own_done = true;
        } else {
          fail(capture([&] {
            SampleRecord r = make(i);
            if (size > 1)
              encoded.emplace(i, encode(r, schema, gzip_level));
            else
              records.emplace(i, std::move(r));
          }));
        }
        if (err) {
          counter.stop();
          own_done = true;
        }
      }
      receive(false);
      // hand over when the writer is free (or the backlog grows: then wait for it)
      feed(own_done || records.size() + encoded.size() > backlog);
      if (!own_done) continue;
      if (ranks_done == size - 1) break;
      receive(true);
    }
    feed(true);
  }
  counter.close();
  collective_check(err, input, comm);
  collective_check(writer_failure(true), false, comm);

  // totals over ranks
  const MmsStats& s = report.stats;
  long local[9] = {s.attempts,         s.accepted,         s.rejected_value,    s.rejected_std,
                   s.rejected_source,  s.rejected_derivative, s.rejected_nonfinite, s.rejected_geometry,
                   report.krylov_iterations};
  long total[9] = {};
  MPI_Reduce(local, total, 9, MPI_LONG, MPI_SUM, 0, comm);
  report.stats = MmsStats{total[0], total[1], total[2], total[3], total[4], total[5], total[6], total[7]};
  report.krylov_iterations = total[8];
  report.n = n;
  report.ranks = size;
  report.wall_s = now_s() - t0;
  if (rank == 0) {
    io::H5File& f = writer->writer().file();
    f.set_attribute("/", "seed", static_cast<double>(seed));
    f.set_attribute("/", "config", resolved_config);
    f.set_attribute("/", "config_file", config_file);
    f.set_attribute("/", "generator", "kpde generate 0.1.0");
    f.set_attribute("/", "mpi_ranks", static_cast<double>(size));
    f.set_attribute("/", "wall_s", report.wall_s);
    f.set_attribute("/", "samples_per_s", n / std::max(report.wall_s, 1e-9));
    if (config.kind == "mms") {
      const MmsStats& t = report.stats;
      f.set_attribute("/", "attempts", static_cast<double>(t.attempts));
      const std::pair<const char*, long> rejected[6] = {
          {"rejected_value", t.rejected_value},         {"rejected_std", t.rejected_std},
          {"rejected_source", t.rejected_source},       {"rejected_derivative", t.rejected_derivative},
          {"rejected_nonfinite", t.rejected_nonfinite}, {"rejected_geometry", t.rejected_geometry}};
      for (const auto& [name, count] : rejected) f.set_attribute("/", name, static_cast<double>(count));
    }
    writer->writer().close();
  }
  return report;
}

}  // namespace kpde::data
