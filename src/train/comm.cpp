#include "train/comm.hpp"

#include <algorithm>
#include <climits>

#include "core/error.hpp"

namespace kpde::train {

namespace {

/// inout[i] = in[i] + inout[i]: MPI applies a non-commutative operation in rank order
/// (in holds the lower ranks' partial sum), so the result does not depend on timing.
void add_in_rank_order(void* in, void* inout, int* len, MPI_Datatype*) {
  const double* a = static_cast<const double*>(in);
  double* b = static_cast<double*>(inout);
  for (int i = 0; i < *len; ++i) b[i] = a[i] + b[i];
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw Error(std::string("train::Comm: ") + what + " failed");
}

constexpr std::size_t kChunk = std::size_t(1) << 26;  // doubles per MPI call (int counts)

}  // namespace

Comm::Comm(MPI_Comm comm) : comm_(comm) {
  if (comm == MPI_COMM_NULL) return;
  int ready = 0;
  MPI_Initialized(&ready);
  KPDE_REQUIRE(ready, Error, "train::Comm: MPI is not initialised");
  check(MPI_Comm_rank(comm, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm, &size_), "MPI_Comm_size");
}

Comm Comm::world() {
  int ready = 0, finalized = 0;
  MPI_Initialized(&ready);
  MPI_Finalized(&finalized);
  if (!ready || finalized) return Comm();
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size > 1 ? Comm(MPI_COMM_WORLD) : Comm();
}

std::pair<long, long> Comm::shard(long n) const {
  const long q = n / size_, r = n % size_;
  const long begin = rank_ * q + std::min<long>(rank_, r);
  return {begin, begin + q + (rank_ < r ? 1 : 0)};
}

void Comm::sum(double* x, std::size_t n) const {
  if (!parallel() || n == 0) return;
  MPI_Op op;
  check(MPI_Op_create(&add_in_rank_order, /*commute=*/0, &op), "MPI_Op_create");
  std::vector<double> out(std::min(n, kChunk));
  for (std::size_t i0 = 0; i0 < n; i0 += kChunk) {
    const int m = static_cast<int>(std::min(kChunk, n - i0));
    // reduce to rank 0 in rank order, then every rank takes rank 0's bits
    const int rc = MPI_Reduce(x + i0, out.data(), m, MPI_DOUBLE, op, 0, comm_);
    if (rc != MPI_SUCCESS) {
      MPI_Op_free(&op);
      check(rc, "MPI_Reduce");
    }
    if (rank_ == 0) std::copy(out.begin(), out.begin() + m, x + i0);
    check(MPI_Bcast(x + i0, m, MPI_DOUBLE, 0, comm_), "MPI_Bcast");
  }
  MPI_Op_free(&op);
}

long Comm::min(long v) const {
  if (!parallel()) return v;
  long out = v;
  check(MPI_Allreduce(&v, &out, 1, MPI_LONG, MPI_MIN, comm_), "MPI_Allreduce");
  return out;
}

void Comm::broadcast(double* x, std::size_t n) const {
  if (!parallel()) return;
  for (std::size_t i0 = 0; i0 < n; i0 += kChunk)
    check(MPI_Bcast(x + i0, static_cast<int>(std::min(kChunk, n - i0)), MPI_DOUBLE, 0, comm_), "MPI_Bcast");
}

std::vector<double> Comm::gather_all(const std::vector<double>& x) const {
  if (!parallel()) return x;
  KPDE_REQUIRE(x.size() < static_cast<std::size_t>(INT_MAX / size_), Error, "train::Comm::gather_all: too large");
  std::vector<double> out(x.size() * static_cast<std::size_t>(size_));
  check(MPI_Allgather(x.data(), static_cast<int>(x.size()), MPI_DOUBLE, out.data(), static_cast<int>(x.size()),
                      MPI_DOUBLE, comm_),
        "MPI_Allgather");
  return out;
}

void Comm::barrier() const {
  if (parallel()) check(MPI_Barrier(comm_), "MPI_Barrier");
}

}  // namespace kpde::train
