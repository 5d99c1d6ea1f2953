// Signed distances, gradients and boundary parametrisations of the primitives.
#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.hpp"
#include "mesh/primitive.hpp"
#include "mesh/shape.hpp"

using namespace kpde::mesh;

namespace {

constexpr double kPi = 3.14159265358979323846;

double sdf(const Primitive& p, double x, double y = 0, double z = 0) { return p.sdf(Point{x, y, z}); }

// Central differences of phi; near kinks the result has norm < 1 and is skipped.
Point fd_gradient(const Primitive& p, const Point& x, double h = 1e-6) {
  Point g{0, 0, 0};
  for (int k = 0; k < p.dim(); ++k) {
    Point a = x, b = x;
    a[k] += h, b[k] -= h;
    g[k] = (p.sdf(a) - p.sdf(b)) / (2 * h);
  }
  return g;
}

// Where phi is smooth, grad phi from gradient() equals the finite-difference gradient.
void check_gradient(const Primitive& p, const Point& lo, const Point& hi, int n_smooth_min) {
  kpde::Rng rng(7);
  int n_smooth = 0;
  for (int t = 0; t < 2000; ++t) {
    Point x{0, 0, 0};
    for (int k = 0; k < p.dim(); ++k) x[k] = lo[k] - 0.5 + (hi[k] - lo[k] + 1) * rng.uniform();
    const Point fd = fd_gradient(p, x);
    double n2 = 0;
    for (double v : fd) n2 += v * v;
    if (std::abs(std::sqrt(n2) - 1) > 1e-6) continue;  // on a kink (medial axis, corner)
    ++n_smooth;
    const Point g = p.gradient(x, nullptr);
    for (int k = 0; k < 3; ++k) ASSERT_NEAR(g[k], fd[k], 1e-5) << p.describe() << " at " << x[0] << "," << x[1];
  }
  EXPECT_GE(n_smooth, n_smooth_min);
}

// part_point lands on the primitive's boundary with the primitive's outward normal.
void check_part_points(const Primitive& p) {
  kpde::Rng rng(3);
  for (int k = 0; k < p.n_parts(); ++k)
    for (int t = 0; t < 200; ++t) {
      double u[2] = {rng.uniform(), rng.uniform()};
      Point n;
      const Point x = p.part_point(k, u, &n);
      EXPECT_NEAR(p.sdf(x), 0.0, 1e-14);
      double n2 = 0;
      for (double v : n) n2 += v * v;
      EXPECT_NEAR(n2, 1.0, 1e-14);
      Point a = x, b = x;
      for (int i = 0; i < p.dim(); ++i) a[i] += 1e-7 * n[i], b[i] -= 1e-7 * n[i];
      EXPECT_GT(p.sdf(a), 0.0);
      EXPECT_LT(p.sdf(b), 0.0);
    }
}

}  // namespace

TEST(Primitive, Box2dSdfMatchesAnalyticValues) {
  const Box b({-1, -1}, {1, 2});  // centre (0, 0.5), half sizes (1, 1.5)
  EXPECT_DOUBLE_EQ(sdf(b, 0, 0.5), -1.0);    // centre: nearest side at distance 1
  EXPECT_DOUBLE_EQ(sdf(b, 0.5, 0.5), -0.5);  // inside, right side closest
  EXPECT_NEAR(sdf(b, 0, 1.8), -0.2, 1e-15);    // inside, top closest
  EXPECT_DOUBLE_EQ(sdf(b, 1, 0), 0.0);       // on the right side
  EXPECT_DOUBLE_EQ(sdf(b, 1, 2), 0.0);       // corner
  EXPECT_DOUBLE_EQ(sdf(b, 2, 0), 1.0);       // outside, beside the right side
  EXPECT_DOUBLE_EQ(sdf(b, 2, 3), std::sqrt(2.0));      // outside, beyond the corner (1,2)
  EXPECT_NEAR(sdf(b, -1.3, -1.4), 0.5, 1e-15);          // beyond corner (-1,-1): 0.3,0.4 -> 0.5
  EXPECT_NEAR(sdf(b, 0.999, 1.999), -0.001, 1e-15);    // just inside the corner
  EXPECT_EQ(b.n_parts(), 4);
  EXPECT_EQ(b.part_name(0), "left");
  EXPECT_EQ(b.part_name(3), "top");
  EXPECT_DOUBLE_EQ(b.part_measure(0), 3.0);  // left side: length of the y extent
  EXPECT_DOUBLE_EQ(b.part_measure(2), 2.0);  // bottom side
}

TEST(Primitive, Box1dAnd3dSdf) {
  const Box b1({0}, {2});
  EXPECT_DOUBLE_EQ(sdf(b1, 0.5), -0.5);
  EXPECT_DOUBLE_EQ(sdf(b1, 3), 1.0);
  EXPECT_DOUBLE_EQ(sdf(b1, 0), 0.0);
  EXPECT_EQ(b1.n_parts(), 2);
  EXPECT_DOUBLE_EQ(b1.part_measure(0), 1.0);  // an end point: counting measure
  const Box b3({0, 0, 0}, {1, 2, 3});
  EXPECT_DOUBLE_EQ(sdf(b3, 0.5, 1, 1.5), -0.5);
  EXPECT_DOUBLE_EQ(sdf(b3, 2, 3, 4), std::sqrt(3.0));
  EXPECT_DOUBLE_EQ(sdf(b3, 0.5, 1, 3.25), 0.25);
  EXPECT_EQ(b3.n_parts(), 6);
  EXPECT_EQ(b3.part_name(4), "front");
  EXPECT_EQ(b3.part_name(5), "back");
  EXPECT_DOUBLE_EQ(b3.part_measure(0), 6.0);  // x side: 2 x 3
  EXPECT_DOUBLE_EQ(b3.part_measure(4), 2.0);  // z side: 1 x 2
  check_part_points(b1);
  check_part_points(b3);
  check_gradient(b3, Point{0, 0, 0}, Point{1, 2, 3}, 1000);
}

TEST(Primitive, BoxNormalsAndClosestSide) {
  const Box b({-1, -1}, {1, 1});
  int part = -1;
  Point n = b.gradient(Point{-1, 0.3, 0}, &part);
  EXPECT_EQ(part, 0);
  EXPECT_EQ(n, (Point{-1, 0, 0}));
  n = b.gradient(Point{0.2, 1, 0}, &part);
  EXPECT_EQ(part, 3);
  EXPECT_EQ(n, (Point{0, 1, 0}));
  n = b.gradient(Point{0.2, -0.9, 0}, &part);  // inside, bottom closest
  EXPECT_EQ(part, 2);
  EXPECT_EQ(n, (Point{0, -1, 0}));
  n = b.gradient(Point{2, 2, 0}, &part);  // outside beyond a corner: radial
  EXPECT_NEAR(n[0], std::sqrt(0.5), 1e-15);
  EXPECT_NEAR(n[1], std::sqrt(0.5), 1e-15);
  check_gradient(b, Point{-1, -1, 0}, Point{1, 1, 0}, 1000);
  check_part_points(b);
  const Box named({-1, -1}, {1, 1}, "r");
  EXPECT_EQ(named.n_parts(), 1);
  EXPECT_DOUBLE_EQ(named.part_measure(0), 8.0);
  check_part_points(named);
}

TEST(Primitive, DiskSdfAndNormal) {
  const Disk d("d", 0.5, -0.25, 0.5);
  EXPECT_DOUBLE_EQ(sdf(d, 0.5, -0.25), -0.5);
  EXPECT_DOUBLE_EQ(sdf(d, 1.0, -0.25), 0.0);
  EXPECT_DOUBLE_EQ(sdf(d, 2.0, -0.25), 1.0);
  EXPECT_NEAR(sdf(d, 0.5 + 0.3, -0.25 + 0.4), 0.0, 1e-15);
  EXPECT_NEAR(sdf(d, 0.5 + 0.6, -0.25 + 0.8), 0.5, 1e-15);
  const Point n = d.gradient(Point{0.5 + 0.3, -0.25 + 0.4, 0}, nullptr);
  EXPECT_NEAR(n[0], 0.6, 1e-15);
  EXPECT_NEAR(n[1], 0.8, 1e-15);
  EXPECT_DOUBLE_EQ(d.part_measure(0), kPi);
  check_gradient(d, Point{0, -0.75, 0}, Point{1, 0.25, 0}, 1000);
  check_part_points(d);
}

TEST(Primitive, TriangleSdfBothOrientations) {
  for (bool ccw : {true, false}) {
    const std::vector<Vertex> v =
        ccw ? std::vector<Vertex>{{0, 0}, {1, 0}, {0, 1}} : std::vector<Vertex>{{0, 0}, {0, 1}, {1, 0}};
    const Polygon t("t", v, "triangle");
    EXPECT_NEAR(sdf(t, 0.25, 0.25), -0.25, 1e-15);
    EXPECT_NEAR(sdf(t, 0.3, 0.1), -0.1, 1e-15);
    EXPECT_NEAR(sdf(t, 1, 1), std::sqrt(0.5), 1e-15);  // beyond the hypotenuse
    EXPECT_NEAR(sdf(t, -1, -1), std::sqrt(2.0), 1e-15);  // beyond the corner (0,0)
    EXPECT_NEAR(sdf(t, 2, 0), 1.0, 1e-15);               // beyond the corner (1,0)
    EXPECT_NEAR(sdf(t, 0.5, 0), 0.0, 1e-15);             // on an edge
    EXPECT_NEAR(sdf(t, 0.5, 0.5), 0.0, 1e-15);           // on the hypotenuse
    EXPECT_NEAR(t.part_measure(0), 2 + std::sqrt(2.0), 1e-14);
    EXPECT_EQ(t.input_signed_area() > 0, ccw);
    const Point n = t.gradient(Point{0.5, 0.5, 0}, nullptr);  // hypotenuse normal
    EXPECT_NEAR(n[0], std::sqrt(0.5), 1e-15);
    EXPECT_NEAR(n[1], std::sqrt(0.5), 1e-15);
    const Point nb = t.gradient(Point{0.4, 0, 0}, nullptr);
    EXPECT_NEAR(nb[0], 0.0, 1e-15);
    EXPECT_NEAR(nb[1], -1.0, 1e-15);
    check_gradient(t, Point{0, 0, 0}, Point{1, 1, 0}, 1000);
    check_part_points(t);
  }
}

TEST(Primitive, NonConvexPolygonSdf) {
  // an L: (0,0) (2,0) (2,1) (1,1) (1,2) (0,2), given clockwise
  const Polygon p("L", {{0, 2}, {1, 2}, {1, 1}, {2, 1}, {2, 0}, {0, 0}});
  EXPECT_NEAR(sdf(p, 0.5, 0.5), -0.5, 1e-15);
  EXPECT_NEAR(sdf(p, 1.5, 1.5), 0.5, 1e-15);     // in the notch
  EXPECT_NEAR(sdf(p, 1.2, 1.1), 0.1, 1e-15);
  EXPECT_NEAR(sdf(p, 0.9, 0.9), -std::sqrt(0.02), 1e-15);  // nearest: the reflex vertex
  EXPECT_NEAR(sdf(p, 1, 1.5), 0.0, 1e-15);
  EXPECT_NEAR(sdf(p, 3, 0.5), 1.0, 1e-15);
  EXPECT_NEAR(p.part_measure(0), 8.0, 1e-14);
  // near the reflex vertex inside, the normal points away from the vertex's disk
  const Point n = p.gradient(Point{0.9, 0.9, 0}, nullptr);
  EXPECT_NEAR(n[0], std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(n[1], std::sqrt(0.5), 1e-12);
  check_gradient(p, Point{0, 0, 0}, Point{2, 2, 0}, 1000);
  check_part_points(p);
}

TEST(Primitive, ShapesCarryDimensionAndNames) {
  const Shape s = box({-1, -1}, {1, 1}) - disk("d", 0, 0, 0.2);
  EXPECT_EQ(s.dim(), 2);
  EXPECT_EQ(s.op(), Shape::Op::subtract);
  EXPECT_EQ(s.operand(1).primitive()->name(), "d");
  EXPECT_EQ(rectangle("r", 0, 0, 1, 2).primitive()->part_measure(0), 6.0);
}
