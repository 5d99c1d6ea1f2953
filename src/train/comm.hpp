#pragma once
/// train::Comm: the ranks one training run is spread over (docs/design.md rule 11, MPI
/// data parallelism). A Comm wraps an MPI communicator, or none (one process, no MPI
/// call at all).
///
/// Data parallelism in kpde: every rank holds the same parameters and the same global
/// point (or sample) set; rank r evaluates only its shard (shard(n)) and contributes its
/// share of every term, sum over its items scaled by the global count; the trainer sums
/// the shares over the ranks with sum(), one call per evaluation. sum() adds in a fixed
/// order (a reduction whose operation is declared non-commutative, so MPI applies it in
/// rank order) and broadcasts the result: every rank gets the same bits, so line searches,
/// stop decisions and divergence checks take the same branches everywhere.
#include <mpi.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/types.hpp"

namespace kpde::train {

class Comm {
 public:
  /// One process: rank 0 of 1, no MPI calls.
  Comm() = default;
  /// The ranks of `comm` (not duplicated; it must outlive this object). MPI must be
  /// initialised. MPI_COMM_NULL gives the one-process Comm.
  explicit Comm(MPI_Comm comm);
  /// MPI_COMM_WORLD when MPI is initialised and has more than one rank, otherwise the
  /// one-process Comm.
  static Comm world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool parallel() const { return size_ > 1; }
  bool root() const { return rank_ == 0; }
  MPI_Comm mpi() const { return comm_; }

  /// [begin, end) of this rank's contiguous share of n items: the first n % size ranks
  /// take one more. Rank order, so concatenating the shards gives 0..n-1.
  std::pair<long, long> shard(long n) const;

  /// x[i] <- sum over ranks of x[i], added in a fixed order, the same bits on every rank.
  void sum(double* x, std::size_t n) const;
  void sum(std::vector<double>& x) const { sum(x.data(), x.size()); }
  /// One data-parallel reduction: scalars [K] and every vector of `vectors` (each of
  /// length n) <- their sums over the ranks, packed into one buffer of K + V n doubles
  /// (`buffer`, reused between calls) and summed with one sum(). Nothing on one rank.
  template <class T>
  void sum_shares(std::vector<double>& scalars, const std::vector<Vec<T>>& vectors, std::vector<double>& buffer) const {
    if (!parallel()) return;
    const std::size_t K = scalars.size(), n = vectors.empty() ? 0 : vectors[0].extent(0);
    buffer.resize(K + vectors.size() * n);
    std::copy(scalars.begin(), scalars.end(), buffer.begin());
    for (std::size_t v = 0; v < vectors.size(); ++v)
      for (std::size_t i = 0; i < n; ++i) buffer[K + v * n + i] = double(vectors[v](i));
    sum(buffer);
    std::copy(buffer.begin(), buffer.begin() + static_cast<long>(K), scalars.begin());
    for (std::size_t v = 0; v < vectors.size(); ++v)
      for (std::size_t i = 0; i < n; ++i) vectors[v](i) = T(buffer[K + v * n + i]);
  }
  /// The minimum over ranks of v (exact).
  long min(long v) const;
  /// x from rank 0 to every rank (same length everywhere).
  void broadcast(double* x, std::size_t n) const;
  /// Every rank's x (the same length on every rank), concatenated in rank order.
  std::vector<double> gather_all(const std::vector<double>& x) const;
  void barrier() const;

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace kpde::train
