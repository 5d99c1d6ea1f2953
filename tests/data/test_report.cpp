// data::build_report (data/report.hpp) against each kind of truth: scattered reference
// points (text and HDF5; the solution is evaluated at exactly those points), the named
// Burgers reference, no truth at all, and a truth that vanishes at every node; and the
// output grid with a different node count per axis.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "data/burgers.hpp"
#include "data/problem.hpp"
#include "data/report.hpp"
#include "data/table.hpp"
#include "support/input_checks.hpp"

using namespace kpde;
using kpde::config::Document;

namespace {

constexpr double kPi = 3.14159265358979323846;

std::string tmp(const std::string& name) { return "/tmp/kpde_test_report_" + std::to_string(::getpid()) + "_" + name; }

data::Problem load(const std::string& text) {
  Document doc = Document::load_string(text, "/tmp/cfg.yaml");
  return data::load_problem(doc.root().at("problem"), doc);
}

std::string poisson(const std::string& reference) {
  return "problem:\n"
         "  domain: {box: [[-1, 1], [-1, 1]]}\n"
         "  operator: {c_uxx: -1, c_uyy: -1}\n"
         "  source: 2*pi^2*sin(pi*x)*sin(pi*y)\n"
         "  boundary:\n"
         "    - {parts: all, type: dirichlet, value: 0}\n" +
         reference;
}

double exact(double x, double y) { return std::sin(kPi * x) * std::sin(kPi * y); }

/// A "model": the exact solution plus 0.01 x y, recording every point it is asked for.
struct Model {
  std::vector<std::vector<double>> asked;
  data::PointEval eval() {
    return [this](const Mat<const double>& x, std::vector<double>* u, std::vector<double>*) {
      u->resize(x.extent(0));
      for (std::size_t k = 0; k < x.extent(0); ++k) {
        asked.push_back({x(k, 0), x(k, 1)});
        (*u)[k] = exact(x(k, 0), x(k, 1)) + 0.01 * x(k, 0) * x(k, 1);
      }
    };
  }
};

}  // namespace

TEST(Report, ScatteredReferencePointsTextAndHdf5) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> d(-1, 1);
  data::Table t;
  t.names = {"x", "y", "u"};
  t.columns.resize(3);
  double e2 = 0, u2 = 0, emax = 0;
  for (int k = 0; k < 257; ++k) {
    const double x = d(rng), y = d(rng), u = exact(x, y);
    t.columns[0].push_back(x), t.columns[1].push_back(y), t.columns[2].push_back(u);
    const double e = 0.01 * x * y;
    e2 += e * e, u2 += u * u, emax = std::max(emax, std::abs(e));
  }
  // a header-less text file (columns named in the config) and an HDF5 table
  const std::string txt = tmp("ref.txt"), h5 = tmp("ref.h5");
  {
    std::ofstream f(txt);
    f.precision(17);
    f << "# x y u, no header\n";
    for (std::size_t k = 0; k < t.n_rows(); ++k) f << t.columns[0][k] << "  " << t.columns[1][k] << "\t" << t.columns[2][k] << "\n";
  }
  data::write_table(h5, t);
  for (const std::string& ref : {"  reference: {points: " + txt + ", columns: [x, y, u]}\n",
                                "  reference: {points: " + h5 + "}\n"}) {
    const data::Problem p = load(poisson(ref));
    ASSERT_TRUE(p.point_reference.has_value());
    Model m;
    const data::Report r = data::build_report(p, data::same_counts(9), m.eval(), false);
    // the headline errors are those at the reference points, computed exactly
    EXPECT_EQ(r.summary.n, 257);
    EXPECT_NEAR(r.summary.rel_l2, std::sqrt(e2 / u2), 1e-12 * std::sqrt(e2 / u2));
    EXPECT_NEAR(r.summary.max_abs_err, emax, 1e-15);
    EXPECT_NEAR(r.metrics.find("points_rel_l2")->number(), std::sqrt(e2 / u2), 1e-12);
    EXPECT_NE(r.metrics.find("error_against")->text().find("257 points"), std::string::npos);
    // the model was asked at the 9 x 9 output nodes and then at exactly the reference points
    ASSERT_EQ(m.asked.size(), 81u + 257u);
    for (std::size_t k = 0; k < 257; ++k) {
      EXPECT_EQ(m.asked[81 + k][0], t.columns[0][k]);
      EXPECT_EQ(m.asked[81 + k][1], t.columns[1][k]);
    }
  }
  // a point outside the domain's box, and a missing column, name the file and the point
  {
    std::ofstream f(txt);
    f << "x,y,u\n0,0,0\n0.5,1.5,0\n";
  }
  test::expect_input_error([&] { load(poisson("  reference: {points: " + txt + "}\n")); },
                           {"problem.reference.points", "point 2 has y = 1.5", "outside the domain's box"});
  test::expect_input_error([&] { load(poisson("  reference: {points: " + txt + ", columns: [x, y, v]}\n")); }, {});
  {
    std::ofstream f(txt);
    f << "x,y,v\n0,0,0\n";
  }
  test::expect_input_error([&] { load(poisson("  reference: {points: " + txt + "}\n")); }, {"no column 'u'"});
  std::remove(txt.c_str());
  std::remove(h5.c_str());
}

TEST(Report, NoTruthAndVanishingTruth) {
  Model m;
  const data::Report none = data::build_report(load(poisson("")), data::same_counts(5), m.eval(), false);
  EXPECT_EQ(none.summary.n, 0);
  EXPECT_NE(none.metrics.find("error_against")->text().find("none"), std::string::npos);
  // exact: sin(pi x) sin(pi y) is rounding-level (~1e-16) at the nodes of a 3 x 3 grid
  const data::Report zero =
      data::build_report(load(poisson("  exact: sin(pi*x)*sin(pi*y)\n")), data::same_counts(3), m.eval(), false);
  EXPECT_TRUE(zero.summary.truth_vanishes);
  EXPECT_TRUE(std::isnan(zero.summary.rel_l2));
  EXPECT_GT(zero.metrics.find("rms_err")->number(), 0.0);
  const data::Report fine =
      data::build_report(load(poisson("  exact: sin(pi*x)*sin(pi*y)\n")), data::same_counts(11), m.eval(), false);
  EXPECT_FALSE(fine.summary.truth_vanishes);
  EXPECT_GT(fine.summary.rel_l2, 1e-3);
  EXPECT_LT(fine.summary.rel_l2, 1e-1);
}

TEST(Report, BurgersNamedReference) {
  const std::string text =
      "problem:\n"
      "  domain: {box: [[-1, 1], [0, 1]], time_axis: y}\n"
      "  operator: {residual: u_y + u*u_x - 0.01/pi*u_xx}\n"
      "  source: 0\n"
      "  boundary:\n"
      "    - {parts: [left, right], type: dirichlet, value: -sin(pi*x)}\n"
      "  initial: {value: -sin(pi*x)}\n"
      "  reference: {burgers: 0.0031830988618379067, nodes: 2001}\n";
  const data::Problem p = load(text);
  ASSERT_TRUE(p.named_reference.has_value());
  const double nu = 0.01 / kPi;
  // a model equal to the Cole-Hopf solution plus 1e-3 t: rel_l2 from the same nodes
  const data::PointEval eval = [&](const Mat<const double>& x, std::vector<double>* u, std::vector<double>*) {
    u->resize(x.extent(0));
    for (std::size_t k = 0; k < x.extent(0); ++k) (*u)[k] = data::burgers_cole_hopf(x(k, 0), x(k, 1), nu, 2001) + 1e-3 * x(k, 1);
  };
  const data::Report r = data::build_report(p, {7, 5, 0}, eval, false);
  double e2 = 0, u2 = 0;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 7; ++j) {
      const double x = -1 + 2.0 * j / 6, t = i / 4.0, u = data::burgers_cole_hopf(x, t, nu, 2001);
      e2 += 1e-6 * t * t, u2 += u * u;
    }
  EXPECT_EQ(r.summary.n, 35);
  EXPECT_NEAR(r.summary.rel_l2, std::sqrt(e2 / u2), 1e-9);
  EXPECT_EQ(r.fields.nx(), 7u);
  EXPECT_EQ(r.fields.ny(), 5u);
  // it is the solution of that benchmark only
  std::string other = text;
  other.replace(other.find("[0, 1]]"), 7, "[0, 2]]");
  test::expect_input_error([&] { load(other); }, {"problem.reference.burgers", "[-1, 1]"});
}
