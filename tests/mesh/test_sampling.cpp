// Sobol, Latin hypercube, interior and boundary samplers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.hpp"
#include "geometries.hpp"
#include "mesh/sampling.hpp"
#include "mesh/sobol.hpp"

using namespace kpde::mesh;
using kpde::mesh::test_geometries::kPi;
namespace tg = kpde::mesh::test_geometries;

namespace {

bool same(const kpde::Mat<double>& a, const kpde::Mat<double>& b) {
  if (a.extent(0) != b.extent(0) || a.extent(1) != b.extent(1)) return false;
  for (std::size_t i = 0; i < a.extent(0); ++i)
    for (std::size_t k = 0; k < a.extent(1); ++k)
      if (a(i, k) != b(i, k)) return false;
  return true;
}

// All points of s on the boundary (|phi| < 1e-9), normals unit and outward, and the
// per-part counts equal boundary_counts.
void check_boundary_samples(const Geometry& g, const BoundarySamples& s, int n) {
  ASSERT_EQ(s.n_points(), n);
  const std::vector<int> expect = boundary_counts(g, n);
  std::vector<int> got(g.n_parts(), 0);
  const int d = g.dim();
  for (int i = 0; i < n; ++i) {
    Point x{0, 0, 0}, nr{0, 0, 0};
    double n2 = 0;
    for (int k = 0; k < d; ++k) x[k] = s.x(i, k), nr[k] = s.normal(i, k), n2 += nr[k] * nr[k];
    ASSERT_LT(std::abs(g.sdf(x)), 1e-9) << i;
    ASSERT_NEAR(n2, 1.0, 1e-12);
    Point up = x, dn = x;
    for (int k = 0; k < d; ++k) up[k] += 1e-6 * nr[k], dn[k] -= 1e-6 * nr[k];
    ASSERT_GT(g.sdf(up), 0.0) << i;  // outward: phi increases along n
    ASSERT_LT(g.sdf(dn), 0.0) << i;
    ASSERT_GE(s.part(i), 0);
    ASSERT_LT(s.part(i), g.n_parts());
    ++got[s.part(i)];
  }
  EXPECT_EQ(got, expect);
  EXPECT_EQ(s.part_names, g.part_names());
}

}  // namespace

TEST(Sobol, MatchesTheStandardSequence) {
  // Joe-Kuo / scipy.stats.qmc.Sobol(d=3, scramble=False), points 0..7, point 0 included
  const double expect[8][3] = {{0, 0, 0},           {0.5, 0.5, 0.5},       {0.75, 0.25, 0.25},
                               {0.25, 0.75, 0.75},  {0.375, 0.375, 0.625}, {0.875, 0.875, 0.125},
                               {0.625, 0.125, 0.875}, {0.125, 0.625, 0.375}};
  SobolSequence s3(3);
  double u[3];
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(s3.index(), std::uint64_t(i));
    s3.next(u);
    for (int k = 0; k < 3; ++k) EXPECT_EQ(u[k], expect[i][k]) << i << "," << k;
  }
  SobolSequence s2(2);
  s2.skip(1);  // the geometry sampler skips point 0 when unscrambled
  for (int i = 1; i < 8; ++i) {
    s2.next(u);
    EXPECT_EQ(u[0], expect[i][0]);
    EXPECT_EQ(u[1], expect[i][1]);
  }
  // stratification: the first 2^m points put one point in each 2^-m interval per axis
  SobolSequence s(3);
  const int m = 1024;
  std::vector<std::set<int>> cells(3);
  for (int i = 0; i < m; ++i) {
    s.next(u);
    for (int k = 0; k < 3; ++k) cells[k].insert(static_cast<int>(u[k] * m));
  }
  for (int k = 0; k < 3; ++k) EXPECT_EQ(cells[k].size(), std::size_t(m));
}

TEST(Sobol, ScrambledIsDeterministicPerSeedAndKeepsStrata) {
  double a[2], b[2], c[2];
  SobolSequence s1(2, true, 42), s2(2, true, 42), s3(2, true, 43);
  bool differs = false;
  std::set<int> cx;
  for (int i = 0; i < 256; ++i) {
    s1.next(a), s2.next(b), s3.next(c);
    EXPECT_EQ(a[0], b[0]);
    EXPECT_EQ(a[1], b[1]);
    differs |= a[0] != c[0];
    EXPECT_GE(a[0], 0.0);
    EXPECT_LT(a[0], 1.0);
    cx.insert(static_cast<int>(a[0] * 256));
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(cx.size(), 256u);
}

TEST(LatinHypercube, OnePointPerStratumInEveryDimension) {
  kpde::Rng rng(1);
  const int n = 257;
  const kpde::Mat<double> x = latin_hypercube(n, 3, rng);
  for (int k = 0; k < 3; ++k) {
    std::vector<int> count(n, 0);
    for (int i = 0; i < n; ++i) {
      ASSERT_GE(x(i, k), 0.0);
      ASSERT_LT(x(i, k), 1.0);
      ++count[static_cast<int>(std::floor(x(i, k) * n))];
    }
    for (int c : count) EXPECT_EQ(c, 1);
  }
}

TEST(InteriorSampling, LatinHypercubeOnABoxHasOnePointPerStratum) {
  const Geometry g(box({-1, 0}, {1, 2}));
  const int n = 500;
  const kpde::Mat<double> x = sample_interior(g, n, {InteriorMethod::latin_hypercube, 3});
  for (int k = 0; k < 2; ++k) {
    std::vector<int> count(n, 0);
    for (int i = 0; i < n; ++i) ++count[static_cast<int>(std::floor((x(i, k) - g.lo()[k]) / 2.0 * n))];
    for (int c : count) EXPECT_EQ(c, 1);
  }
}

TEST(InteriorSampling, SobolUnscrambledStartsWithTheKnownPoints) {
  const Geometry g(box({0, 0}, {1, 1}));
  InteriorOptions o{InteriorMethod::sobol, 0, false};
  const kpde::Mat<double> x = sample_interior(g, 4, o);
  EXPECT_EQ(x(0, 0), 0.5);
  EXPECT_EQ(x(0, 1), 0.5);
  EXPECT_EQ(x(1, 0), 0.75);
  EXPECT_EQ(x(1, 1), 0.25);
  EXPECT_EQ(x(2, 0), 0.25);
  EXPECT_EQ(x(2, 1), 0.75);
  EXPECT_EQ(x(3, 0), 0.375);
  EXPECT_EQ(x(3, 1), 0.375);
}

TEST(InteriorSampling, OnlyInsidePointsAndDeterministicPerSeed) {
  const Geometry geoms[] = {tg::box_minus_disk(0.5), tg::l_shape(), tg::four_holes()};
  for (const Geometry& g : geoms)
    for (InteriorMethod m : {InteriorMethod::uniform, InteriorMethod::latin_hypercube, InteriorMethod::sobol}) {
      const int n = 3000;
      const kpde::Mat<double> a = sample_interior(g, n, {m, 7});
      const kpde::Mat<double> b = sample_interior(g, n, {m, 7});
      const kpde::Mat<double> c = sample_interior(g, n, {m, 8});
      ASSERT_EQ(a.extent(0), std::size_t(n));
      EXPECT_TRUE(same(a, b)) << to_string(m);
      EXPECT_FALSE(same(a, c)) << to_string(m);
      for (int i = 0; i < n; ++i) ASSERT_LT(g.sdf(row_point(a, i)), 0.0) << to_string(m) << " " << i;
      // uniform density: the share of points with x < 0 matches its share of the area
      int left = 0;
      for (int i = 0; i < n; ++i) left += a(i, 0) < 0;
      const Geometry left_half(g.shape() & box({-1, -1}, {0, 1}, "half"), GeometryOptions{1 << 14, 4096, true});
      const double share = left_half.estimate_measure(1 << 16) / g.estimate_measure(1 << 16);
      EXPECT_NEAR(double(left) / n, share, 0.04) << to_string(m);
    }
}

TEST(InteriorSampling, MethodNamesAndCounts) {
  EXPECT_EQ(parse_interior_method("LHS"), InteriorMethod::latin_hypercube);
  EXPECT_EQ(parse_interior_method("Sobol"), InteriorMethod::sobol);
  EXPECT_EQ(parse_interior_method("uniform"), InteriorMethod::uniform);
  const Geometry g = tg::l_shape();
  EXPECT_EQ(sample_interior(g, 0).extent(0), 0u);
  EXPECT_THROW(sample_interior(g, -1), kpde::InputError);
}

TEST(BoundarySampling, BoxMinusDiskCountsFollowLengths) {
  const Geometry g = tg::box_minus_disk(0.5);
  for (int id = 0; id < 4; ++id) EXPECT_DOUBLE_EQ(g.part_length(id), 2.0);
  EXPECT_NEAR(g.part_length(4), kPi, 1e-12);
  const int n = 10000;
  const BoundarySamples s = sample_boundary(g, n, 1);
  check_boundary_samples(g, s, n);
  const std::vector<int> counts = boundary_counts(g, n);
  const double total = 8 + kPi;
  for (int id = 0; id < 5; ++id) EXPECT_NEAR(counts[id], n * g.part_length(id) / total, 1.0);
  // analytic normals: sides and the hole (pointing to the hole's centre)
  for (int i = 0; i < n; ++i) {
    const double x = s.x(i, 0), y = s.x(i, 1);
    switch (s.part(i)) {
      case 0: EXPECT_EQ(x, -1.0); EXPECT_EQ(s.normal(i, 0), -1.0); break;
      case 1: EXPECT_EQ(x, 1.0); EXPECT_EQ(s.normal(i, 0), 1.0); break;
      case 2: EXPECT_EQ(y, -1.0); EXPECT_EQ(s.normal(i, 1), -1.0); break;
      case 3: EXPECT_EQ(y, 1.0); EXPECT_EQ(s.normal(i, 1), 1.0); break;
      default:
        EXPECT_NEAR(s.normal(i, 0), -x / 0.5, 1e-12);
        EXPECT_NEAR(s.normal(i, 1), -y / 0.5, 1e-12);
    }
  }
  // uniform along the hole: 8 equal arcs get about the same number of points
  std::vector<int> arcs(8, 0);
  for (int i = 0; i < n; ++i)
    if (s.part(i) == 4) ++arcs[static_cast<int>((std::atan2(s.x(i, 1), s.x(i, 0)) + kPi) / (2 * kPi) * 8) % 8];
  for (int a : arcs) EXPECT_NEAR(a, counts[4] / 8.0, 5 * std::sqrt(counts[4] / 8.0));
  // deterministic per seed
  const BoundarySamples s2 = sample_boundary(g, n, 1), s3 = sample_boundary(g, n, 2);
  EXPECT_TRUE(same(s.x, s2.x));
  EXPECT_FALSE(same(s.x, s3.x));
}

TEST(BoundarySampling, HoleCrossingTheBoxKeepsOnlyBoundaryPieces) {
  // a disk hole of radius 0.5 centred on the right side: it removes y in [-0.5, 0.5]
  // of the right side, and only its left half-circle is boundary
  const Geometry g = tg::box_minus_disk(0.5, 1.0, 0.0);
  EXPECT_NEAR(g.part_length(1), 1.0, 2e-3);          // right
  EXPECT_NEAR(g.part_length(4), kPi * 0.5, 2e-3);    // half of 2 pi r
  const int n = 4000;
  const BoundarySamples s = sample_boundary(g, n, 5);
  check_boundary_samples(g, s, n);
  for (int i = 0; i < n; ++i) {
    if (s.part(i) == 1) {
      EXPECT_GE(std::abs(s.x(i, 1)), 0.5 - 1e-12);
    }
    if (s.part(i) == 4) {
      EXPECT_LE(s.x(i, 0), 1.0 + 1e-12);
    }
  }
}

TEST(BoundarySampling, LShapeAndFourHoles) {
  const Geometry l = tg::l_shape();
  const int n = 8000;
  const BoundarySamples s = sample_boundary(l, n, 3);
  check_boundary_samples(l, s, n);
  const std::vector<int> counts = boundary_counts(l, n);
  EXPECT_NEAR(counts[l.find_part("right")], 1000, 3);
  EXPECT_NEAR(counts[l.find_part("quad")], 2000, 3);
  for (int i = 0; i < n; ++i)
    if (s.part(i) == l.find_part("quad")) {  // on the re-entrant edges, normals into the quadrant
      const bool vertical = s.x(i, 0) == 0.0;
      EXPECT_TRUE(vertical || s.x(i, 1) == 0.0);
      EXPECT_EQ(s.normal(i, 0), vertical ? 1.0 : 0.0);
      EXPECT_EQ(s.normal(i, 1), vertical ? 0.0 : 1.0);
    }
  const Geometry c = tg::four_holes();
  check_boundary_samples(c, sample_boundary(c, 3000, 4), 3000);
  // only the holes (Dirichlet u = 0 in PS-C), through the part selection
  const std::vector<int> holes = {c.part_id("c0"), c.part_id("c1"), c.part_id("c2"), c.part_id("c3")};
  const BoundarySamples h = sample_boundary(c, 400, 4, holes);
  for (int i = 0; i < 400; ++i) EXPECT_GE(h.part(i), 4);
  EXPECT_EQ(boundary_counts(c, 400, holes)[4], 100);
}

TEST(BoundarySampling, OneAndThreeDimensionalBoxes) {
  const Geometry g1(box({-2}, {3}));
  const BoundarySamples s1 = sample_boundary(g1, 10, 0);
  check_boundary_samples(g1, s1, 10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(s1.x(i, 0), s1.part(i) == 0 ? -2.0 : 3.0);
  const kpde::Mat<double> x1 = sample_interior(g1, 100, {InteriorMethod::sobol});
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(x1(i, 0) > -2 && x1(i, 0) < 3);

  const Geometry g3(box({0, 0, 0}, {1, 2, 3}));
  const int n = 2200;
  const BoundarySamples s3 = sample_boundary(g3, n, 0);
  check_boundary_samples(g3, s3, n);
  // face areas: left/right 6, bottom/top 3, front/back 2 of 22
  EXPECT_EQ(boundary_counts(g3, n), (std::vector<int>{600, 600, 300, 300, 200, 200}));
  const kpde::Mat<double> x3 = sample_interior(g3, 1000, {InteriorMethod::latin_hypercube, 1});
  for (int i = 0; i < 1000; ++i) ASSERT_LT(g3.sdf(row_point(x3, i)), 0.0);
}
