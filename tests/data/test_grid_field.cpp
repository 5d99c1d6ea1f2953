// Gridded data from HDF5 (data/field.hpp, read by data::load_problem): bilinear
// interpolation, the two row layouts (hypino: row 0 at y_hi; kpde: row 0 at y_lo), a
// box of its own, relative paths, and the errors (missing file or dataset, wrong rank,
// non-finite values, mismatched reference mask), each naming file, line and key; the
// training monitor's sample of a reference (data::truth_sample).
// The HDF5 files are written by the test with kpde's io::H5File.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "config/config.hpp"
#include "data/problem.hpp"
#include "data/report.hpp"
#include "support/input_checks.hpp"
#include "io/hdf5.hpp"

using namespace kpde;
using kpde::config::Document;
using kpde::data::Problem;
using kpde::test::expect_input_error;
using kpde::test::expect_starts_with;
using kpde::test::input_error;
using kpde::test::line_of;
using kpde::test::loc;

namespace {

mesh::Point pt(double x, double y) { return mesh::Point{x, y, 0}; }

/// A temporary directory with an HDF5 file of test grids, removed at the end.
class GridField : public ::testing::Test {
 protected:
  static constexpr int kNy = 4, kNx = 5;
  std::filesystem::path dir;
  std::string h5;
  std::vector<double> g;  // [kNy][kNx], row-major: a function that is not bilinear

  static double value(int i, int j) { return 10.0 * (i + 1) * (i + 1) + j * j * j - 0.5 * i * j; }

  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("kpde_test_grid_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
    h5 = (dir / "grids.h5").string();
    g.resize(kNy * kNx);
    for (int i = 0; i < kNy; ++i)
      for (int j = 0; j < kNx; ++j) g[i * kNx + j] = value(i, j);
    io::H5File f = io::H5File::create(h5);
    f.write("g", g, {kNy, kNx});
    f.write("mask", std::vector<double>(kNy * kNx, 1.0), {kNy, kNx});
    std::vector<double> part(kNy * kNx);
    for (int k = 0; k < kNy * kNx; ++k) part[k] = k % 3 != 1;
    f.write("mask_part", part, {kNy, kNx});
    f.write("mask_big", std::vector<double>(5 * 5, 1.0), {5, 5});
    f.write("line", std::vector<double>(10, 1.0), {10});
    f.write("cube", std::vector<double>(8, 1.0), {2, 2, 2});
    f.write("thin", std::vector<double>(5, 1.0), {1, 5});
    std::vector<double> bad(kNy * kNx, 0.0);
    bad[7] = std::nan("");
    f.write("has_nan", bad, {kNy, kNx});
    // a plane 2 + 3x - 5y on a 3 x 6 grid over [0,2] x [10,11], hypino layout
    std::vector<double> plane(3 * 6);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 6; ++j) plane[i * 6 + j] = 2 + 3 * (2.0 * j / 5) - 5 * (11 - 1.0 * i / 2);
    f.write("group/plane", plane, {3, 6});
    f.close();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  /// A 2-D problem on [-1,1]^2 whose source is `source` (YAML text of the value).
  static std::string with_source(const std::string& source) {
    return "problem:\n"
           "  domain: {box: [[-1, 1], [-1, 1]]}\n"
           "  operator: {c_uxx: 1, c_uyy: 1}\n"
           "  source: " +
           source +
           "\n"
           "  boundary:\n"
           "    - {parts: all, type: dirichlet, value: 0}\n";
  }
  static Problem load(const std::string& text, const std::string& name = "cfg.yaml") {
    Document doc = Document::load_string(text, name);
    return data::load_problem(doc.root().at("problem"), doc);
  }
};

}  // namespace

TEST_F(GridField, HypinoLayoutPutsRowZeroAtTheTop) {
  const Problem p = load(with_source("{hdf5: " + h5 + ", dataset: g}"));  // layout hypino is the default
  ASSERT_EQ(p.source.kind(), data::Field::Kind::grid);
  EXPECT_FALSE(p.source.has_derivatives());
  const double hx = 2.0 / (kNx - 1), hy = 2.0 / (kNy - 1);
  for (int i = 0; i < kNy; ++i)
    for (int j = 0; j < kNx; ++j)  // node (i, j) at x = -1 + j hx, y = 1 - i hy
      EXPECT_NEAR(p.source(pt(-1 + j * hx, 1 - i * hy)), value(i, j), 1e-12) << i << " " << j;
  // inside a cell: the bilinear blend of its four corners, at fractions (tx, ty) from
  // the corner (i, j) towards (i + 1, j + 1)
  for (const auto& [i, j, tx, ty] : std::vector<std::tuple<int, int, double, double>>{
           {0, 0, 0.5, 0.5}, {1, 2, 0.25, 0.75}, {2, 3, 0.9, 0.1}}) {
    const double want = (1 - tx) * (1 - ty) * value(i, j) + tx * (1 - ty) * value(i, j + 1) +
                        (1 - tx) * ty * value(i + 1, j) + tx * ty * value(i + 1, j + 1);
    EXPECT_NEAR(p.source(pt(-1 + (j + tx) * hx, 1 - (i + ty) * hy)), want, 1e-12) << i << " " << j;
  }
  // points outside the box are clamped to it: the corners
  EXPECT_NEAR(p.source(pt(5, 5)), value(0, kNx - 1), 1e-12);
  EXPECT_NEAR(p.source(pt(-5, -5)), value(kNy - 1, 0), 1e-12);
  EXPECT_NE(p.source.describe().find("grids.h5:g"), std::string::npos) << p.source.describe();
  EXPECT_THROW(p.source.jet(pt(0, 0), 2), Error);
}

TEST_F(GridField, KpdeLayoutPutsRowZeroAtTheBottom) {
  const Problem p = load(with_source("{hdf5: " + h5 + ", dataset: g, layout: kpde}"));
  const double hx = 2.0 / (kNx - 1), hy = 2.0 / (kNy - 1);
  for (int i = 0; i < kNy; ++i)
    for (int j = 0; j < kNx; ++j) EXPECT_NEAR(p.source(pt(-1 + j * hx, -1 + i * hy)), value(i, j), 1e-12);
  const double tx = 0.3, ty = 0.6;  // cell (1, 1), y growing with i
  const double want = (1 - tx) * (1 - ty) * value(1, 1) + tx * (1 - ty) * value(1, 2) + (1 - tx) * ty * value(2, 1) +
                      tx * ty * value(2, 2);
  EXPECT_NEAR(p.source(pt(-1 + (1 + tx) * hx, -1 + (1 + ty) * hy)), want, 1e-12);
  EXPECT_NEAR(p.source(pt(1, 1)), value(kNy - 1, kNx - 1), 1e-12);
  // the layout name is case-insensitive; anything else is an error
  EXPECT_NO_THROW(load(with_source("{hdf5: " + h5 + ", dataset: g, layout: KPDE}")));
  const std::string bad = with_source("{hdf5: " + h5 + ", dataset: g, layout: matlab}");
  expect_input_error([&] { load(bad); }, {"cfg.yaml:" + loc(bad, "matlab"), "problem.source.layout", "hypino, kpde"});
}

TEST_F(GridField, OwnBoxReproducesAPlaneExactly) {
  // a plane is reproduced exactly by bilinear interpolation, so any flip of an axis or
  // a wrong box shows at any point
  const Problem p = load(with_source("{hdf5: " + h5 + ", dataset: group/plane, box: [[0, 2], [10, 11]]}"));
  for (const auto& [x, y] : std::vector<std::pair<double, double>>{{0, 10}, {2, 11}, {0.37, 10.81}, {1.93, 10.02}, {1, 10.5}})
    EXPECT_NEAR(p.source(pt(x, y)), 2 + 3 * x - 5 * y, 1e-11) << x << " " << y;
  const std::string bad = with_source("{hdf5: " + h5 + ", dataset: g, box: [[0, 2], [3, 1]]}");
  expect_input_error([&] { load(bad); }, {"cfg.yaml:" + loc(bad, "[3, 1]"), "problem.source.box[1]", "lo < hi"});
  const std::string bad2 = with_source("{hdf5: " + h5 + ", dataset: g, box: [0, 2]}");
  expect_input_error([&] { load(bad2); }, {"cfg.yaml:" + loc(bad2, "0, 2]"), "problem.source.box[0]", "[lo, hi]"});
}

TEST_F(GridField, PathsRelativeToTheConfigFile) {
  const std::string cfg = (dir / "cfg.yaml").string();
  const Problem p = load(with_source("{hdf5: grids.h5, dataset: g, layout: kpde}"), cfg);
  EXPECT_NEAR(p.source(pt(-1, -1)), value(0, 0), 1e-12);
  // the same relative name from a config elsewhere is not found, and the message says
  // where it looked
  const std::string text = with_source("{hdf5: grids.h5, dataset: g}");
  const std::string msg = input_error([&] { load(text, "/nonexistent_dir/cfg.yaml"); });
  expect_starts_with(msg, "/nonexistent_dir/cfg.yaml:" + line_of(text, "grids.h5"));
  EXPECT_NE(msg.find("problem.source"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/nonexistent_dir/grids.h5"), std::string::npos) << msg;
}

TEST_F(GridField, MissingFileAndDataset) {
  const std::string missing = (dir / "missing.h5").string();
  const std::string text = with_source("\n    hdf5: " + missing + "\n    dataset: g");
  const std::string msg = input_error([&] { load(text); });
  // the line of the file name or of the dataset name
  EXPECT_TRUE(msg.rfind("cfg.yaml:" + line_of(text, "hdf5: "), 0) == 0 ||
              msg.rfind("cfg.yaml:" + line_of(text, "dataset: g"), 0) == 0)
      << msg;
  EXPECT_NE(msg.find("problem.source"), std::string::npos) << msg;
  EXPECT_NE(msg.find(missing), std::string::npos) << msg;
  const std::string text2 = with_source("{hdf5: " + h5 + ", dataset: nope}");
  expect_input_error([&] { load(text2); }, {"cfg.yaml:" + loc(text2, "nope"), "problem.source.dataset", "nope"});
  const std::string text3 = with_source("{hdf5: " + h5 + "}");
  expect_input_error([&] { load(text3); }, {"cfg.yaml:" + line_of(text3, "hdf5"), "problem.source", "missing required key 'dataset'"});
  // a file that is not HDF5
  const std::string junk = (dir / "junk.h5").string();
  std::ofstream(junk) << "not hdf5\n";
  const std::string text4 = with_source("{hdf5: " + junk + ", dataset: g}");
  expect_input_error([&] { load(text4); }, {"cfg.yaml:" + line_of(text4, "junk.h5"), "problem.source", junk});
}

TEST_F(GridField, WrongRankOrShapeIsAnError) {
  const std::string text = with_source("{hdf5: " + h5 + ", dataset: line}");
  expect_input_error([&] { load(text); },
                     {"cfg.yaml:" + loc(text, "line}"), "problem.source.dataset", "[10]", "expected a 2-D grid"});
  const std::string text3 = with_source("{hdf5: " + h5 + ", dataset: cube}");
  expect_input_error([&] { load(text3); }, {"cfg.yaml:" + loc(text3, "cube}"), "problem.source.dataset", "[2 x 2 x 2]"});
  const std::string thin = with_source("{hdf5: " + h5 + ", dataset: thin}");
  expect_input_error([&] { load(thin); }, {"cfg.yaml:" + loc(thin, "thin}"), "problem.source.dataset", "[1 x 5]", "ny, nx >= 2"});
  const std::string nan = with_source("{hdf5: " + h5 + ", dataset: has_nan}");
  expect_input_error([&] { load(nan); }, {"cfg.yaml:" + loc(nan, "has_nan"), "problem.source.dataset", "non-finite"});
}

TEST_F(GridField, GridsOnlyWhereTheyFit) {
  // the exact solution needs derivatives: no grid
  const std::string exact = with_source("0") + "  exact: {hdf5: " + h5 + ", dataset: g}\n";
  expect_input_error([&] { load(exact); }, {"cfg.yaml:" + line_of(exact, "exact:"), "problem.exact", "must be an expression"});
  // grid data needs a 2-D problem
  const std::string d1 = "problem:\n  domain: {box: [[0, 1]]}\n  operator: {c_uxx: 1}\n  source: {hdf5: " + h5 +
                         ", dataset: g}\n  boundary: [{parts: all, type: dirichlet, value: 0}]\n";
  expect_input_error([&] { load(d1); }, {"cfg.yaml:" + line_of(d1, "source:"), "problem.source", "2-D"});
  // a grid is accepted as a coefficient and as a boundary value
  const std::string coef = "problem:\n  domain: {box: [[-1, 1], [-1, 1]]}\n  operator: {c_uxx: {hdf5: " + h5 +
                           ", dataset: g}}\n  boundary: [{parts: all, type: dirichlet, value: {hdf5: " + h5 +
                           ", dataset: g, layout: kpde}}]\n";
  const Problem p = load(coef);
  EXPECT_FALSE(p.constant_coefficients());
  EXPECT_NEAR((*p.coefficient({2, 0, 0}))(pt(-1, 1)), value(0, 0), 1e-12);
  EXPECT_NEAR(p.conditions[0].value(pt(-1, -1)), value(0, 0), 1e-12);
}

TEST_F(GridField, ReferenceWithMask) {
  const Problem p = load(with_source("0") + "  reference: {hdf5: " + h5 + ", dataset: g, mask: mask}\n");
  ASSERT_TRUE(p.reference.has_value());
  ASSERT_TRUE(p.reference->mask);
  EXPECT_EQ(p.reference->solution->nx, kNx);
  EXPECT_EQ(p.reference->solution->ny, kNy);
  EXPECT_EQ(p.reference->solution->values, g);
  EXPECT_TRUE(p.reference->solution->top_row_first);
  EXPECT_EQ(p.reference->mask->values, std::vector<double>(kNy * kNx, 1.0));
  // a mask of another shape
  const std::string text = with_source("0") + "  reference:\n    hdf5: " + h5 + "\n    dataset: g\n    mask: mask_big\n";
  const std::string msg = input_error([&] { load(text); });
  expect_starts_with(msg, "cfg.yaml:" + loc(text, "mask_big") + ": problem.reference.mask: ");
  EXPECT_NE(msg.find("[5 x 5]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4 x 5]"), std::string::npos) << msg;
  // petsc, or a map; nothing else
  EXPECT_EQ(load(with_source("0") + "  reference: PETSc\n").reference_solver, "petsc");
  const std::string other = with_source("0") + "  reference: fenics\n";
  expect_input_error([&] { load(other); }, {"cfg.yaml:" + loc(other, "fenics"), "problem.reference", "petsc"});
}

TEST_F(GridField, TruthSampleOfAReference) {
  // a gridded reference: its in-mask nodes (row 0 at y = 1), every stride-th of them
  const Problem p = load(with_source("0") + "  reference: {hdf5: " + h5 + ", dataset: g, mask: mask_part}\n");
  std::vector<std::array<double, 3>> in_mask;  // x, y, u
  for (int i = 0; i < kNy; ++i)
    for (int j = 0; j < kNx; ++j)
      if ((i * kNx + j) % 3 != 1) in_mask.push_back({-1 + 2.0 * j / (kNx - 1), 1 - 2.0 * i / (kNy - 1), value(i, j)});
  ASSERT_EQ(in_mask.size(), 13u);
  for (const std::size_t n_max : {std::size_t(4096), std::size_t(13), std::size_t(5)}) {
    const data::TruthSample t = data::truth_sample(p, n_max);
    const std::size_t stride = n_max >= 13 ? 1 : 3;  // ceil(13 / 5) = 3: nodes 0, 3, 6, 9, 12
    ASSERT_EQ(t.u.size(), (13 + stride - 1) / stride) << n_max;
    ASSERT_EQ(t.points.extent(0), t.u.size());
    for (std::size_t q = 0; q < t.u.size(); ++q) {
      EXPECT_NEAR(t.points(q, 0), in_mask[q * stride][0], 1e-15);
      EXPECT_NEAR(t.points(q, 1), in_mask[q * stride][1], 1e-15);
      EXPECT_EQ(t.u[q], in_mask[q * stride][2]);
    }
    EXPECT_NE(t.against.find("grids.h5"), std::string::npos) << t.against;
  }
  // an exact solution wins: n_max fixed points of the domain with its values there
  const Problem e = load(with_source("0") + "  exact: x*x - y\n  reference: {hdf5: " + h5 + ", dataset: g}\n");
  const data::TruthSample t = data::truth_sample(e, 100);
  ASSERT_EQ(t.u.size(), 100u);
  for (std::size_t q = 0; q < 100; ++q) {
    EXPECT_LE(std::abs(t.points(q, 0)), 1.0);
    EXPECT_NEAR(t.u[q], t.points(q, 0) * t.points(q, 0) - t.points(q, 1), 1e-14);
  }
  // no truth: nothing
  EXPECT_TRUE(data::truth_sample(load(with_source("0")), 100).u.empty());
}

TEST(FieldDerived, MultiplesAndDerivativesOfExpressionsAndGrids) {
  const auto e = data::Field::expression(pde::Expression::parse("x^2*sin(y)", {"x", "y"}));
  const mesh::Point x = pt(0.4, 0.7);
  EXPECT_NEAR(data::Field::derived(e, -1, -2.0)(x), -2 * 0.16 * std::sin(0.7), 1e-15);
  EXPECT_NEAR(data::Field::derived(e, 0, 3.0)(x), 3 * 0.8 * std::sin(0.7), 1e-15);
  EXPECT_NEAR(data::Field::derived(e, 1, 1.0)(x), 0.16 * std::cos(0.7), 1e-15);
  EXPECT_TRUE(data::Field::derived(e, -1, 2.0).has_derivatives());
  EXPECT_FALSE(data::Field::derived(e, 0, 2.0).has_derivatives());
  EXPECT_NEAR(data::Field::derived(e, -1, 2.0).jet(x, 2).grad[1], 2 * 0.16 * std::cos(0.7), 1e-15);
  // of a constant: a constant
  const auto c = data::Field::derived(data::Field::constant(5), 0, 2.0);
  EXPECT_TRUE(c.is_zero());
  EXPECT_EQ(data::Field::derived(data::Field::constant(5), -1, 2.0).constant_value(), 10.0);
  // a grid (both layouts): the derivative of the bilinear interpolant, against central
  // differences of it inside a cell
  for (bool top : {true, false}) {
    auto g = std::make_shared<data::GridData>();
    g->nx = 5, g->ny = 4, g->top_row_first = top;
    for (int k = 0; k < 20; ++k) g->values.push_back(std::sin(1.0 + 0.7 * k));
    const auto f = data::Field::grid(g);
    const double h = 1e-6;
    for (const auto& q : {pt(0.1, 0.2), pt(-0.8, -0.9), pt(0.6, 0.55)}) {
      const double fx = (f(pt(q[0] + h, q[1])) - f(pt(q[0] - h, q[1]))) / (2 * h);
      const double fy = (f(pt(q[0], q[1] + h)) - f(pt(q[0], q[1] - h))) / (2 * h);
      EXPECT_NEAR(data::Field::derived(f, 0, 1.0)(q), fx, 1e-8);
      EXPECT_NEAR(data::Field::derived(f, 1, 1.0)(q), fy, 1e-8);
    }
  }
}
