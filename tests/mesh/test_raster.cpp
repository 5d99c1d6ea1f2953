// Rasterising to HyPINO-style grids: conventions, masks, bands, condition masks.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "geometries.hpp"
#include "mesh/raster.hpp"
#include "mesh/sampling.hpp"

using namespace kpde::mesh;
using kpde::mesh::test_geometries::kPi;
namespace tg = kpde::mesh::test_geometries;

TEST(Raster, GridConventionIsHypinos) {
  const Grid g = Grid::hypino(224);
  EXPECT_EQ(g.x(0), -1.0);
  EXPECT_EQ(g.x(223), 1.0);
  EXPECT_EQ(g.y(0), 1.0);  // row 0 is the top
  EXPECT_EQ(g.y(223), -1.0);
  EXPECT_DOUBLE_EQ(g.x(10), -1 + 2.0 * 10 / 223);
  EXPECT_DOUBLE_EQ(g.y(10), 1 - 2.0 * 10 / 223);
  Grid up = g;
  up.top_row_first = false;
  EXPECT_EQ(up.y(0), -1.0);
  EXPECT_EQ(up.y(223), 1.0);
  const Geometry l = tg::l_shape();
  const kpde::Mat<double> m = domain_mask(l, g);
  EXPECT_EQ(m(0, 0), 1.0);      // (-1, 1): top-left corner, in the closed domain
  EXPECT_EQ(m(0, 223), 0.0);    // (1, 1): inside the removed quadrant
  EXPECT_EQ(m(223, 223), 1.0);  // (1, -1)
  EXPECT_EQ(m(50, 150), 0.0);   // x > 0, y > 0
  EXPECT_EQ(m(150, 150), 1.0);  // x > 0, y < 0
}

TEST(Raster, MaskAreaMatchesDomainArea) {
  const Geometry geoms[] = {tg::box_minus_disk(0.5), tg::l_shape(), tg::four_holes()};
  const double area[] = {4 - kPi * 0.25, 3.0, 4 - 4 * kPi * 0.04};
  const double perimeter[] = {8 + kPi, 8.0, 8 + 4 * 2 * kPi * 0.2};
  for (int k = 0; k < 3; ++k) {
    const Grid grid = Grid::hypino(224);
    const kpde::Mat<double> m = domain_mask(geoms[k], grid);
    double count = 0;
    for (int i = 0; i < grid.n; ++i)
      for (int j = 0; j < grid.n; ++j) count += m(i, j);
    // each node stands for an h x h cell; the error is at most about perimeter * h
    EXPECT_NEAR(count * grid.hx() * grid.hy(), area[k], perimeter[k] * grid.hx()) << k;
  }
  // a general box grid
  const Geometry g(box({0, 0}, {3, 1}) - disk("d", 1.5, 0.5, 0.25));
  const Grid grid = Grid::bounding(g, 301);
  const kpde::Mat<double> m = domain_mask(g, grid);
  double count = 0;
  for (int i = 0; i < grid.n; ++i)
    for (int j = 0; j < grid.n; ++j) count += m(i, j);
  EXPECT_NEAR(count * grid.hx() * grid.hy(), 3 - kPi / 16, 8 * grid.hx());
}

TEST(Raster, BandsHoldTheClosestPartNearTheBoundary) {
  const Geometry g = tg::box_minus_disk(0.5, 0.1, 0.0);
  const Grid grid = Grid::hypino(64);
  const kpde::Mat<int> bands = boundary_bands(g, grid);
  const double w = 0.5 * std::hypot(grid.hx(), grid.hy());
  int n_band = 0;
  for (int i = 0; i < grid.n; ++i)
    for (int j = 0; j < grid.n; ++j) {
      const Point x{grid.x(j), grid.y(i), 0};
      const double phi = g.sdf(x);
      if (std::abs(phi) <= w) {
        ++n_band;
        EXPECT_EQ(bands(i, j), g.closest_part(x));
      } else {
        EXPECT_EQ(bands(i, j), -1);
      }
    }
  EXPECT_GT(n_band, 4 * 64);
  EXPECT_EQ(bands(0, 30), g.find_part("top"));
  EXPECT_EQ(bands(30, 0), g.find_part("left"));
  EXPECT_EQ(bands(63, 30), g.find_part("bottom"));
  EXPECT_EQ(bands(30, 63), g.find_part("right"));
  EXPECT_EQ(bands(30, 31), -1);  // near the hole's centre
  // the node nearest to a boundary point is within half a diagonal of it, so it is in
  // the band (phi is 1-Lipschitz); away from the box corners it carries the same part
  const BoundarySamples s = sample_boundary(g, 2000, 2);
  int n_other = 0;
  for (int p = 0; p < s.n_points(); ++p) {
    const int j = static_cast<int>(std::lround((s.x(p, 0) - grid.x_lo) / grid.hx()));
    const int i = static_cast<int>(std::lround((grid.y_hi - s.x(p, 1)) / grid.hy()));
    EXPECT_GE(bands(i, j), 0) << s.x(p, 0) << "," << s.x(p, 1);
    n_other += bands(i, j) != s.part(p);
  }
  EXPECT_LT(n_other, s.n_points() / 50);
  // a wider band (HyPINO's masks are about 5 nodes wide) holds more nodes
  const kpde::Mat<int> wide = boundary_bands(g, grid, 2.0);
  int n_wide = 0;
  for (int i = 0; i < grid.n; ++i)
    for (int j = 0; j < grid.n; ++j) n_wide += wide(i, j) >= 0;
  EXPECT_GT(n_wide, 3 * n_band);
}

TEST(Raster, ConditionMasksFollowThePartMap) {
  const Geometry g = tg::four_holes();
  const Grid grid = Grid::hypino(224);
  const kpde::Mat<int> bands = boundary_bands(g, grid);
  std::map<std::string, BoundaryKind> bc = {{"left", BoundaryKind::dirichlet}, {"right", BoundaryKind::dirichlet},
                                            {"bottom", BoundaryKind::dirichlet}, {"top", BoundaryKind::dirichlet},
                                            {"c0", BoundaryKind::neumann}, {"c1", BoundaryKind::neumann},
                                            {"c2", BoundaryKind::robin}};
  const ConditionMasks m = condition_masks(g, bands, bc);
  int nd = 0, nn = 0;
  for (int i = 0; i < grid.n; ++i)
    for (int j = 0; j < grid.n; ++j) {
      const int id = bands(i, j);
      const std::string name = id >= 0 ? g.part_name(id) : "";
      EXPECT_EQ(m.dirichlet(i, j), id >= 0 && id < 4 ? 1.0 : 0.0);
      EXPECT_EQ(m.neumann(i, j), name == "c0" || name == "c1" ? 1.0 : 0.0);
      EXPECT_FALSE(m.dirichlet(i, j) > 0 && m.neumann(i, j) > 0);
      nd += m.dirichlet(i, j) > 0, nn += m.neumann(i, j) > 0;
    }
  EXPECT_GE(nd, 4 * 223);
  EXPECT_GT(nn, 2 * 50);
  bc["circle9"] = BoundaryKind::neumann;
  try {
    condition_masks(g, bands, bc);
    FAIL() << "expected an InputError";
  } catch (const kpde::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("circle9"), std::string::npos) << e.what();
  }
}

TEST(Raster, RejectsBadGridsAndDimensions) {
  const Geometry g = tg::l_shape();
  Grid bad = Grid::hypino(1);
  EXPECT_THROW(domain_mask(g, bad), kpde::InputError);
  bad = Grid::hypino(8);
  bad.x_hi = -2;
  EXPECT_THROW(boundary_bands(g, bad), kpde::InputError);
  EXPECT_THROW(boundary_bands(g, Grid::hypino(8), 0.0), kpde::InputError);
  const Geometry g3(box({0, 0, 0}, {1, 1, 1}));
  EXPECT_THROW(domain_mask(g3, Grid::hypino(8)), kpde::InputError);
}
