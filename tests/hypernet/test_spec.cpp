// The canonical specification: rasterising a YAML problem (masks, bands, the affine map
// to [-1,1]^2, Neumann data with outward normals), reading a benchmark file (HyPINO's
// Neumann convention turned outward), the encoder's input, and bad specifications
// (wrong grid size, a NaN source, no Dirichlet data on an elliptic problem).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "config/config.hpp"
#include "core/error.hpp"
#include "hypernet/input.hpp"
#include "hypernet/spec.hpp"
#include "io/hdf5.hpp"

using namespace kpde;
using namespace kpde::hypernet;

namespace {

data::Problem problem(const std::string& text) {
  config::Document doc = config::Document::load_string(text, "hyper.yaml");
  return data::load_problem(doc.root().at("problem"), doc);
}

std::size_t at(int i, int j) { return static_cast<std::size_t>(i) * kGrid + static_cast<std::size_t>(j); }

template <class F>
void expect_input_error(F&& f, const std::vector<std::string>& pieces) {
  try {
    f();
    ADD_FAILURE() << "no kpde::InputError";
  } catch (const InputError& e) {
    for (const std::string& p : pieces) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

const char* kHoles = R"(problem:
  name: holes
  domain:
    box: [[-1, 1], [-1, 1]]
    holes:
      - {type: disk, name: d1, center: [0.4, 0.4], radius: 0.25}
  operator: {c_uxx: -1, c_uyy: -1}
  source: 2*x
  boundary:
    - {parts: [left, right, bottom, top], type: dirichlet, value: 1 + y}
    - {parts: [d1], type: neumann, value: 3}
)";

}  // namespace

TEST(HypernetSpec, RasterisesAProblemWithAHole) {
  const Spec s = spec_from_problem(problem(kHoles));
  EXPECT_EQ(s.coefficients[3], -1);
  EXPECT_EQ(s.coefficients[4], -1);
  // box sides: a band 3 nodes deep, values 1 + y
  for (int i = 10; i < kGrid - 10; i += 37) {
    EXPECT_EQ(s.dirichlet_mask[at(i, 0)], 1);
    EXPECT_EQ(s.dirichlet_mask[at(i, 2)], 1);
    EXPECT_EQ(s.dirichlet_mask[at(i, 3)], 0);
    const double y = 1 - 2.0 * i / (kGrid - 1);
    EXPECT_NEAR(s.dirichlet_values[at(i, 1)], 1 + y, 1e-12);
  }
  // the hole: Neumann band on both sides of the circle, outward normal of Omega (into
  // the disk) and value 3; the disk's centre is outside the domain
  const int ic = static_cast<int>(std::lround((1 - 0.4) * (kGrid - 1) / 2)), jc = static_cast<int>(std::lround((0.4 + 1) * (kGrid - 1) / 2));
  EXPECT_EQ(s.domain_mask[at(ic, jc)], 0);
  int n_band = 0;
  for (int i = 0; i < kGrid; ++i)
    for (int j = 0; j < kGrid; ++j) {
      const std::size_t q = at(i, j);
      if (s.neumann_mask[q] == 0) continue;
      ++n_band;
      const double x = -1 + 2.0 * j / (kGrid - 1), y = 1 - 2.0 * i / (kGrid - 1);
      const double r = std::hypot(x - 0.4, y - 0.4);
      EXPECT_LT(std::abs(r - 0.25), 0.03);
      EXPECT_NEAR(s.normals[2 * q], -(x - 0.4) / r, 1e-9);
      EXPECT_NEAR(s.normals[2 * q + 1], -(y - 0.4) / r, 1e-9);
      EXPECT_NEAR(s.neumann_values[q], 3, 1e-12);
    }
  // about 5 nodes across a circle of circumference 2 pi 0.25 at spacing 2/223
  const double expected = 5 * 2 * M_PI * 0.25 / (2.0 / (kGrid - 1));
  EXPECT_GT(n_band, 0.7 * expected);
  EXPECT_LT(n_band, 1.3 * expected);
  // source only inside Omega
  EXPECT_EQ(s.source[at(ic, jc)], 0);
  EXPECT_NEAR(s.source[at(100, 50)], 2 * (-1 + 2.0 * 50 / (kGrid - 1)), 1e-12);
}

TEST(HypernetSpec, MapsABoxOntoTheCanonicalSquare) {
  // u_t = 0.5 u_xx on x in [0, 2], t in [0, 4]: x' = x - 1, t' = t/2 - 1, so
  // u_t' = 2 u_t and u_x'x' = u_xx: 0.5 u_t' - 0.5 u_x'x' = 0.
  const Spec s = spec_from_problem(problem(R"(problem:
  name: heat
  domain: {box: [[0, 2], [0, 4]], time_axis: y}
  operator: {c_uy: 1, c_uxx: -0.5}
  boundary:
    - {parts: [left, right], type: neumann, value: 2}
  initial: {value: sin(x)}
)"));
  EXPECT_NEAR(s.coefficients[2], 0.5, 1e-15);
  EXPECT_NEAR(s.coefficients[3], -0.5, 1e-15);
  // Neumann data on the left side: du/dn = 2 in x, and dx'/dx = 1 -> 2
  EXPECT_EQ(s.neumann_mask[at(100, 0)], 1);
  EXPECT_NEAR(s.neumann_values[at(100, 0)], 2, 1e-12);
  EXPECT_NEAR(s.normals[2 * at(100, 0)], -1, 1e-12);
  // initial line (bottom rows): u = sin(x) at x = x' + 1
  EXPECT_EQ(s.dirichlet_mask[at(kGrid - 1, 100)], 1);
  EXPECT_NEAR(s.dirichlet_values[at(kGrid - 1, 100)], std::sin(2.0 * 100 / (kGrid - 1)), 1e-12);
  EXPECT_EQ(s.dirichlet_mask[at(0, 100)], 0);  // nothing on the final time
}

TEST(HypernetSpec, RefusesWhatTheFamilyCannotHold) {
  expect_input_error([] { spec_from_problem(problem(R"(problem:
  name: mixed
  domain: {box: [[-1, 1], [-1, 1]]}
  operator: {c_uxy: 1, c_uxx: 1}
  boundary:
    - {parts: [left, right, bottom, top], type: dirichlet, value: 0}
)")); }, {"mixed", "u_xy"});
  expect_input_error([] { spec_from_problem(problem(R"(problem:
  name: robin
  domain: {box: [[-1, 1], [-1, 1]]}
  operator: {c_uxx: 1, c_uyy: 1}
  boundary:
    - {parts: [left, right, bottom, top], type: robin, alpha: 1, beta: 1, value: 0}
)")); }, {"robin", "Robin"});
}

TEST(HypernetSpec, BadSpecificationsNameWhatIsWrong) {
  Spec s = spec_from_problem(problem(kHoles));
  Spec nan_source = s;
  nan_source.source[at(50, 60)] = std::nan("");
  expect_input_error([&] { nan_source.validate(); }, {"holes", "source", "row 50, column 60"});
  Spec no_dirichlet = s;
  for (double& m : no_dirichlet.dirichlet_mask) m = 0;
  expect_input_error([&] { no_dirichlet.validate(); }, {"Dirichlet mask is empty", "elliptic"});
  // a first-order problem needs no Dirichlet data to be accepted here
  Spec transport = no_dirichlet;
  transport.coefficients = {0, 1, 1, 0, 0};
  EXPECT_NO_THROW(transport.validate());
  Spec small = s;
  small.n = 100;
  expect_input_error([&] { small.validate(); }, {"100 x 100", "224 x 224"});
}

TEST(HypernetSpec, ReadsABenchmarkFileAndTurnsNormalsOutward) {
  const std::string path = ::testing::TempDir() + "kpde_hyper_bench.h5";
  const std::size_t nn = static_cast<std::size_t>(kGrid) * kGrid;
  {
    io::H5File f = io::H5File::create(path);
    std::vector<double> dm(nn, 0), dv(nn, 0), nm(nn, 0), nv(nn, 0), src(nn, 0.5), dom(nn, 1), nr(2 * nn, 0);
    for (int j = 0; j < kGrid; ++j)
      for (int i = 0; i < kGrid; ++i) {
        if (j < 3 || j >= kGrid - 3 || i >= kGrid - 3) dm[at(i, j)] = 1;
        if (i >= kGrid - 3) nm[at(i, j)] = 1, nv[at(i, j)] = 0.25, nr[nn + at(i, j)] = 1;  // HyPINO: (0, +1), u_t = 0.25
      }
    const io::Shape sh{static_cast<std::size_t>(kGrid), static_cast<std::size_t>(kGrid)};
    f.write("wave/dirichlet_mask", dm, sh);
    f.write("wave/dirichlet_conditions", dv, sh);
    f.write("wave/neumann_mask", nm, sh);
    f.write("wave/neumann_conditions", nv, sh);
    f.write("wave/source_function", src, sh);
    f.write("wave/domain_mask", dom, sh);
    f.write("wave/neumann_normals", nr, {2, static_cast<std::size_t>(kGrid), static_cast<std::size_t>(kGrid)});
    f.set_attribute("wave", "id", "WV");
    f.set_attribute("wave", "coefficients", std::vector<double>{0, 0, 0, -2, 0.5});
    f.write("bad/dirichlet_mask", std::vector<double>(100 * 100, 0), {100, 100});
    f.set_attribute("bad", "coefficients", std::vector<double>{0, 0, 0, -1, -1});
    f.write("nocoef/dirichlet_mask", dm, sh);
    f.close();
  }
  expect_input_error([&] { spec_from_benchmark(path, "nocoef"); }, {"nocoef", "coefficients"});
  const Spec s = spec_from_benchmark(path, "wave");
  EXPECT_EQ(s.name, "WV");
  EXPECT_EQ(s.coefficients[3], -2);
  EXPECT_EQ(s.coefficients[4], 0.5);
  // the initial-rate band: HyPINO's normal (0, +1) and u_t = 0.25 become the outward
  // normal (0, -1) and n . grad u = -0.25
  EXPECT_EQ(s.neumann_mask[at(kGrid - 1, 50)], 1);
  EXPECT_EQ(s.normals[2 * at(kGrid - 2, 50) + 1], -1);
  EXPECT_EQ(s.neumann_values[at(kGrid - 2, 50)], -0.25);
  EXPECT_NO_THROW(s.validate());
  expect_input_error([&] { spec_from_benchmark(path, "nothing"); }, {"nothing", "wave"});
  expect_input_error([&] { spec_from_benchmark(path, "bad"); }, {"bad", "100 x 100", "224"});
  std::remove(path.c_str());
}

TEST(HypernetInput, NormalisesByTheLargestDatum) {
  const Spec s = spec_from_problem(problem(kHoles));
  // |g| = |1 + y| <= 2, |h| = 3, |f| = |2x| <= 2 -> sigma = 3
  EXPECT_NEAR(data_scale(s), 3, 1e-12);
  const PreparedInput in = prepare_input(s, 2);
  EXPECT_EQ(in.size, kGrid / 2);
  const std::size_t plane = static_cast<std::size_t>(in.size) * in.size;
  // channel 3 (h / sigma) reaches 1 where a 2x2 block is all Neumann band
  float hmax = 0;
  for (std::size_t k = 0; k < plane; ++k) hmax = std::max(hmax, in.grids[3 * plane + k]);
  EXPECT_NEAR(hmax, 1.0, 1e-6);
  // x and y channels: pixel (0, 0) is the mean of x over columns 0-1 at the top
  EXPECT_NEAR(in.grids[9 * plane], -1 + 1.0 / (kGrid - 1), 1e-6);
  EXPECT_NEAR(in.grids[10 * plane], 1 - 1.0 / (kGrid - 1), 1e-6);
  EXPECT_EQ(in.cond[3], -1.0f);  // c_uxx
  EXPECT_THROW(prepare_input(s, 5), InputError);
}
