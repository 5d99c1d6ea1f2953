// Darcy flow on several geometries (data/darcy.hpp): the masks have the shapes' areas;
// the stored solution satisfies the discrete equation at the interior nodes of the mask
// and is 0 elsewhere; the square is the unmasked solve, bit for bit, and equals the
// solve with a mask of ones; the reference solver's grid mask refuses what it cannot
// take; a disk dataset round trip; files without a mask still read.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/error.hpp"
#include "data/darcy.hpp"
#include "data/dataset.hpp"
#include "data/reference/reference_solver.hpp"
#include "mesh/shape.hpp"

using namespace kpde;

namespace {
constexpr double kPi = 3.141592653589793238462643383;
using data::DarcyGeometry;

std::string temp_path(const std::string& name) {
  return "/tmp/kpde_test_" + std::to_string(::getpid()) + "_" + name;
}

/// The mask's value at the node nearest (x, y).
double mask_at(const std::vector<double>& m, int n, double x, double y) {
  const int j = static_cast<int>(std::lround(x * (n - 1))), i = static_cast<int>(std::lround((1 - y) * (n - 1)));
  return m[static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)];
}
}  // namespace

TEST(DarcyGeometry, MasksHaveTheShapesAreas) {
  const std::pair<DarcyGeometry, double> shapes[] = {{DarcyGeometry::square, 1.0},
                                                     {DarcyGeometry::disk, kPi / 4},
                                                     {DarcyGeometry::triangle, std::sqrt(3.0) / 4},
                                                     {DarcyGeometry::lshape, 0.75},
                                                     {DarcyGeometry::cross, 0.8}};
  for (int n : {64, 128}) {
    const double h = 1.0 / (n - 1);
    for (const auto& [g, area] : shapes) {
      const std::vector<double> m = data::darcy_mask(g, n);
      ASSERT_EQ(m.size(), static_cast<std::size_t>(n * n));
      // trapezoidal weights: nodes on the square's edge count half (corners a quarter)
      double sum = 0;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          sum += m[static_cast<std::size_t>(i * n + j)] * (i == 0 || i == n - 1 ? 0.5 : 1) * (j == 0 || j == n - 1 ? 0.5 : 1);
      EXPECT_NEAR(sum * h * h, area, 4 * h) << data::darcy_geometry_name(g) << " n = " << n;
      for (double v : m) EXPECT_TRUE(v == 0 || v == 1);
    }
  }
  const int n = 65;  // h = 1/64: 0.5, 0.25 and 0.75 are nodes
  const auto disk = data::darcy_mask(DarcyGeometry::disk, n), tri = data::darcy_mask(DarcyGeometry::triangle, n);
  const auto ell = data::darcy_mask(DarcyGeometry::lshape, n), cross = data::darcy_mask(DarcyGeometry::cross, n);
  EXPECT_EQ(mask_at(disk, n, 0.5, 0.5), 1);
  EXPECT_EQ(mask_at(disk, n, 0.5, 0.0), 1) << "the disk touches the sides";
  EXPECT_EQ(mask_at(disk, n, 0.0, 0.0), 0);
  EXPECT_EQ(mask_at(disk, n, 0.9, 0.9), 0);
  EXPECT_EQ(mask_at(tri, n, 0.5, 0.1), 1);
  EXPECT_EQ(mask_at(tri, n, 0.5, 0.9), 0) << "above the apex (0.866)";
  EXPECT_EQ(mask_at(tri, n, 0.0, 0.0), 1);
  EXPECT_EQ(mask_at(tri, n, 0.05, 0.5), 0);
  EXPECT_EQ(mask_at(ell, n, 0.75, 0.75), 0);
  EXPECT_EQ(mask_at(ell, n, 0.5, 0.75), 1) << "the re-entrant edge is in the domain";
  EXPECT_EQ(mask_at(ell, n, 0.25, 0.75), 1);
  EXPECT_EQ(mask_at(ell, n, 0.75, 0.25), 1);
  EXPECT_EQ(mask_at(cross, n, 0.5, 0.5), 0);
  EXPECT_EQ(mask_at(cross, n, 0.5, 0.25), 0) << "the vertical bar";
  EXPECT_EQ(mask_at(cross, n, 0.25, 0.5), 0) << "the horizontal bar";
  EXPECT_EQ(mask_at(cross, n, 0.25, 0.25), 1) << "between the arms";
  EXPECT_EQ(mask_at(cross, n, 0.5, 0.1), 1);
}

TEST(DarcyGeometry, NamesParseAndBadNamesNameTheKey) {
  for (const auto& name : data::darcy_geometries())
    EXPECT_EQ(data::darcy_geometry_name(data::parse_darcy_geometry(name)), name);
  EXPECT_EQ(data::parse_darcy_geometry("Disk"), DarcyGeometry::disk);
  try {
    data::parse_darcy_geometry("hexagon");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("darcy.geometry"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'hexagon'"), std::string::npos) << e.what();
  }
}

TEST(DarcyGeometry, SolutionSatisfiesTheMaskedEquationAndVanishesElsewhere) {
  for (DarcyGeometry g : {DarcyGeometry::disk, DarcyGeometry::triangle, DarcyGeometry::lshape, DarcyGeometry::cross}) {
    data::DarcySettings s;
    s.grid = 41;
    s.geometry = g;
    const std::string name = data::darcy_geometry_name(g);
    const data::DarcySample d = data::generate_darcy_sample(s, 1, 0);
    ASSERT_EQ(d.mask, data::darcy_mask(g, 41)) << name;
    const std::vector<double> inner = data::darcy_interior(d.mask, 41);
    const std::vector<double> r = data::darcy_residual(41, d.permeability, d.solution, s.source, d.mask);
    double rmax = 0;
    long interior = 0;
    for (std::size_t q = 0; q < r.size(); ++q) {
      rmax = std::max(rmax, std::abs(r[q]));
      if (inner[q] != 0) {
        ++interior;
        EXPECT_GT(d.solution[q], 0.0) << name << " node " << q << " (f = 1 > 0: maximum principle)";
      } else {
        EXPECT_EQ(d.solution[q], 0.0) << name << " node " << q;
        EXPECT_EQ(r[q], 0.0);
      }
    }
    EXPECT_GT(interior, 300) << name;
    EXPECT_LT(rmax, 1e-6) << name;
    EXPECT_GT(d.iterations, 0);
    // the plain square's residual on this solution is far from 0 (the mask matters)
    const std::vector<double> r_square = data::darcy_residual(41, d.permeability, d.solution, s.source);
    double rs = 0;
    for (double v : r_square) rs = std::max(rs, std::abs(v));
    EXPECT_GT(rs, 0.5) << name;
  }
}

TEST(DarcyGeometry, SquareIsTheUnmaskedSolveAndAMaskOfOnes) {
  data::DarcySettings s;
  s.grid = 25;
  const data::DarcySample d = data::generate_darcy_sample(s, 4, 2);
  EXPECT_EQ(d.mask, std::vector<double>(25 * 25, 1.0));
  // the same solve by hand (the code path before geometries existed), unmasked and with
  // a grid mask of ones: the same rows, so the same numbers bit for bit
  const std::vector<double>& a = d.permeability;
  auto node = [&](long ix, long iy) {
    ix = std::clamp<long>(ix, 0, 24);
    iy = std::clamp<long>(iy, 0, 24);
    return a[static_cast<std::size_t>(24 - iy) * 25 + static_cast<std::size_t>(ix)];
  };
  data::Fn2 diffusion = [node](double x, double y) {
    const long hx = std::lround(x * 48), hy = std::lround(y * 48);
    const long ix = hx / 2, iy = hy / 2;
    const bool ox = (hx & 1) != 0, oy = (hy & 1) != 0;
    if (ox && oy) return 0.25 * (node(ix, iy) + node(ix + 1, iy) + node(ix, iy + 1) + node(ix + 1, iy + 1));
    if (ox) return 0.5 * (node(ix, iy) + node(ix + 1, iy));
    if (oy) return 0.5 * (node(ix, iy) + node(ix, iy + 1));
    return node(ix, iy);
  };
  const mesh::Geometry geom(mesh::box({0, 0}, {1, 1}));
  data::FdProblem p;
  p.geometry = &geom;
  p.diffusion = diffusion;
  p.source = [](double, double) { return 1.0; };
  for (int part = 0; part < geom.n_parts(); ++part)
    p.conditions.push_back(data::FdCondition{part, data::FdConditionKind::dirichlet, {}});
  data::FdOptions o;
  o.n = 25;
  o.refine = 1;
  o.rtol = s.rtol;
  for (int masked = 0; masked < 2; ++masked) {
    if (masked) p.grid_mask.assign(25 * 25, 1);
    const data::FdSolution sol = data::solve_reference(p, o, MPI_COMM_SELF);
    for (int i = 0; i < 25; ++i)
      for (int j = 0; j < 25; ++j)
        ASSERT_EQ(d.solution[static_cast<std::size_t>(i * 25 + j)], sol.u(24 - i, j)) << "masked " << masked;
  }
  // a grid mask of the wrong size, or on a problem it cannot take
  p.grid_mask.assign(24 * 24, 1);
  EXPECT_THROW(data::solve_reference(p, o, MPI_COMM_SELF), InputError);
  p.grid_mask.assign(25 * 25, 1);
  p.coefficient[data::c_uxy] = [](double, double) { return 0.1; };
  EXPECT_THROW(data::solve_reference(p, o, MPI_COMM_SELF), InputError);
}

TEST(DarcyGeometry, StoredSamplesKeepMaskAndGeometry) {
  data::DarcySettings s;
  s.grid = 33;
  s.geometry = DarcyGeometry::disk;
  const std::string path = temp_path("darcy_disk.h5");
  {
    data::DatasetWriter w(path, data::darcy_schema(s, false), 2, 4);
    std::vector<data::SampleRecord> recs;
    for (std::uint64_t i = 0; i < 2; ++i) recs.push_back(data::to_record(data::generate_darcy_sample(s, 9, i)));
    w.write(0, recs);
    w.close();
  }
  {
    const data::DatasetReader r(path);
    EXPECT_EQ(r.file().string_attribute("/", "geometry"), "disk");
    EXPECT_EQ(r.sample_shape("mask"), (io::Shape{33, 33}));
    for (long i = 0; i < 2; ++i) {
      const data::DarcySample d = r.darcy_sample(i);
      EXPECT_EQ(d.mask, data::darcy_mask(DarcyGeometry::disk, 33));
      const std::vector<double> res = data::darcy_residual(33, d.permeability, d.solution, 1.0, d.mask);
      double rmax = 0, umax = 0;
      for (double v : res) rmax = std::max(rmax, std::abs(v));
      for (double v : d.solution) umax = std::max(umax, std::abs(v));
      EXPECT_LT(rmax, 1e-6 * 12 * 4 * umax * 32 * 32 + 1e-8) << "float32 storage, sample " << i;
    }
  }
  // a file from before the mask field: read as all squares
  data::DatasetSchema old = data::darcy_schema(data::DarcySettings{}, false);
  old.fields.erase(std::remove_if(old.fields.begin(), old.fields.end(), [](const data::FieldSpec& f) { return f.name == "mask"; }),
                   old.fields.end());
  old.grid = 16;
  for (auto& f : old.fields)
    if (!f.shape.empty()) f.shape = {16, 16};
  old.text_attributes.clear();
  {
    data::DatasetWriter w(path, old, 1, 0);
    w.close();
  }
  const data::DatasetReader r(path);
  EXPECT_FALSE(r.has("mask"));
  EXPECT_EQ(r.darcy_sample(0).mask, std::vector<double>(16 * 16, 1.0));
  std::remove(path.c_str());
}
