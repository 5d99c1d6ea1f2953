#include "nn/conv2d.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "nn/gemm.hpp"

namespace kpde::nn {
namespace {

// Both layers run on one engine for a convolution `conv` from an input [cin][H][W] to an
// output [cout][Ho][Wo] (per batch item), with weights W [cout][cin k k] (C order):
//   apply:        out = conv(in) (+ bias)                  Conv2d forward, ConvTranspose2d dx
//   adjoint:      in = conv^T(out) (+ bias)                Conv2d dx, ConvTranspose2d forward
//   weight_grad:  gW += sum_b out_b cols(in_b)^T           both layers' dW
// In column-major terms (kpde::gemm): W is [K][cout] (K = cin k k, ld K), a map [C][P] is
// [P][C] (ld P) and cols(in) is [P][K]: out = cols W, dcols = out W^T, gW += cols^T out.

// Target size (elements) of one task's im2col scratch (1 MiB in double: it stays in L2). Tiles
// and channel chunks are sized from the shapes only, so the split (and every sum) is the same
// for any thread count.
constexpr std::size_t kTileElements = std::size_t(1) << 17;
// Fewest output pixels per tile (so the GEMMs stay efficient).
constexpr std::size_t kMinTilePixels = 128;
// Fewest output pixels per tile of `apply` per output channel: a tile packs W [K][cout] once,
// which costs cout / tile of packing the tile's columns. Measured on one core, B = 16: 8 cout
// pixels forward 96 -> 96 channels at 28 x 28 12% faster than 2^17 / K; tiles of a fixed 2^19
// elements did as well there but lost 20% at 8 -> 32 channels, 224 -> 112.
constexpr std::size_t kTilePixelsPerOutput = 8;
// Target rows (C_in k k) of dW per task of weight_grad.
constexpr std::size_t kWeightRows = 256;

template <class T>
using ColMajor = Kokkos::View<T**, Kokkos::LayoutLeft, HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

// The column-major [rows][cols] matrix at p with column stride ld >= rows.
template <class T>
auto col_major(T* p, int rows, int cols, int ld) {
  return Kokkos::subview(ColMajor<T>(p, static_cast<std::size_t>(ld), static_cast<std::size_t>(cols)),
                         Kokkos::make_pair(0, rows), Kokkos::ALL);
}

using Policy = Kokkos::RangePolicy<HostExec, Kokkos::Schedule<Kokkos::Dynamic>>;

struct ConvGeom {
  int cin, cout, k, s, pad;
  PadMode mode;
  int H, W, Ho, Wo;
  int kk() const { return k * k; }
  int K() const { return cin * k * k; }
  int P() const { return Ho * Wo; }
  std::size_t in_size() const { return static_cast<std::size_t>(cin) * H * W; }
  std::size_t out_size() const { return static_cast<std::size_t>(cout) * Ho * Wo; }
};

// Source index of padded position i in [0, n), or -1 for a zero.
int source_index(int i, int n, PadMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::reflect: return i < 0 ? -i : 2 * (n - 1) - i;  // pad < n is checked
    case PadMode::circular: return ((i % n) + n) % n;
    case PadMode::zeros: break;
  }
  return -1;
}

// rows[p * Ho + i] = source row of kernel row p at output row i, cols[q * Wo + j] alike;
// output columns [lo[q], hi[q]) of kernel column q read inside the input (j s + q - pad).
struct IndexMaps {
  std::vector<int> rows, cols, lo, hi;
  explicit IndexMaps(const ConvGeom& g)
      : rows(static_cast<std::size_t>(g.k) * g.Ho), cols(static_cast<std::size_t>(g.k) * g.Wo), lo(g.k), hi(g.k) {
    for (int p = 0; p < g.k; ++p) {
      for (int i = 0; i < g.Ho; ++i) rows[p * g.Ho + i] = source_index(i * g.s + p - g.pad, g.H, g.mode);
      lo[p] = g.Wo, hi[p] = g.Wo;
      for (int j = 0; j < g.Wo; ++j) {
        const int t = j * g.s + p - g.pad;
        cols[p * g.Wo + j] = source_index(t, g.W, g.mode);
        if (t >= 0 && t < g.W) lo[p] = std::min(lo[p], j), hi[p] = j + 1;
      }
      hi[p] = std::max(hi[p], lo[p]);
    }
  }
};

// ceil(n / parts) for parts = ceil(n / want), want clamped to [least, n]: n split evenly.
struct Split {
  int size, count;
  Split(std::size_t n, std::size_t want, std::size_t least) {
    want = std::min(n, std::max(least, want));
    count = static_cast<int>((n + want - 1) / want);
    size = static_cast<int>((n + count - 1) / count);
  }
};

// How the engine splits its work, from the shapes only (so every sum is the same for any
// thread count): `apply` over output-pixel tiles, `adjoint` over input-channel chunks,
// `weight_grad` over input-channel chunks (its output rows) and, inside, pixel tiles.
struct Tiling {
  Split tiles, chunks, wchunks, wtiles;
  explicit Tiling(const ConvGeom& g)
      : tiles(g.P(), std::max(kTileElements / g.K(), kTilePixelsPerOutput * g.cout), kMinTilePixels),
        chunks(g.cin, kTileElements / (static_cast<std::size_t>(g.P()) * g.kk()), 1),
        wchunks(g.cin, kWeightRows / g.kk(), 1),
        wtiles(g.P(), kTileElements / (static_cast<std::size_t>(wchunks.size) * g.kk()), kMinTilePixels) {}
};

// Multiply-adds below which a pass runs on the calling thread: a parallel region would cost
// more than it saves (much more on a busy machine). The tasks and their order are the same.
constexpr double kSerialWork = 1 << 18;

// f(task, scratch) for every task in [0, n), scratch: `per` elements owned by the running
// thread; in parallel on the host space unless work < kSerialWork.
template <class T, class F>
void run_tasks(const char* name, int n, double work, std::size_t per, const F& f) {
  if (work < kSerialWork) {
    std::vector<T> scratch(per);
    for (int task = 0; task < n; ++task) f(task, scratch.data());
    return;
  }
  Kokkos::Experimental::UniqueToken<HostExec> token;
  const Kokkos::View<T*, HostSpace> scratch(Kokkos::view_alloc("kpde::conv.scratch", Kokkos::WithoutInitializing),
                                            per * token.size());
  Kokkos::parallel_for(name, Policy(0, n), [&](const int task) {
    const int id = token.acquire();
    f(task, scratch.data() + per * id);
    token.release(id);
  });
}

// f(i) for every i in [0, n), in parallel unless work < kSerialWork.
template <class F>
void run_range(const char* name, std::size_t n, double work, const F& f) {
  if (work < kSerialWork) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  Kokkos::parallel_for(name, Kokkos::RangePolicy<HostExec>(0, n), [&](const std::size_t i) { f(i); });
}

// cols [np][(c1 - c0) k k] column-major (ld np): input channels [c0, c1) of `in` (one item)
// at output pixels [t0, t0 + np), padded through the index maps.
template <class T>
void im2col(const ConvGeom& g, const IndexMaps& m, const T* in, int c0, int c1, int t0, int np, T* cols) {
  const int i0 = t0 / g.Wo, i1 = (t0 + np - 1) / g.Wo, s = g.s;
  T* dst = cols;
  for (int c = c0; c < c1; ++c) {
    const T* plane = in + static_cast<std::size_t>(c) * g.H * g.W;
    for (int p = 0; p < g.k; ++p)
      for (int q = 0; q < g.k; ++q, dst += np) {
        const int* cm = m.cols.data() + q * g.Wo;
        const int off = q - g.pad;
        for (int i = i0; i <= i1; ++i) {
          const int ja = i == i0 ? t0 - i0 * g.Wo : 0, jb = i == i1 ? t0 + np - i1 * g.Wo : g.Wo;
          T* d = dst + (i * g.Wo + ja - t0);  // d[j - ja] for output column j
          const int r = m.rows[p * g.Ho + i];
          if (r < 0) {
            std::fill(d, d + (jb - ja), T(0));
            continue;
          }
          const T* src = plane + static_cast<std::size_t>(r) * g.W;
          const int lo = std::clamp(m.lo[q], ja, jb), hi = std::clamp(m.hi[q], lo, jb);
          for (int j = ja; j < lo; ++j) d[j - ja] = cm[j] >= 0 ? src[cm[j]] : T(0);
          if (s == 1) {
            if (hi > lo) std::copy(src + (lo + off), src + (hi + off), d + (lo - ja));
          } else {
            for (int j = lo; j < hi; ++j) d[j - ja] = src[j * s + off];
          }
          for (int j = hi; j < jb; ++j) d[j - ja] = cm[j] >= 0 ? src[cm[j]] : T(0);
        }
      }
  }
}

// The adjoint of im2col over all output pixels: in[c] += scatter of cols (ld P), c in [c0, c1).
template <class T>
void col2im_add(const ConvGeom& g, const IndexMaps& m, const T* cols, int c0, int c1, T* in) {
  const int P = g.P(), s = g.s;
  const T* sc = cols;
  for (int c = c0; c < c1; ++c) {
    T* plane = in + static_cast<std::size_t>(c) * g.H * g.W;
    for (int p = 0; p < g.k; ++p)
      for (int q = 0; q < g.k; ++q, sc += P) {
        const int* cm = m.cols.data() + q * g.Wo;
        const int off = q - g.pad, lo = m.lo[q], hi = m.hi[q];
        for (int i = 0; i < g.Ho; ++i) {
          const int r = m.rows[p * g.Ho + i];
          if (r < 0) continue;
          T* d = plane + static_cast<std::size_t>(r) * g.W;
          const T* src = sc + static_cast<std::size_t>(i) * g.Wo;
          for (int j = 0; j < lo; ++j)
            if (cm[j] >= 0) d[cm[j]] += src[j];
          if (s == 1) {
            for (int j = lo; j < hi; ++j) d[j + off] += src[j];
          } else {
            for (int j = lo; j < hi; ++j) d[j * s + off] += src[j];
          }
          for (int j = hi; j < g.Wo; ++j)
            if (cm[j] >= 0) d[cm[j]] += src[j];
        }
      }
  }
}

// ---- The direct engine: 3x3 kernels, stride 1, padding 1 (MgNO's smoothers) ----------------
// y[o][i][j] = bias_o + sum_{c,p,q} w[o][c][p][q] xp[c][i + p][j + q] with xp the input padded by
// one node per side (filled as g.mode says). The padded input is stored three times, shifted by
// q = 0, 1, 2 columns: xs[c][q][r][j] = xp[c][r][j + q] in rows of Wp (a multiple of L) nodes,
// so every vector of L lanes the kernel reads is aligned to its size (no load splits a cache line).
// Each task owns KO output channels of one item and keeps KO accumulators of L lanes per output
// block (i, j0..j0 + L) in registers; no im2col matrix is written. The sum order (c, p, q) is
// fixed per output, so the result does not depend on the number of threads. For a padding mode
// whose adjoint is again that padding (zeros, circular), conv^T is the same engine with the
// flipped, transposed kernel w'[c][o][p][q] = w[o][c][2 - p][2 - q].

// gemm by default: on an MgNO step (kpde bench mgno --engine, docs/performance.md) gemm was
// a few percent ahead with AVX-512 and 4-28% ahead on AVX2 (1-2 threads).
Conv3x3Engine g_conv3x3 = Conv3x3Engine::gemm;

// The register tile of the direct engine: a vector is one SIMD register (kDirectBytes), a
// task keeps KO output channels x NJ pixel vectors of accumulators, 12 zmm registers with
// AVX-512 (6 x 2), 12 ymm registers without (3 x 4); a row block is 32 floats either way.
// (64-byte vectors on an AVX2 machine, which GCC 12 splits into ymm halves, measured 20x
// slower than im2col + GEMM on AMD EPYC Zen 3.)
#ifdef __AVX512F__
constexpr int kDirectBytes = 64, kDirectKO = 6, kDirectNJ = 2;
#else
constexpr int kDirectBytes = 32, kDirectKO = 3, kDirectNJ = 4;
#endif
template <class T>
struct Lanes {
  static constexpr int n = kDirectBytes / static_cast<int>(sizeof(T));
  typedef T type __attribute__((vector_size(kDirectBytes), __may_alias__));  // may alias T (loaded through T*)
};

bool direct3_applies(const ConvGeom& g) {
  return g_conv3x3 == Conv3x3Engine::direct && g.k == 3 && g.s == 1 && g.pad == 1 && g.Ho == g.H && g.Wo == g.W;
}
bool direct3_adjoint_applies(const ConvGeom& g) {
  return direct3_applies(g) && g.mode != PadMode::reflect;
}

// xs [B][cin][3][H + 2][Wp] from in [B][cin][H][W]: xs[b][c][q][r][j] = xp[b][c][r][j + q] (0
// past the padded row's end), xp padded as g.mode says.
template <class T>
void shifted_planes(const ConvGeom& g, const T* in, int B, int Wp, T* xs) {
  const std::size_t plane = static_cast<std::size_t>(g.H + 2) * Wp;
  const int left = source_index(-1, g.W, g.mode), right = source_index(g.W, g.W, g.mode);
  run_range("kpde::conv.pad", static_cast<std::size_t>(B) * g.cin, 3.0 * B * g.cin * plane, [&](const std::size_t bc) {
    const T* src = in + bc * g.H * g.W;
    std::vector<T> row(static_cast<std::size_t>(Wp) + 2, T(0));  // one padded row, then zeros
    for (int r = 0; r < g.H + 2; ++r) {                           // padded row r holds input row r - 1
      const int sr = source_index(r - 1, g.H, g.mode);
      if (sr < 0) {
        std::fill(row.begin(), row.begin() + g.W + 2, T(0));
      } else {
        const T* s = src + static_cast<std::size_t>(sr) * g.W;
        row[0] = left >= 0 ? s[left] : T(0);
        std::copy(s, s + g.W, row.begin() + 1);
        row[g.W + 1] = right >= 0 ? s[right] : T(0);
      }
      for (int q = 0; q < 3; ++q)
        std::copy(row.begin() + q, row.begin() + q + Wp, xs + (bc * 3 + q) * plane + static_cast<std::size_t>(r) * Wp);
    }
  });
}

// Output rows per task of the direct engine.
constexpr int kDirectRows = 8;

// wp [blocks][cin][3 (q)][3 (p)][KO] from w [cout][cin][3][3] (output channels past cout: 0),
// so each tap's KO weights are contiguous.
template <class T>
std::vector<T> pack_direct_weights(const ConvGeom& g, const T* w) {
  constexpr int KO = kDirectKO;
  const int blocks = (g.cout + KO - 1) / KO;
  std::vector<T> wp(static_cast<std::size_t>(blocks) * g.cin * 9 * KO, T(0));
  for (int o = 0; o < g.cout; ++o)
    for (int c = 0; c < g.cin; ++c)
      for (int p = 0; p < 3; ++p)
        for (int q = 0; q < 3; ++q)
          wp[((static_cast<std::size_t>(o / KO) * g.cin + c) * 9 + q * 3 + p) * KO + o % KO] =
              w[((static_cast<std::size_t>(o) * g.cin + c) * 3 + p) * 3 + q];
  return wp;
}

// y [cout][H][W] of one item, rows [i0, i1): xs the item's shifted planes, wp the packed weights.
template <class T>
void direct3_rows(const ConvGeom& g, int Wp, const T* xs, const T* wp, const T* bias, int i0, int i1, T* y) {
  using V = typename Lanes<T>::type;
  constexpr int L = Lanes<T>::n, KO = kDirectKO, NJ = kDirectNJ;
  const std::size_t plane = static_cast<std::size_t>(g.H + 2) * Wp;
  const int blocks = (g.cout + KO - 1) / KO;
  for (int i = i0; i < i1; ++i)
    for (int ob = 0; ob < blocks; ++ob) {
      const int o0 = ob * KO, nko = std::min(KO, g.cout - o0);
      for (int j0 = 0; j0 < g.W; j0 += NJ * L) {
        V acc[KO][NJ];
        for (int o = 0; o < KO; ++o)
          for (int u = 0; u < NJ; ++u) acc[o][u] = V{} + (bias && o < nko ? bias[o0 + o] : T(0));
        const T* wc = wp + static_cast<std::size_t>(ob) * g.cin * 9 * KO;
        const T* xc = xs + static_cast<std::size_t>(i) * Wp + j0;
        for (int c = 0; c < g.cin; ++c, xc += 3 * plane)
          for (int q = 0; q < 3; ++q)
            for (int p = 0; p < 3; ++p, wc += KO) {
              const T* row = xc + q * plane + p * Wp;
              V v[NJ];
              for (int u = 0; u < NJ; ++u) v[u] = *reinterpret_cast<const V*>(row + u * L);  // aligned to the vector
              for (int o = 0; o < KO; ++o)
                for (int u = 0; u < NJ; ++u) acc[o][u] += wc[o] * v[u];
            }
        for (int u = 0; u < NJ; ++u) {
          const int j = j0 + u * L;
          if (j >= g.W) break;
          const std::size_t nl = static_cast<std::size_t>(std::min(L, g.W - j));
          for (int o = 0; o < nko; ++o)
            std::memcpy(y + (static_cast<std::size_t>(o0 + o) * g.H + i) * g.W + j, &acc[o][u], nl * sizeof(T));
        }
      }
    }
}

// out[b] = conv(in[b]) (+ bias) for b < B through the direct engine (direct3_applies(g)).
template <class T>
void direct3_apply(const char* name, const ConvGeom& g, const T* w, const T* bias, const T* in, T* out, int B) {
  constexpr int L = Lanes<T>::n;
  // rows of whole pixel-vector pairs (the last pair may read past W: zeros, results dropped)
  const int Wp = (g.W + kDirectNJ * L - 1) / (kDirectNJ * L) * (kDirectNJ * L);
  const std::size_t plane = static_cast<std::size_t>(g.H + 2) * Wp, item = 3 * plane * g.cin;
  const Kokkos::View<T*, HostSpace> xs(Kokkos::view_alloc("kpde::conv.shifted", Kokkos::WithoutInitializing),
                                       static_cast<std::size_t>(B) * item);
  // Kokkos aligns host allocations to 64 bytes; Wp and so every plane and row are multiples of L
  KPDE_ASSERT(reinterpret_cast<std::uintptr_t>(xs.data()) % 64 == 0, "direct3_apply: unaligned scratch");
  shifted_planes(g, in, B, Wp, xs.data());
  const std::vector<T> wp = pack_direct_weights(g, w);
  const int bands = (g.H + kDirectRows - 1) / kDirectRows;
  const double work = static_cast<double>(B) * g.P() * g.K() * g.cout;
  run_range(name, static_cast<std::size_t>(B) * bands, work, [&](const std::size_t task) {
    const int b = static_cast<int>(task) / bands, i0 = (static_cast<int>(task) % bands) * kDirectRows;
    direct3_rows(g, Wp, xs.data() + static_cast<std::size_t>(b) * item, wp.data(), bias, i0,
                 std::min(g.H, i0 + kDirectRows), out + g.out_size() * b);
  });
}

// in[b] = conv^T(out[b]) (+ bias) through the direct engine (direct3_adjoint_applies(g)): the
// conv from cout to cin channels with the flipped, transposed kernel and the same padding.
template <class T>
void direct3_adjoint(const char* name, const ConvGeom& g, const T* w, const T* bias, const T* out, T* in, int B) {
  std::vector<T> wt(static_cast<std::size_t>(g.cin) * g.cout * 9);
  for (int o = 0; o < g.cout; ++o)
    for (int c = 0; c < g.cin; ++c)
      for (int t = 0; t < 9; ++t)
        wt[(static_cast<std::size_t>(c) * g.cout + o) * 9 + (8 - t)] = w[(static_cast<std::size_t>(o) * g.cin + c) * 9 + t];
  ConvGeom gt = g;
  std::swap(gt.cin, gt.cout);
  direct3_apply(name, gt, wt.data(), bias, out, in, B);
}

// out[b] = conv(in[b]) (+ bias[o] on channel o when bias != nullptr), b < B.
template <class T>
void conv_apply(const char* name, const ConvGeom& g, const T* w, const T* bias, const T* in, T* out, int B) {
  if (direct3_applies(g)) return direct3_apply(name, g, w, bias, in, out, B);
  const IndexMaps maps(g);
  const Split t = Tiling(g).tiles;
  const int K = g.K(), P = g.P();
  const double work = static_cast<double>(B) * P * K * g.cout;
  run_tasks<T>(name, B * t.count, work, static_cast<std::size_t>(t.size) * K, [&](const int task, T* cols) {
    const int b = task / t.count, t0 = (task % t.count) * t.size, np = std::min(t.size, P - t0);
    im2col(g, maps, in + g.in_size() * b, 0, g.cin, t0, np, cols);
    T* y = out + g.out_size() * b;
    if (bias)
      for (int o = 0; o < g.cout; ++o) std::fill(y + o * P + t0, y + o * P + t0 + np, bias[o]);
    gemm('N', 'N', T(1), col_major<const T>(cols, np, K, np), col_major<const T>(w, K, g.cout, K),
         bias ? T(1) : T(0), col_major(y + t0, np, g.cout, P));
  });
}

// in[b] = conv^T(out[b]) (+ bias[c] on channel c when bias != nullptr), b < B.
template <class T>
void conv_adjoint(const char* name, const ConvGeom& g, const T* w, const T* bias, const T* out, T* in, int B) {
  if (direct3_adjoint_applies(g)) return direct3_adjoint(name, g, w, bias, out, in, B);
  const IndexMaps maps(g);
  const Split ch = Tiling(g).chunks;
  const int K = g.K(), P = g.P(), HW = g.H * g.W;
  const double work = static_cast<double>(B) * P * K * g.cout;
  const std::size_t per = static_cast<std::size_t>(P) * ch.size * g.kk();
  run_tasks<T>(name, B * ch.count, work, per, [&](const int task, T* dcols) {
    const int b = task / ch.count, c0 = (task % ch.count) * ch.size, c1 = std::min(g.cin, c0 + ch.size);
    const int Kc = (c1 - c0) * g.kk();
    gemm('N', 'T', T(1), col_major<const T>(out + g.out_size() * b, P, g.cout, P),
         col_major<const T>(w + static_cast<std::size_t>(c0) * g.kk(), Kc, g.cout, K), T(0),
         col_major(dcols, P, Kc, P));
    T* x = in + g.in_size() * b;
    for (int c = c0; c < c1; ++c) std::fill(x + c * HW, x + (c + 1) * HW, bias ? bias[c] : T(0));
    col2im_add(g, maps, dcols, c0, c1, x);
  });
}

// gw [cout][K] (C order) += sum_b out[b] cols(in[b])^T, summed per gradient group (b % groups,
// items and pixel tiles in order), then over the groups in order.
template <class T>
void conv_weight_grad(const char* name, const ConvGeom& g, const T* in, const T* out, int B, T* gw) {
  const IndexMaps maps(g);
  const Tiling t(g);
  const Split ch = t.wchunks, px = t.wtiles;
  const int K = g.K(), P = g.P(), groups = gradient_groups(B);
  const std::size_t nw = static_cast<std::size_t>(K) * g.cout;
  Kokkos::View<T*, HostSpace> partial("kpde::conv.partial", nw * groups);
  const double work = static_cast<double>(B) * P * K * g.cout;
  const std::size_t per = static_cast<std::size_t>(px.size) * ch.size * g.kk();
  run_tasks<T>(name, groups * ch.count, work, per, [&](const int task, T* cols) {
    const int grp = task / ch.count, c0 = (task % ch.count) * ch.size, c1 = std::min(g.cin, c0 + ch.size);
    const int Kc = (c1 - c0) * g.kk();
    const auto part = col_major(partial.data() + nw * grp + static_cast<std::size_t>(c0) * g.kk(), Kc, g.cout, K);
    for (int b = grp; b < B; b += groups)
      for (int t0 = 0; t0 < P; t0 += px.size) {
        const int np = std::min(px.size, P - t0);
        im2col(g, maps, in + g.in_size() * b, c0, c1, t0, np, cols);
        gemm('T', 'N', T(1), col_major<const T>(cols, np, Kc, np),
             col_major<const T>(out + g.out_size() * b + t0, np, g.cout, P), T(1), part);
      }
  });
  run_range("kpde::conv.reduce_grad", nw, static_cast<double>(nw) * groups, [&](const std::size_t i) {
    T s = T(0);
    for (int grp = 0; grp < groups; ++grp) s += partial(nw * grp + i);
    gw[i] += s;
  });
}

// gb[c] += sum_b sum_i m[b][c][i] for maps m [B][C][n] (8 running sums per channel, in a fixed order).
template <class T>
void channel_sums_add(const T* m, int B, int C, int n, T* gb) {
  constexpr int L = 8;
  run_range("kpde::conv.bias_grad", C, static_cast<double>(B) * C * n, [&](const std::size_t c) {
    T acc[L] = {};
    for (int b = 0; b < B; ++b) {
      const T* v = m + (static_cast<std::size_t>(b) * C + c) * n;
      int i = 0;
      for (; i + L <= n; i += L)
        for (int l = 0; l < L; ++l) acc[l] += v[i + l];
      for (; i < n; ++i) acc[i % L] += v[i];
    }
    gb[c] += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  });
}


void require_at_least(const char* layer, const char* field, int value, int least) {
  if (value < least)
    throw InputError(std::string(layer) + ": " + field + " must be >= " + std::to_string(least) + ", got " +
                     std::to_string(value));
}

// Conv2d's engine geometry for an input x [B][C_in][H][W] (checked).
template <class V>
ConvGeom conv2d_geom(const Conv2dSpec& s, const V& x, const char* where) {
  const int H = static_cast<int>(x.extent(2)), W = static_cast<int>(x.extent(3));
  detail::check_map(where, "x", x, static_cast<int>(x.extent(0)), s.in_channels, H, W);
  const int Ho = (H + 2 * s.padding - s.kernel) / s.stride + 1, Wo = (W + 2 * s.padding - s.kernel) / s.stride + 1;
  if (H + 2 * s.padding < s.kernel || W + 2 * s.padding < s.kernel)
    throw InputError(std::string(where) + ": the input " + std::to_string(H) + " x " + std::to_string(W) +
                     " with padding " + std::to_string(s.padding) + " is smaller than the kernel " +
                     std::to_string(s.kernel));
  if (s.pad == PadMode::reflect && (s.padding >= H || s.padding >= W))
    throw InputError(std::string(where) + ": reflect padding " + std::to_string(s.padding) +
                     " needs an input larger than the padding, got " + std::to_string(H) + " x " + std::to_string(W) +
                     " (use zeros or circular padding, or a smaller padding)");
  return {s.in_channels, s.out_channels, s.kernel, s.stride, s.padding, s.pad, H, W, Ho, Wo};
}

// ConvTranspose2d as the adjoint of a zero-padded conv from its output [C_out][Ho][Wo] to its
// input [C_in][H][W], for an input x [B][C_in][H][W] (checked).
template <class V>
ConvGeom conv_transpose_geom(const ConvTranspose2dSpec& s, const V& x, const char* where) {
  const int H = static_cast<int>(x.extent(2)), W = static_cast<int>(x.extent(3));
  detail::check_map(where, "x", x, static_cast<int>(x.extent(0)), s.in_channels, H, W);
  const auto extent = [&](int n) { return (n - 1) * s.stride - 2 * s.padding + s.kernel + s.output_padding; };
  if (H < 1 || W < 1 || extent(H) < 1 || extent(W) < 1)
    throw InputError(std::string(where) + ": the input " + std::to_string(H) + " x " + std::to_string(W) +
                     " gives an empty output (Ho = (H - 1) stride - 2 padding + kernel + output_padding)");
  return {s.out_channels, s.in_channels, s.kernel, s.stride, s.padding, PadMode::zeros, extent(H), extent(W), H, W};
}

template <class T>
void uniform_init(T* params, std::size_t n, int fan_in, Rng& rng) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  for (std::size_t i = 0; i < n; ++i) params[i] = static_cast<T>(bound * (2 * rng.uniform() - 1));
}

}  // namespace

void set_conv3x3_engine(Conv3x3Engine e) {
  g_conv3x3 = e;
}
Conv3x3Engine conv3x3_engine() {
  return g_conv3x3;
}

// ---- Conv2d --------------------------------------------------------------------------------

void Conv2dSpec::validate() const {
  require_at_least("Conv2d", "in_channels", in_channels, 1);
  require_at_least("Conv2d", "out_channels", out_channels, 1);
  require_at_least("Conv2d", "kernel", kernel, 1);
  require_at_least("Conv2d", "stride", stride, 1);
  require_at_least("Conv2d", "padding", padding, 0);
}

template <class T>
Conv2d<T>::Conv2d(const Conv2dSpec& spec) : spec_(spec) {
  spec_.validate();
}

template <class T>
std::size_t Conv2d<T>::n_params() const {
  const std::size_t nw =
      static_cast<std::size_t>(spec_.out_channels) * spec_.in_channels * spec_.kernel * spec_.kernel;
  return nw + (spec_.bias ? spec_.out_channels : 0);
}

template <class T>
int Conv2d<T>::out_extent(int n) const {
  return (n + 2 * spec_.padding - spec_.kernel) / spec_.stride + 1;
}

template <class T>
void Conv2d<T>::init(T* params, Rng& rng) const {
  uniform_init(params, n_params(), spec_.in_channels * spec_.kernel * spec_.kernel, rng);
}

template <class T>
void Conv2d<T>::forward(const T* params, const Arr4<const T>& x, const Arr4<T>& y) const {
  const ConvGeom g = conv2d_geom(spec_, x, "Conv2d::forward");
  const int B = static_cast<int>(x.extent(0));
  detail::check_map("Conv2d::forward", "y", y, B, g.cout, g.Ho, g.Wo);
  KPDE_ASSERT(params != nullptr, "Conv2d::forward: params");
  const T* bias = spec_.bias ? params + static_cast<std::size_t>(g.K()) * g.cout : nullptr;
  conv_apply("kpde::Conv2d::forward", g, params, bias, x.data(), y.data(), B);
}

template <class T>
void Conv2d<T>::backward(const T* params, const Arr4<const T>& x, const Arr4<const T>& dy, const Arr4<T>& dx,
                         T* grad) const {
  const ConvGeom g = conv2d_geom(spec_, x, "Conv2d::backward");
  const int B = static_cast<int>(x.extent(0));
  detail::check_map("Conv2d::backward", "dy", dy, B, g.cout, g.Ho, g.Wo);
  if (dx.data()) detail::check_map("Conv2d::backward", "dx", dx, B, g.cin, g.H, g.W);
  KPDE_ASSERT(params != nullptr && grad != nullptr, "Conv2d::backward: params and grad");
  KPDE_ASSERT(dx.data() != x.data() && dx.data() != dy.data(), "Conv2d::backward: dx aliases x or dy");
  conv_weight_grad("kpde::Conv2d::weight_grad", g, x.data(), dy.data(), B, grad);
  if (spec_.bias) channel_sums_add(dy.data(), B, g.cout, g.P(), grad + static_cast<std::size_t>(g.K()) * g.cout);
  const T* no_bias = nullptr;
  if (dx.data()) conv_adjoint("kpde::Conv2d::input_grad", g, params, no_bias, dy.data(), dx.data(), B);
}

template <class T>
double Conv2d<T>::forward_flops(int B, int H, int W) const {
  return 2.0 * B * out_extent(H) * out_extent(W) * spec_.out_channels * spec_.in_channels * spec_.kernel *
         spec_.kernel;
}

// ---- ConvTranspose2d -----------------------------------------------------------------------

void ConvTranspose2dSpec::validate() const {
  require_at_least("ConvTranspose2d", "in_channels", in_channels, 1);
  require_at_least("ConvTranspose2d", "out_channels", out_channels, 1);
  require_at_least("ConvTranspose2d", "kernel", kernel, 1);
  require_at_least("ConvTranspose2d", "stride", stride, 1);
  require_at_least("ConvTranspose2d", "padding", padding, 0);
  require_at_least("ConvTranspose2d", "output_padding", output_padding, 0);
  if (output_padding >= stride)
    throw InputError("ConvTranspose2d: output_padding must be smaller than stride, got output_padding " +
                     std::to_string(output_padding) + " and stride " + std::to_string(stride));
}

template <class T>
ConvTranspose2d<T>::ConvTranspose2d(const ConvTranspose2dSpec& spec) : spec_(spec) {
  spec_.validate();
}

template <class T>
std::size_t ConvTranspose2d<T>::n_params() const {
  const std::size_t nw =
      static_cast<std::size_t>(spec_.in_channels) * spec_.out_channels * spec_.kernel * spec_.kernel;
  return nw + (spec_.bias ? spec_.out_channels : 0);
}

template <class T>
int ConvTranspose2d<T>::out_extent(int n) const {
  return (n - 1) * spec_.stride - 2 * spec_.padding + spec_.kernel + spec_.output_padding;
}

template <class T>
void ConvTranspose2d<T>::init(T* params, Rng& rng) const {
  uniform_init(params, n_params(), spec_.out_channels * spec_.kernel * spec_.kernel, rng);
}

template <class T>
void ConvTranspose2d<T>::forward(const T* params, const Arr4<const T>& x, const Arr4<T>& y) const {
  const ConvGeom g = conv_transpose_geom(spec_, x, "ConvTranspose2d::forward");
  const int B = static_cast<int>(x.extent(0));
  detail::check_map("ConvTranspose2d::forward", "y", y, B, g.cin, g.H, g.W);
  KPDE_ASSERT(params != nullptr, "ConvTranspose2d::forward: params");
  const T* bias = spec_.bias ? params + static_cast<std::size_t>(g.K()) * g.cout : nullptr;
  conv_adjoint("kpde::ConvTranspose2d::forward", g, params, bias, x.data(), y.data(), B);
}

template <class T>
void ConvTranspose2d<T>::backward(const T* params, const Arr4<const T>& x, const Arr4<const T>& dy,
                                  const Arr4<T>& dx, T* grad) const {
  const ConvGeom g = conv_transpose_geom(spec_, x, "ConvTranspose2d::backward");
  const int B = static_cast<int>(x.extent(0));
  detail::check_map("ConvTranspose2d::backward", "dy", dy, B, g.cin, g.H, g.W);
  if (dx.data()) detail::check_map("ConvTranspose2d::backward", "dx", dx, B, g.cout, g.Ho, g.Wo);
  KPDE_ASSERT(params != nullptr && grad != nullptr, "ConvTranspose2d::backward: params and grad");
  KPDE_ASSERT(dx.data() != x.data() && dx.data() != dy.data(), "ConvTranspose2d::backward: dx aliases x or dy");
  // The engine's conv goes from this layer's output (dy's shape) to its input (x's shape).
  conv_weight_grad("kpde::ConvTranspose2d::weight_grad", g, dy.data(), x.data(), B, grad);
  if (spec_.bias) channel_sums_add(dy.data(), B, g.cin, g.H * g.W, grad + static_cast<std::size_t>(g.K()) * g.cout);
  const T* no_bias = nullptr;
  if (dx.data()) conv_apply("kpde::ConvTranspose2d::input_grad", g, params, no_bias, dy.data(), dx.data(), B);
}

template <class T>
double ConvTranspose2d<T>::forward_flops(int B, int H, int W) const {
  return 2.0 * B * H * W * spec_.in_channels * spec_.out_channels * spec_.kernel * spec_.kernel;
}

template class Conv2d<float>;
template class Conv2d<double>;
template class ConvTranspose2d<float>;
template class ConvTranspose2d<double>;

}  // namespace kpde::nn
