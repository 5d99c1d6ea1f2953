#pragma once
/// The hypernetwork's training data: a pool of generated samples held in memory, a few
/// of which are replaced by fresh ones every step (data/mms: manufactured solutions and
/// physics-only problems), so that generation costs a fraction of a step and the run
/// never waits for a disk.
///
/// Sample k of the stream is generate_mms_sample(mms, seed, k): slot s of the pool
/// starts with sample s; at step t, slots (t R + r) mod P, r < R, get the next samples of
/// the stream (P = size, R = refresh). Batches and points are drawn from
/// Rng(mix_seed(seed, step, item)), so a run depends only on (settings, step): a resumed
/// run rebuilds its pool from the slot indices in the checkpoint.
///
/// Per sample the pool keeps the encoder's input (input.hpp), up to `stored_interior`
/// domain nodes with the normalised source and, for manufactured samples, the normalised
/// solution jet (u, u_x, u_y, u_xx, u_yy), and every boundary-band node with its
/// normalised Dirichlet / Neumann data and outward normal. A use draws n_interior of the
/// interior nodes and n_boundary of the boundary nodes (with repetition when fewer).
#include <cstdint>
#include <string>
#include <vector>

#include "data/mms.hpp"
#include "hypernet/input.hpp"
#include "hypernet/pinn_loss.hpp"

namespace kpde::io {
class H5File;
}

namespace kpde::hypernet {

struct PoolSettings {
  data::MmsSettings mms;       ///< the generator (grid must be kGrid)
  std::uint64_t seed = 1;
  int size = 256;              ///< P: samples held
  int refresh = 4;             ///< R: samples replaced per step
  int n_interior = 512;        ///< interior points per use
  int n_boundary = 256;        ///< boundary points per use
  int stored_interior = 4096;  ///< interior nodes kept per sample
  void validate() const;
};

/// One sample of the pool.
struct PoolEntry {
  std::uint64_t index = 0;     ///< position in the generator's stream
  PreparedInput input;
  std::array<double, 5> coefficients{};
  bool supervised = false;     ///< the solution is known
  std::vector<float> interior;  ///< [K][8]: x, y, f, u, u_x, u_y, u_xx, u_yy (normalised; u.. NaN if unknown)
  std::vector<float> boundary;  ///< [M][6]: x, y, g (NaN: none), h (NaN: none), n_x, n_y
};

/// The entry of a generated sample (input prepared with pooling factor `pool`; the
/// interior nodes kept are drawn with Rng(mix_seed(seed, index))).
PoolEntry make_entry(const data::MmsSample& sample, std::uint64_t index, int pool, int stored_interior,
                     std::uint64_t seed);

/// Moves a uniformly random `keep` of v's entries to its front, in random order (partial
/// Fisher-Yates: for k < keep, swap v[k] and v[k + floor(u (n - k))], u from rng).
void partial_shuffle(std::vector<std::size_t>& v, std::size_t keep, Rng& rng);

/// n_interior + n_boundary points of an entry drawn with rng.
SamplePoints draw_points(const PoolEntry& entry, int n_interior, int n_boundary, Rng& rng);

class SamplePool {
 public:
  /// Generates the first `size` samples (in parallel over the host threads).
  SamplePool(PoolSettings settings, int input_pool);
  const PoolSettings& settings() const { return settings_; }
  /// Replaces the slots due at `step` (see the file comment).
  void refresh(long step);
  /// B entries drawn for `step`, and their points.
  std::vector<const PoolEntry*> batch(long step, int B, std::vector<SamplePoints>& points) const;
  /// Generated so far (including the initial fill).
  std::uint64_t generated() const { return next_; }
  /// Slot indices and the stream position, in `group` of a checkpoint, and back (the
  /// samples are regenerated).
  void save(io::H5File& file, const std::string& group) const;
  void load(const io::H5File& file, const std::string& group);

 private:
  void fill(const std::vector<std::pair<int, std::uint64_t>>& jobs);
  PoolSettings settings_;
  int input_pool_;
  std::vector<PoolEntry> entries_;
  std::uint64_t next_ = 0;
};

/// Entries for fixed samples of the generator (indices first .. first + n - 1 of a
/// stream with `seed`), e.g. a validation set.
std::vector<PoolEntry> make_entries(const PoolSettings& settings, int input_pool, std::uint64_t seed,
                                    std::uint64_t first, int n);

}  // namespace kpde::hypernet
