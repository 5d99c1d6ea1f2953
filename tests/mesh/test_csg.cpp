// CSG: sign consistency with set membership, Lipschitz bound, normals, parts, areas.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/rng.hpp"
#include "geometries.hpp"

using namespace kpde::mesh;
using kpde::mesh::test_geometries::kPi;
namespace tg = kpde::mesh::test_geometries;

namespace {

// Compares sign(phi) with an independent membership test on random points of
// [lo,hi]^2 and checks |phi(a) - phi(b)| <= |a - b| (min/max keep phi 1-Lipschitz).
void check_sign_and_lipschitz(const Geometry& g, const std::function<int(double, double)>& member,
                              double lo = -1.5, double hi = 1.5) {
  kpde::Rng rng(11);
  int n_in = 0;
  for (int t = 0; t < 20000; ++t) {
    const Point a{lo + (hi - lo) * rng.uniform(), lo + (hi - lo) * rng.uniform(), 0};
    const double pa = g.sdf(a);
    const int m = member(a[0], a[1]);
    if (m != 2) {  // 2: too close to the boundary to judge
      ASSERT_EQ(pa < 0, m == 1) << a[0] << "," << a[1] << " phi=" << pa;
      ASSERT_EQ(g.inside(a), m == 1);
    }
    n_in += pa < 0;
    const Point b{a[0] + 0.1 * (rng.uniform() - 0.5), a[1] + 0.1 * (rng.uniform() - 0.5), 0};
    ASSERT_LE(std::abs(pa - g.sdf(b)), std::hypot(a[0] - b[0], a[1] - b[1]) * (1 + 1e-12));
  }
  EXPECT_GT(n_in, 100);
}

int classify(double margin, bool in) { return margin < 1e-9 ? 2 : in ? 1 : 0; }

}  // namespace

TEST(Csg, SignMatchesMembershipForEveryOperation) {
  // box minus two disks
  const Geometry holes(box({-1, -1}, {1, 1}) - disk("a", 0.3, 0.2, 0.4) - disk("b", -0.5, -0.5, 0.3));
  check_sign_and_lipschitz(holes, [](double x, double y) {
    const double da = std::hypot(x - 0.3, y - 0.2) - 0.4, db = std::hypot(x + 0.5, y + 0.5) - 0.3;
    const double dbox = std::max(std::abs(x), std::abs(y)) - 1;
    const double margin = std::min({std::abs(da), std::abs(db), std::abs(dbox)});
    return classify(margin, dbox < 0 && da > 0 && db > 0);
  });
  // union of a disk and a triangle
  const Geometry uni(disk("d", 0, 0, 0.5) | triangle("t", {0, 0}, {1.2, 0}, {0, 1.2}));
  check_sign_and_lipschitz(uni, [](double x, double y) {
    const double dd = std::hypot(x, y) - 0.5;
    const bool in_t = x > 0 && y > 0 && x + y < 1.2;
    const double mt = std::min({std::abs(x), std::abs(y), std::abs(x + y - 1.2) / std::sqrt(2.0)});
    return classify(std::min(std::abs(dd), mt), dd < 0 || in_t);
  });
  // intersection of a box and a disk, minus a polygon
  const Geometry inter((box({-1, -1}, {1, 1}) & disk("d", 0, 0, 1.2)) -
                       polygon("p", {{-0.2, -0.2}, {0.6, -0.2}, {0.6, 0.1}, {0.1, 0.1}, {0.1, 0.5}, {-0.2, 0.5}}));
  check_sign_and_lipschitz(inter, [](double x, double y) {
    const double dbox = std::max(std::abs(x), std::abs(y)) - 1, dd = std::hypot(x, y) - 1.2;
    const bool in_p = (x > -0.2 && x < 0.6 && y > -0.2 && y < 0.1) || (x > -0.2 && x < 0.1 && y > -0.2 && y < 0.5);
    const double mp = std::min({std::abs(x + 0.2), std::abs(x - 0.6), std::abs(x - 0.1), std::abs(y + 0.2),
                                std::abs(y - 0.1), std::abs(y - 0.5)});
    return classify(std::min({std::abs(dbox), std::abs(dd), mp}), dbox < 0 && dd < 0 && !in_p);
  });
}

TEST(Csg, LShapeSdfNormalsAndParts) {
  const Geometry g = tg::l_shape();
  EXPECT_EQ(g.n_parts(), 5);
  EXPECT_EQ(g.part_names(), (std::vector<std::string>{"left", "right", "bottom", "top", "quad"}));
  EXPECT_DOUBLE_EQ(g.sdf(Point{0.5, 0.5, 0}), 0.5);     // in the removed quadrant
  EXPECT_DOUBLE_EQ(g.sdf(Point{-0.5, 0.5, 0}), -0.5);
  EXPECT_DOUBLE_EQ(g.sdf(Point{-0.5, -0.5, 0}), -0.5);
  EXPECT_DOUBLE_EQ(g.sdf(Point{0, 0.5, 0}), 0.0);       // re-entrant edge
  EXPECT_FALSE(g.inside(Point{0.5, 0.5, 0}));
  EXPECT_TRUE(g.inside(Point{0.5, -0.5, 0}));
  // normals on the re-entrant edges point into the removed quadrant (out of the domain)
  EXPECT_EQ(g.normal(Point{0, 0.5, 0}), (Point{1, 0, 0}));
  EXPECT_EQ(g.normal(Point{0.5, 0, 0}), (Point{0, 1, 0}));
  EXPECT_EQ(g.normal(Point{-1, 0.5, 0}), (Point{-1, 0, 0}));
  EXPECT_EQ(g.normal(Point{0.5, -1, 0}), (Point{0, -1, 0}));
  EXPECT_EQ(g.part_name(g.closest_part(Point{-0.9, 0.1, 0})), "left");
  EXPECT_EQ(g.part_name(g.closest_part(Point{0.5, -0.95, 0})), "bottom");
  EXPECT_EQ(g.part_name(g.closest_part(Point{0.95, -0.5, 0})), "right");
  EXPECT_EQ(g.part_name(g.closest_part(Point{-0.5, 0.97, 0})), "top");
  EXPECT_EQ(g.part_name(g.closest_part(Point{-0.1, 0.5, 0})), "quad");
  EXPECT_EQ(g.part_name(g.closest_part(Point{0.5, -0.1, 0})), "quad");
  // part lengths: left 2, right 1, bottom 2, top 1, quad 2 (its two re-entrant edges)
  const double expect[5] = {2, 1, 2, 1, 2};
  for (int id = 0; id < 5; ++id) EXPECT_NEAR(g.part_length(id), expect[id], 2e-3) << g.part_name(id);
  EXPECT_NEAR(g.measure(), 3.0, 1e-3);
}

TEST(Csg, DiskHoleNormalsPointIntoTheHole) {
  const Geometry g = tg::box_minus_disk(0.5, 0.2, -0.1);
  kpde::Rng rng(5);
  for (int t = 0; t < 100; ++t) {
    const double th = 2 * kPi * rng.uniform();
    const Point x{0.2 + 0.5 * std::cos(th), -0.1 + 0.5 * std::sin(th), 0};
    const Point n = g.normal(x);
    EXPECT_NEAR(n[0], -std::cos(th), 1e-12);
    EXPECT_NEAR(n[1], -std::sin(th), 1e-12);
    EXPECT_EQ(g.part_name(g.closest_part(x)), "disk1");
    EXPECT_NEAR(g.sdf(x), 0.0, 1e-15);
  }
  EXPECT_NEAR(g.sdf(Point{0.2, -0.1, 0}), 0.5, 1e-15);  // the hole's centre is outside
  EXPECT_NEAR(g.sdf(Point{0.2, 0.5, 0}), -0.1, 1e-15);  // between the hole and the box
}

TEST(Csg, NormalsAreUnitAndIncreaseSdfAtRandomPoints) {
  const Geometry g = tg::four_holes();
  kpde::Rng rng(9);
  int n_checked = 0;
  for (int t = 0; t < 5000; ++t) {
    const Point x{-1.2 + 2.4 * rng.uniform(), -1.2 + 2.4 * rng.uniform(), 0};
    const Point n = g.normal(x);
    EXPECT_NEAR(std::hypot(n[0], n[1]), 1.0, 1e-12);
    const double h = 1e-6;
    const double up = g.sdf(Point{x[0] + h * n[0], x[1] + h * n[1], 0});
    const double dn = g.sdf(Point{x[0] - h * n[0], x[1] - h * n[1], 0});
    // where phi is differentiable its directional derivative along n is |grad phi| = 1
    if (std::abs((up - dn) / (2 * h) - 1) < 1e-6) ++n_checked;
    EXPECT_GT(up, dn);
  }
  EXPECT_GT(n_checked, 4500);
}

TEST(Csg, AreaEstimates) {
  for (double r : {0.3, 0.5, 0.8}) {
    const Geometry g = tg::box_minus_disk(r);
    const double exact = 4 - kPi * r * r;
    const int n = 1 << 16;
    const double p = exact / 4, mc_sigma = 4 * std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(g.estimate_measure(n), exact, 4 * mc_sigma) << r;  // Sobol beats this
    EXPECT_NEAR(g.measure(), exact, 8 * mc_sigma) << r;
  }
  const Geometry lens(box({-1, -1}, {1, 1}) & disk("d", 0, 0, 1));
  EXPECT_NEAR(lens.estimate_measure(1 << 16), kPi, 1e-2);
  const Geometry u(disk("a", -0.5, 0, 0.5) | disk("b", 0.5, 0, 0.5));  // touching disks
  EXPECT_NEAR(u.estimate_measure(1 << 16), 2 * kPi * 0.25, 1e-2);
  const Geometry g3(box({0, 0, 0}, {1, 2, 3}) - box({0.5, 0.5, 0.5}, {1.5, 1.5, 1.5}, "cut"));
  EXPECT_NEAR(g3.estimate_measure(1 << 15), 6 - 0.5 * 1 * 1, 1e-2);
  EXPECT_EQ(g3.find_part("cut"), 6);
}

TEST(Csg, SharedEdgesOfUnionsAreNotBoundary) {
  // two unit squares side by side: the shared edge x = 1 is interior
  const Geometry g(rectangle("a", 0, 0, 1, 1) | rectangle("b", 1, 0, 2, 1));
  EXPECT_NEAR(g.part_length(0), 3.0, 2e-3);
  EXPECT_NEAR(g.part_length(1), 3.0, 2e-3);
  EXPECT_FALSE(g.on_boundary(0, Point{1, 0.5, 0}, Point{1, 0, 0}));
  EXPECT_TRUE(g.on_boundary(0, Point{0.5, 1, 0}, Point{0, 1, 0}));
  EXPECT_EQ(g.sdf(Point{1, 0.5, 0}), 0.0);  // phi = min(0, 0) on the shared edge: only a bound
}
