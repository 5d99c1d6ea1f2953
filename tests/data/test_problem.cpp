// data::load_problem (data/problem.hpp): domains with every shape kind, holes and
// unions, boundary conditions with `parts: all`, time problems with initial value and
// rate, linear and nonlinear operators, constants, and the errors of each (they must
// name the file, the line and the key path).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "data/problem.hpp"
#include "support/input_checks.hpp"

using namespace kpde;
using kpde::config::Document;
using kpde::data::Condition;
using kpde::data::Problem;
using kpde::test::expect_input_error;
using kpde::test::expect_starts_with;
using kpde::test::input_error;
using kpde::test::line_of;
using kpde::test::loc;

namespace {

constexpr double kPi = 3.14159265358979323846;

Problem load(const std::string& text, const std::string& name = "cfg.yaml") {
  Document doc = Document::load_string(text, name);
  return data::load_problem(doc.root().at("problem"), doc);
}

mesh::Point pt(double x, double y = 0, double z = 0) { return mesh::Point{x, y, z}; }

/// The conditions on part `name`.
std::vector<Condition> on(const Problem& p, const std::string& name) {
  std::vector<Condition> out;
  for (const auto& c : p.conditions)
    if (c.part_name == name) out.push_back(c);
  return out;
}

/// A problem on [-1,1]^2 with `domain_extra` under domain: and `rest` under problem:.
std::string square(const std::string& domain_extra, const std::string& rest) {
  return "problem:\n"
         "  domain:\n"
         "    box: [[-1, 1], [-1, 1]]\n" +
         domain_extra + "  operator: {c_uxx: -1, c_uyy: -1}\n" + rest;
}

const std::string kAllDirichlet =
    "  boundary:\n"
    "    - {parts: all, type: dirichlet, value: 0}\n";

}  // namespace

TEST(Problem, PoissonOnTheSquare) {
  const Problem p = load(square("", "  name: sq\n  source: 2*pi^2*sin(pi*x)*sin(pi*y)\n" + kAllDirichlet +
                                        "  exact: sin(pi*x)*sin(pi*y)\n"));
  EXPECT_EQ(p.name, "sq");
  EXPECT_EQ(p.dim, 2);
  EXPECT_EQ(p.time_axis, -1);
  EXPECT_FALSE(p.nonlinear);
  ASSERT_EQ(p.terms.size(), 2u);
  EXPECT_TRUE(p.constant_coefficients());
  EXPECT_DOUBLE_EQ(p.coefficient({2, 0, 0})->constant_value(), -1.0);
  EXPECT_DOUBLE_EQ(p.coefficient({2, 1, 1})->constant_value(), -1.0);
  EXPECT_EQ(p.coefficient({0, -1, -1}), nullptr);
  // `parts: all` covers the four sides, each once
  ASSERT_EQ(p.conditions.size(), 4u);
  for (const char* side : {"left", "right", "bottom", "top"}) {
    ASSERT_EQ(on(p, side).size(), 1u) << side;
    EXPECT_EQ(on(p, side)[0].kind, mesh::BoundaryKind::dirichlet);
    EXPECT_EQ(on(p, side)[0].part, p.geometry->find_part(side));
  }
  EXPECT_NEAR(p.source(pt(0.5, 0.5)), 2 * kPi * kPi, 1e-12);
  ASSERT_TRUE(p.exact.has_value());
  EXPECT_NEAR((*p.exact)(pt(0.5, -0.5)), -1.0, 1e-15);
  const auto jet = p.exact->jet(pt(0.25, 0.5), 2);
  EXPECT_NEAR(jet.grad[0], kPi * std::cos(kPi * 0.25), 1e-14);  // exact derivatives
  EXPECT_NEAR(jet.hess[0][0], -kPi * kPi * std::sin(kPi * 0.25), 1e-13);
  EXPECT_EQ(p.constrained_parts().size(), 4u);
  EXPECT_NE(p.describe().find("linear"), std::string::npos);
}

TEST(Problem, EveryShapeKindAsAHole) {
  // five disjoint holes in [-4,4] x [-2,2]
  const std::string text =
      "problem:\n"
      "  domain:\n"
      "    box: [[-4, 4], [-2, 2]]\n"
      "    holes:\n"
      "      - {type: disk, name: d, center: [-3, 0], radius: 0.5}\n"
      "      - {type: rectangle, name: r, lo: [-2, -0.5], hi: [-1, 0.5]}\n"
      "      - {type: triangle, name: t, vertices: [[0, 0], [1, 0], [0, 1]]}\n"
      "      - {type: polygon, name: poly, vertices: [[1.5, -1], [2.5, -1], [2.5, 0], [2, 0.5], [1.5, 0]]}\n"
      "      - {type: box, name: b, lo: [3, 1], hi: [3.5, 1.5]}\n"
      "  operator: {c_uxx: 1}\n" +
      kAllDirichlet;
  const Problem p = load(text);
  const mesh::Geometry& g = *p.geometry;
  for (const char* name : {"d", "r", "t", "poly", "b", "left", "right", "bottom", "top"})
    EXPECT_GE(g.find_part(name), 0) << name;
  // points inside each hole are outside the domain, points next to it are inside
  EXPECT_FALSE(g.inside(pt(-3, 0)));
  EXPECT_TRUE(g.inside(pt(-3, 0.6)));
  EXPECT_FALSE(g.inside(pt(-1.5, 0.4)));
  EXPECT_TRUE(g.inside(pt(-1.5, 0.6)));
  EXPECT_FALSE(g.inside(pt(0.2, 0.2)));
  EXPECT_TRUE(g.inside(pt(0.6, 0.6)));  // beyond the hypotenuse
  EXPECT_FALSE(g.inside(pt(2, -0.5)));
  EXPECT_TRUE(g.inside(pt(1.6, 0.4)));  // cut off by the slanted edge (1.5,0)-(2,0.5)
  EXPECT_FALSE(g.inside(pt(3.25, 1.25)));
  EXPECT_TRUE(g.inside(pt(3.25, 1.6)));
  // perimeters of the holes
  EXPECT_NEAR(g.part_length(g.find_part("d")), 2 * kPi * 0.5, 0.01);
  EXPECT_NEAR(g.part_length(g.find_part("r")), 4.0, 0.01);
  EXPECT_NEAR(g.part_length(g.find_part("t")), 2 + std::sqrt(2.0), 0.01);
  EXPECT_NEAR(g.part_length(g.find_part("poly")), 1 + 1 + 1 + 2 * std::sqrt(0.5), 0.01);
  EXPECT_NEAR(g.part_length(g.find_part("b")), 2.0, 0.01);
  // `parts: all` reaches the holes too: 4 sides + 5 holes
  EXPECT_EQ(p.conditions.size(), 9u);
  EXPECT_EQ(on(p, "poly").size(), 1u);
}

TEST(Problem, UnionsWithAdd) {
  const std::string text = square(
      "    add:\n"
      "      - {type: rectangle, name: ext, lo: [0.5, -0.5], hi: [2, 0.5]}\n"
      "    holes:\n"
      "      - {type: disk, name: hole, center: [1.5, 0], radius: 0.2}\n",
      kAllDirichlet);
  const Problem p = load(text);
  const mesh::Geometry& g = *p.geometry;
  EXPECT_DOUBLE_EQ(g.hi()[0], 2.0);
  EXPECT_TRUE(g.inside(pt(1.8, 0.4)));
  EXPECT_FALSE(g.inside(pt(1.5, 0.1)));   // the hole cuts the added part
  EXPECT_FALSE(g.inside(pt(1.5, 0.7)));   // outside both
  EXPECT_TRUE(g.inside(pt(0.9, 0.9)));
  // the right side of the square is partly covered by the added rectangle
  EXPECT_NEAR(g.part_length(g.find_part("right")), 1.0, 0.01);
  // ext: its top and bottom edges beyond x = 1 and its right edge; the rest is inside the square
  EXPECT_NEAR(g.part_length(g.find_part("ext")), 1.0 + 1.0 + 1.0, 0.01);
  EXPECT_EQ(p.conditions.size(), 6u);
}

TEST(Problem, OneAndThreeDimensions) {
  const Problem p1 = load(
      "problem:\n  domain: {box: [[0, 2]]}\n  operator: {c_uxx: 1, c_u: -1}\n  source: exp(x)\n" + kAllDirichlet);
  EXPECT_EQ(p1.dim, 1);
  EXPECT_EQ(on(p1, "left").size(), 1u);
  EXPECT_EQ(on(p1, "right").size(), 1u);
  EXPECT_NEAR(p1.source(pt(1)), std::exp(1.0), 1e-15);
  const Problem p3 = load(
      "problem:\n"
      "  domain:\n"
      "    box: [[0, 1], [0, 1], [0, 1]]\n"
      "    holes: [{type: box, name: cube, lo: [0.4, 0.4, 0.4], hi: [0.6, 0.6, 0.6]}]\n"
      "  operator: {c_uxx: 1, c_uyy: 1, c_uzz: 1, c_uyz: 0.5}\n"
      "  source: x*y*z\n" +
      kAllDirichlet);
  EXPECT_EQ(p3.dim, 3);
  EXPECT_EQ(p3.conditions.size(), 7u);  // six sides and the cube
  EXPECT_FALSE(p3.geometry->inside(pt(0.5, 0.5, 0.5)));
  EXPECT_NE(p3.coefficient({2, 1, 2}), nullptr);
  EXPECT_NEAR(p3.source(pt(0.5, 0.5, 2)), 0.5, 1e-15);
  // a disk in 3-D
  const std::string bad =
      "problem:\n"
      "  domain:\n"
      "    box: [[0, 1], [0, 1], [0, 1]]\n"
      "    holes:\n"
      "      - {type: disk, name: d, center: [0.5, 0.5], radius: 0.1}\n"
      "  operator: {c_uxx: 1}\n" +
      kAllDirichlet;
  expect_input_error([&] { load(bad); }, {"cfg.yaml:" + line_of(bad, "type: disk"), "problem.domain.holes[0]", "2-D"});
}

TEST(Problem, BadShapesNameTheirEntry) {
  const std::string neg = square("    holes:\n      - {type: disk, name: d, center: [0, 0], radius: -1}\n", kAllDirichlet);
  expect_input_error([&] { load(neg); }, {"cfg.yaml:" + line_of(neg, "radius: -1"), "problem.domain.holes[0]", "radius"});
  const std::string tri =
      square("    holes:\n      - type: triangle\n        name: t\n        vertices: [[0, 0], [0.5, 0], [0, 0.5], [0.1, 0.1]]\n",
             kAllDirichlet);
  expect_input_error([&] { load(tri); }, {"cfg.yaml:" + line_of(tri, "vertices"), "problem.domain.holes[0].vertices", "3 vertices"});
  const std::string kind = square("    holes:\n      - {type: circle, name: c}\n", kAllDirichlet);
  expect_input_error([&] { load(kind); }, {"cfg.yaml:" + loc(kind, "circle"), "problem.domain.holes[0].type",
                                           "unknown value 'circle'", "disk"});
  const std::string unnamed = square("    holes:\n      - {type: disk, center: [0, 0], radius: 0.5}\n", kAllDirichlet);
  expect_input_error([&] { load(unnamed); }, {"cfg.yaml:" + line_of(unnamed, "type: disk"), "problem.domain.holes[0]",
                                              "missing required key 'name'"});
  const std::string coords = square("    holes:\n      - {type: disk, name: d, center: [0, 0, 0], radius: 0.5}\n", kAllDirichlet);
  expect_input_error([&] { load(coords); }, {"cfg.yaml:" + line_of(coords, "center"), "problem.domain.holes[0].center",
                                             "2 coordinates"});
  const std::string bowtie = square(
      "    holes:\n      - {type: polygon, name: bow, vertices: [[0, 0], [0.5, 0.5], [0.5, 0], [0, 0.5]]}\n", kAllDirichlet);
  expect_input_error([&] { load(bowtie); }, {"cfg.yaml:" + line_of(bowtie, "bow"), "problem.domain.holes[0]", "self-intersecting"});
  const std::string box4 = "problem:\n  domain: {box: [[0, 1], [0, 1], [0, 1], [0, 1]]}\n  operator: {c_u: 1}\n";
  expect_input_error([&] { load(box4); }, {"cfg.yaml:" + loc(box4, "[[0, 1]"), "problem.domain.box", "1 to 3 ranges"});
  const std::string flat = "problem:\n  domain: {box: [[0, 1], [2, 2]]}\n  operator: {c_u: 1}\n";
  expect_input_error([&] { load(flat); }, {"cfg.yaml:" + loc(flat, "[2, 2]"), "problem.domain.box[1]", "lo < hi"});
}

TEST(Problem, DomainEmptiedByItsHoles) {
  const std::string text = square("    holes:\n      - {type: disk, name: big, center: [0, 0], radius: 5}\n", kAllDirichlet);
  expect_input_error([&] { load(text); }, {"cfg.yaml:" + line_of(text, "box:"), "problem.domain", "empty", "big"});
}

TEST(Problem, PartsAllCoversOnlyTheUnnamedParts) {
  const std::string text = square(
      "    holes:\n      - {type: disk, name: hole, center: [0, 0], radius: 0.3}\n",
      "  boundary:\n"
      "    - {parts: all, type: dirichlet, value: x}\n"
      "    - {parts: [hole], type: neumann, value: 2*y}\n"
      "    - {part: left, type: robin, value: 1, alpha: 2, beta: 0.5, weight: 3}\n");
  const Problem p = load(text);
  ASSERT_EQ(p.conditions.size(), 5u);
  ASSERT_EQ(on(p, "hole").size(), 1u);
  EXPECT_EQ(on(p, "hole")[0].kind, mesh::BoundaryKind::neumann);
  EXPECT_DOUBLE_EQ(on(p, "hole")[0].value(pt(0, 0.3)), 0.6);
  ASSERT_EQ(on(p, "left").size(), 1u);  // named explicitly: `all` leaves it out
  const std::vector<Condition> left = on(p, "left");
  const Condition& robin = left[0];
  EXPECT_EQ(robin.kind, mesh::BoundaryKind::robin);
  EXPECT_DOUBLE_EQ(robin.alpha, 2.0);
  EXPECT_DOUBLE_EQ(robin.beta, 0.5);
  EXPECT_DOUBLE_EQ(robin.weight, 3.0);
  for (const char* side : {"right", "bottom", "top"}) {
    ASSERT_EQ(on(p, side).size(), 1u) << side;
    EXPECT_EQ(on(p, side)[0].kind, mesh::BoundaryKind::dirichlet);
    EXPECT_DOUBLE_EQ(on(p, side)[0].value(pt(0.75, 1)), 0.75);
    EXPECT_DOUBLE_EQ(on(p, side)[0].weight, 1.0);
    EXPECT_NE(on(p, side)[0].where.find("problem.boundary[0]"), std::string::npos);
  }
}

TEST(Problem, MissingBoundaryConditionIsAnError) {
  const std::string text = square("",
                                   "  boundary:\n"
                                   "    - {parts: [left, right], type: dirichlet, value: 0}\n");
  expect_input_error([&] { load(text); },
                     {"cfg.yaml:" + line_of(text, "- {parts"), "problem.boundary", "bottom, top", "parts: all"});
  // no boundary section at all
  const std::string none = square("", "  source: 1\n");
  expect_input_error([&] { load(none); }, {"cfg.yaml:" + loc(none, "domain:") + ": problem: ", "left, right, bottom, top"});
}

TEST(Problem, ConditionOnANonexistentPart) {
  const std::string text = square("",
                                  "  boundary:\n"
                                  "    - {parts: all, type: dirichlet, value: 0}\n"
                                  "    - {parts: [left, lft], type: neumann, value: 0}\n");
  const std::string msg = input_error([&] { load(text); });
  expect_starts_with(msg, "cfg.yaml:" + line_of(text, "[left, lft]"));
  EXPECT_NE(msg.find("problem.boundary[1].parts"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'lft'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("left"), std::string::npos) << msg;  // the existing parts are listed
  const std::string one = square("", "  boundary:\n    - {part: hole, type: dirichlet, value: 0}\n");
  expect_input_error([&] { load(one); }, {"cfg.yaml:" + line_of(one, "part: hole"), "problem.boundary[0].part", "'hole'"});
  const std::string both = square("", "  boundary:\n    - {part: left, parts: [right], type: dirichlet, value: 0}\n");
  expect_input_error([&] { load(both); }, {"cfg.yaml:" + line_of(both, "part: left"), "problem.boundary[0]", "not both"});
  const std::string empty = square("", "  boundary:\n    - {parts: [], type: dirichlet, value: 0}\n");
  expect_input_error([&] { load(empty); }, {"cfg.yaml:" + line_of(empty, "parts: []"), "problem.boundary[0].parts", "empty"});
}

TEST(Problem, DuplicateConditionIsAnError) {
  const std::string text = square("",
                                  "  boundary:\n"
                                  "    - {parts: all, type: dirichlet, value: 0}\n"
                                  "    - {parts: [top], type: dirichlet, value: 1}\n"
                                  "    - {parts: [top], type: dirichlet, value: 2}\n");
  const std::string msg = input_error([&] { load(text); });
  expect_starts_with(msg, "cfg.yaml:" + line_of(text, "value: 2"));
  EXPECT_NE(msg.find("problem.boundary[2]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'top' already has a dirichlet condition"), std::string::npos) << msg;
  EXPECT_NE(msg.find("problem.boundary[1]"), std::string::npos) << msg;  // where the first one is
  const std::string twice = square("", "  boundary:\n    - {parts: [all, left], type: dirichlet, value: 0}\n"
                                       "    - {parts: [left], type: dirichlet, value: 0}\n");
  expect_input_error([&] { load(twice); }, {"cfg.yaml:" + line_of(twice, "- {parts: [left]"), "problem.boundary[1]", "already has"});
}

TEST(Problem, BadConditionEntries) {
  const std::string type = square("", "  boundary:\n    - {parts: all, type: periodic, value: 0}\n");
  expect_input_error([&] { load(type); }, {"cfg.yaml:" + loc(type, "periodic"), "problem.boundary[0].type", "periodic"});
  const std::string robin = square("", "  boundary:\n    - {parts: all, type: robin, value: 0, alpha: 0, beta: 0}\n");
  expect_input_error([&] { load(robin); }, {"cfg.yaml:" + line_of(robin, "robin"), "problem.boundary[0]", "alpha and beta"});
  const std::string noalpha = square("", "  boundary:\n    - {parts: all, type: robin, value: 0, beta: 1}\n");
  expect_input_error([&] { load(noalpha); }, {"cfg.yaml:" + line_of(noalpha, "robin"), "problem.boundary[0]",
                                              "missing required key 'alpha'"});
  const std::string weight = square("", "  boundary:\n    - {parts: all, type: dirichlet, value: 0, weight: 0}\n");
  expect_input_error([&] { load(weight); }, {"cfg.yaml:" + loc(weight, "0}"), "problem.boundary[0].weight", "must be > 0"});
  const std::string value = square("", "  boundary:\n    - {parts: all, type: dirichlet, value: [1, 2]}\n");
  expect_input_error([&] { load(value); }, {"cfg.yaml:" + loc(value, "[1, 2]"), "problem.boundary[0].value"});
  const std::string notmap = square("", "  boundary:\n    - left\n");
  expect_input_error([&] { load(notmap); }, {"cfg.yaml:" + loc(notmap, "left"), "problem.boundary[0]"});
}

TEST(Problem, TimeAxisWithInitialValueAndRate) {
  const std::string text =
      "problem:\n"
      "  domain: {box: [[0, 1], [0, 2]], time_axis: y}\n"
      "  operator: {c_uyy: 1, c_uxx: -4}\n"
      "  boundary:\n"
      "    - {parts: [left, right], type: dirichlet, value: 0}\n"
      "  initial:\n"
      "    value: sin(pi*x)\n"
      "    rate: 2*x\n"
      "    weight: 5\n";
  const Problem p = load(text);
  EXPECT_EQ(p.time_axis, 1);
  EXPECT_TRUE(on(p, "top").empty());  // the final time line has no condition
  const auto init = on(p, "bottom");
  ASSERT_EQ(init.size(), 2u);
  for (const auto& c : init) {
    EXPECT_TRUE(c.initial);
    EXPECT_DOUBLE_EQ(c.weight, 5.0);
  }
  const Condition& value = init[0].kind == mesh::BoundaryKind::dirichlet ? init[0] : init[1];
  const Condition& rate = init[0].kind == mesh::BoundaryKind::dirichlet ? init[1] : init[0];
  EXPECT_EQ(value.kind, mesh::BoundaryKind::dirichlet);
  EXPECT_EQ(rate.kind, mesh::BoundaryKind::neumann);
  EXPECT_NEAR(value.value(pt(0.5, 0)), 1.0, 1e-15);
  // du/dn on the initial line, n = -e_t: the rate with the opposite sign
  EXPECT_NEAR(rate.value(pt(0.5, 0)), -1.0, 1e-15);
  EXPECT_NEAR(rate.value(pt(0.25, 0)), -0.5, 1e-15);
  EXPECT_NE(value.where.find("cfg.yaml:" + loc(text, "sin(pi*x)")), std::string::npos) << value.where;
  EXPECT_NE(p.describe().find("y is time"), std::string::npos);
  const auto sides = p.constrained_parts();
  EXPECT_EQ(sides.size(), 3u);
}

TEST(Problem, TimeAxisErrors) {
  const std::string axis = "problem:\n  domain: {box: [[0, 1], [0, 2]], time_axis: z}\n  operator: {c_u: 1}\n";
  expect_input_error([&] { load(axis); }, {"cfg.yaml:" + loc(axis, "z}"), "problem.domain.time_axis", "x, y"});
  const std::string notime = square("", kAllDirichlet + "  initial: {value: 0}\n");
  expect_input_error([&] { load(notime); }, {"cfg.yaml:" + line_of(notime, "initial"), "problem.initial", "time axis"});
  const std::string both =
      "problem:\n"
      "  domain: {box: [[0, 1], [0, 2]], time_axis: y}\n"
      "  operator: {c_uy: 1, c_uxx: -1}\n"
      "  boundary:\n"
      "    - {parts: all, type: dirichlet, value: 0}\n"
      "  initial:\n"
      "    value: 0\n";
  expect_input_error([&] { load(both); }, {"cfg.yaml:" + line_of(both, "value: 0\n"), "problem.initial", "bottom",
                                           "also has a boundary condition"});
  const std::string missing =
      "problem:\n"
      "  domain: {box: [[0, 1], [0, 2]], time_axis: y}\n"
      "  operator: {c_uy: 1, c_uxx: -1}\n"
      "  boundary:\n"
      "    - {parts: [left, right], type: dirichlet, value: 0}\n";
  expect_input_error([&] { load(missing); }, {"cfg.yaml:" + line_of(missing, "- {parts"), "problem.boundary", "bottom", "initial"});
  const std::string rate =
      "problem:\n"
      "  domain: {box: [[0, 1], [0, 2]], time_axis: y}\n"
      "  operator: {c_uy: 1, c_uxx: -1}\n"
      "  boundary: [{parts: [left, right], type: dirichlet, value: 0}]\n"
      "  initial: {value: 0, rate: sin(t)}\n";
  expect_input_error([&] { load(rate); }, {"cfg.yaml:" + loc(rate, "sin(t)"), "problem.initial.rate", "unknown variable 't'"});
}

TEST(Problem, LinearCoefficientsConstantAndVariable) {
  const std::string text =
      "problem:\n"
      "  constants: {k: 2, nu: 0.5}\n"
      "  domain: {box: [[-1, 1], [-1, 1]]}\n"
      "  operator:\n"
      "    c_u: 0\n"
      "    c_ux: x*y\n"
      "    c_uy: nu\n"
      "    c_uxx: -k\n"
      "    c_uyy: 1+x^2\n"
      "    c_uxy: sin(pi/2)\n"
      "  source: k*x + nu\n" +
      kAllDirichlet;
  const Problem p = load(text);
  EXPECT_EQ(p.terms.size(), 5u);  // c_u = 0 is dropped
  EXPECT_EQ(p.coefficient({0, -1, -1}), nullptr);
  EXPECT_FALSE(p.constant_coefficients());
  EXPECT_DOUBLE_EQ((*p.coefficient({1, 0, -1}))(pt(0.5, -0.5)), -0.25);
  EXPECT_TRUE(p.coefficient({1, 1, -1})->is_constant());
  EXPECT_DOUBLE_EQ(p.coefficient({1, 1, -1})->constant_value(), 0.5);
  EXPECT_DOUBLE_EQ(p.coefficient({2, 0, 0})->constant_value(), -2.0);
  EXPECT_DOUBLE_EQ((*p.coefficient({2, 1, 1}))(pt(0.5, 0)), 1.25);
  EXPECT_DOUBLE_EQ(p.coefficient({2, 0, 1})->constant_value(), 1.0);  // folded constant
  EXPECT_DOUBLE_EQ(p.source(pt(1.5, 0)), 3.5);
  const auto derivs = p.operator_derivatives();
  ASSERT_EQ(derivs.size(), 5u);
  std::vector<std::string> names;
  for (const auto& d : derivs) names.push_back(d.name());
  EXPECT_EQ(names, (std::vector<std::string>{"u_x", "u_y", "u_xx", "u_yy", "u_xy"}));

  const std::string allzero = "problem:\n  domain: {box: [[0, 1]]}\n  operator: {c_u: 0, c_uxx: 0.0}\n" + kAllDirichlet;
  expect_input_error([&] { load(allzero); }, {"cfg.yaml:" + loc(allzero, "{c_u"), "problem.operator", "no nonzero coefficient"});
  const std::string badconst = "problem:\n  constants: {k: two}\n  domain: {box: [[0, 1]]}\n  operator: {c_u: k}\n";
  expect_input_error([&] { load(badconst); }, {"cfg.yaml:" + loc(badconst, "two"), "problem.constants.k", "expected a number"});
  const std::string badop = "problem:\n  domain: {box: [[0, 1]]}\n  operator: -1\n";
  expect_input_error([&] { load(badop); }, {"cfg.yaml:" + loc(badop, "-1"), "problem.operator", "expected a map"});
}

TEST(Problem, UnknownOperatorKeyListsTheKnownOnes) {
  const std::string text = "problem:\n  domain: {box: [[0, 1], [0, 1]]}\n  operator: {c_uxx: 1, c_uzz: 1}\n" + kAllDirichlet;
  Document doc = Document::load_string(text, "cfg.yaml");
  data::load_problem(doc.root().at("problem"), doc);
  const std::string msg = input_error([&] { doc.check_unused(); });
  expect_starts_with(msg, "cfg.yaml:" + loc(text, "c_uzz") + ": problem.operator: unknown key 'c_uzz'");
  for (const char* k : {"c_u", "c_ux", "c_uy", "c_uxx", "c_uyy", "c_uxy", "residual"})
    EXPECT_NE(msg.find(std::string(k) + (std::string(k) == "residual" ? ")" : ",")), std::string::npos) << k << ": " << msg;
}

TEST(Problem, NonlinearResidualVariablesAndDependence) {
  const std::string text =
      "problem:\n"
      "  constants: {nu: 0.25}\n"
      "  domain: {box: [[-1, 1], [0, 1]], time_axis: y}\n"
      "  operator:\n"
      "    residual: u_y + u*u_x - nu*u_xx\n"
      "  boundary:\n"
      "    - {parts: [left, right], type: dirichlet, value: 0}\n"
      "  initial: {value: -sin(pi*x)}\n";
  const Problem p = load(text);
  EXPECT_TRUE(p.nonlinear);
  EXPECT_TRUE(p.terms.empty());
  EXPECT_EQ(p.residual_variables, (std::vector<std::string>{"u", "u_x", "u_y", "u_xx", "u_yy", "u_xy", "x", "y"}));
  std::vector<std::string> names;
  for (const auto& d : p.operator_derivatives()) names.push_back(d.name());
  EXPECT_EQ(names, (std::vector<std::string>{"u", "u_x", "u_y", "u_xx"}));
  // u = 2, u_x = 3, u_y = 5, u_xx = 7 (u_yy, u_xy, x, y unused)
  const double vars[8] = {2, 3, 5, 7, 11, 13, 0.5, 0.5};
  EXPECT_DOUBLE_EQ(p.residual->eval(vars), 5 + 2 * 3 - 0.25 * 7);
  EXPECT_NE(p.describe().find("nonlinear"), std::string::npos);

  // the coordinates come after the derivatives, in 3-D too
  const Problem p3 = load("problem:\n  domain: {box: [[0, 1], [0, 1], [0, 1]]}\n  operator: {residual: u_yz + z*u^2}\n" +
                          kAllDirichlet);
  EXPECT_EQ(p3.residual_variables, (std::vector<std::string>{"u", "u_x", "u_y", "u_z", "u_xx", "u_yy", "u_zz", "u_xy",
                                                             "u_xz", "u_yz", "x", "y", "z"}));
  names.clear();
  for (const auto& d : p3.operator_derivatives()) names.push_back(d.name());
  EXPECT_EQ(names, (std::vector<std::string>{"u", "u_yz"}));

  const std::string indep = "problem:\n  domain: {box: [[0, 1]]}\n  operator: {residual: x + 1}\n" + kAllDirichlet;
  expect_input_error([&] { load(indep); }, {"cfg.yaml:" + loc(indep, "x + 1"), "problem.operator.residual", "does not depend on u"});
  const std::string both = "problem:\n  domain: {box: [[0, 1]]}\n  operator: {residual: u_xx, c_uxx: 1}\n" + kAllDirichlet;
  expect_input_error([&] { load(both); }, {"cfg.yaml:" + loc(both, "1}"), "problem.operator.c_uxx", "either a residual or coefficients"});
  const std::string unknown = "problem:\n  domain: {box: [[0, 1]]}\n  operator: {residual: u_t + u_xx}\n" + kAllDirichlet;
  const std::string msg = input_error([&] { load(unknown); });
  expect_starts_with(msg, "cfg.yaml:" + loc(unknown, "u_t + u_xx") + ": problem.operator.residual: expression error: ");
  EXPECT_NE(msg.find("unknown variable 'u_t'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\n  u_t + u_xx\n  ^"), std::string::npos) << msg;  // the text and a caret under column 1
}

TEST(Problem, ExpressionErrorsShowTextAndCaret) {
  const std::string text = square("", "  source: sin(pi*x) * (y + \n" + kAllDirichlet);
  const std::string msg = input_error([&] { load(text); });
  expect_starts_with(msg, "cfg.yaml:" + loc(text, "sin(pi*x) *") + ": problem.source: expression error: ");
  EXPECT_NE(msg.find("sin(pi*x) * (y +"), std::string::npos) << msg;
  EXPECT_NE(msg.find('^'), std::string::npos) << msg;
  const std::string fn = square("", "  source: sinn(x)\n" + kAllDirichlet);
  const std::string msg2 = input_error([&] { load(fn); });
  expect_starts_with(msg2, "cfg.yaml:" + loc(fn, "sinn") + ": problem.source: ");
  EXPECT_NE(msg2.find("unknown function 'sinn'"), std::string::npos) << msg2;
  const std::string var = square("", "  exact: sin(pi*t)\n" + kAllDirichlet);
  const std::string msg3 = input_error([&] { load(var); });
  expect_starts_with(msg3, "cfg.yaml:" + loc(var, "sin(pi*t)") + ": problem.exact: ");
  EXPECT_NE(msg3.find("unknown variable 't'"), std::string::npos) << msg3;
  // an expression in y in a 1-D problem: only x exists
  const std::string dim1 = "problem:\n  domain: {box: [[0, 1]]}\n  operator: {c_uxx: 1}\n  source: y\n" + kAllDirichlet;
  expect_input_error([&] { load(dim1); }, {"cfg.yaml:" + loc(dim1, "y\n"), "problem.source", "unknown variable 'y'"});
}

// ---- systems (fields: and residuals:) ---------------------------------------------------

namespace {

const std::string kStokes =
    "problem:\n"
    "  domain: {box: [[-1, 1], [-1, 1]]}\n"
    "  constants: {nu: 0.1}\n"
    "  fields: [u, v, p]\n"
    "  residuals:\n"
    "    momentum_x: u*u_x + v*u_y + p_x - nu*(u_xx + u_yy)\n"
    "    momentum_y: u*v_x + v*v_y + p_y - nu*(v_xx + v_yy)\n"
    "    continuity: u_x + v_y\n"
    "  boundary:\n"
    "    - {parts: all, field: u, type: dirichlet, value: 1 - y^2}\n"
    "    - {parts: all, field: v, type: dirichlet, value: 0}\n"
    "    - {part: right, field: p, type: dirichlet, value: 0}\n"
    "  exact: {u: 1 - y^2, p: -2*nu*x}\n";

/// kStokes with `from` replaced by `to`.
std::string stokes_with(const std::string& from, const std::string& to) {
  std::string s = kStokes;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST(ProblemSystem, FieldsResidualsConditionsAndExactPerField) {
  const Problem p = load(kStokes);
  ASSERT_TRUE(p.is_system());
  EXPECT_EQ(p.n_fields(), 3);
  EXPECT_EQ(p.field_names(), (std::vector<std::string>{"u", "v", "p"}));
  ASSERT_EQ(p.equations.size(), 3u);
  EXPECT_EQ(p.equations[0].name, "momentum_x");
  EXPECT_EQ(p.equations[2].name, "continuity");
  // variables: u.. v.. p.. (6 each in 2-D), then x, y
  const auto vars = p.system_variables();
  ASSERT_EQ(vars.size(), 20u);
  EXPECT_EQ(vars[0], "u");
  EXPECT_EQ(vars[7], "v_x");
  EXPECT_EQ(vars[17], "p_xy");
  EXPECT_EQ(vars[19], "y");
  EXPECT_TRUE(p.equations[2].residual->depends_on(1));   // u_x
  EXPECT_TRUE(p.equations[2].residual->depends_on(8));   // v_y
  EXPECT_FALSE(p.equations[2].residual->depends_on(12)); // p
  // the union of the derivatives: value, first, and the diagonal second derivatives
  EXPECT_EQ(p.operator_derivatives().size(), 5u);
  int on_p = 0;
  for (const auto& c : p.conditions) {
    EXPECT_GE(c.field, 0);
    if (c.field != 2) continue;
    ++on_p;
    EXPECT_EQ(c.part_name, "right");
  }
  EXPECT_EQ(on_p, 1);
  ASSERT_EQ(p.field_exact.size(), 3u);
  EXPECT_TRUE(p.field_exact[0] && p.field_exact[2]);
  EXPECT_FALSE(p.field_exact[1]);
  EXPECT_NEAR((*p.field_exact[2])(pt(0.5, 0.2)), -0.1, 1e-15);
  EXPECT_NE(p.describe().find("3 fields (u, v, p), 3 equations"), std::string::npos) << p.describe();
}

TEST(ProblemSystem, BadSystemConfigsNameTheirKey) {
  // a residual naming an unknown field: the expression error at the residual's key
  const std::string unknown = stokes_with("continuity: u_x + v_y", "continuity: u_x + w_y");
  expect_input_error([&] { load(unknown); }, {"cfg.yaml:" + loc(unknown, "u_x + w_y"), "problem.residuals.continuity",
                                              "unknown variable 'w_y'"});
  // a field with no condition: named at its entry in fields:
  const std::string free_p = stokes_with("    - {part: right, field: p, type: dirichlet, value: 0}\n", "");
  expect_input_error([&] { load(free_p); }, {"cfg.yaml:" + loc(free_p, "p]"), "problem.fields[2]",
                                             "the field 'p' has no boundary or initial condition"});
  // a condition without field:, or with one that is not a field
  const std::string no_field = stokes_with("{parts: all, field: v, ", "{parts: all, ");
  expect_input_error([&] { load(no_field); }, {"cfg.yaml:" + line_of(no_field, "{parts: all, type"), "problem.boundary[1]",
                                               "needs field: (one of u, v, p)"});
  const std::string bad_field = stokes_with("field: v,", "field: w,");
  expect_input_error([&] { load(bad_field); }, {"cfg.yaml:" + loc(bad_field, "w, type"), "problem.boundary[1].field",
                                                "'w' is not a field"});
  // a field in no residual, listed twice, or a bad name
  const std::string unused = stokes_with("fields: [u, v, p]", "fields: [u, v, p, q]");
  expect_input_error([&] { load(unused); }, {"cfg.yaml:" + loc(unused, "q]"), "problem.fields[3]", "appears in no residual"});
  const std::string twice = stokes_with("fields: [u, v, p]", "fields: [u, v, u]");
  expect_input_error([&] { load(twice); }, {"problem.fields[0]", "listed twice"});
  const std::string underscore = stokes_with("fields: [u, v, p]", "fields: [u, v, p_1]");
  expect_input_error([&] { load(underscore); }, {"problem.fields[2]", "no '_'"});
  const std::string axis = stokes_with("fields: [u, v, p]", "fields: [u, v, x]");
  expect_input_error([&] { load(axis); }, {"problem.fields[2]", "names an axis"});
  // operator:, source: or a reference beside fields:
  const std::string op = stokes_with("  residuals:\n", "  operator: {c_uxx: 1}\n  residuals:\n");
  expect_input_error([&] { load(op); }, {"cfg.yaml:" + line_of(op, "operator:"), "problem.operator", "residuals:"});
  const std::string src = stokes_with("  residuals:\n", "  source: 1\n  residuals:\n");
  expect_input_error([&] { load(src); }, {"problem.source", "no source"});
  // residuals: that is not a map, a residual named like a boundary term, one without fields
  const std::string list = stokes_with("  residuals:\n    momentum_x: ", "  residuals: [u_x]\n  xresiduals:\n    momentum_x: ");
  expect_input_error([&] { load(list); }, {"problem.residuals", "map of named residuals"});
  const std::string named = stokes_with("continuity:", "dirichlet:");
  expect_input_error([&] { load(named); }, {"problem.residuals.dirichlet", "boundary loss term"});
  const std::string constant = stokes_with("continuity: u_x + v_y", "continuity: x + y");
  expect_input_error([&] { load(constant); }, {"problem.residuals.continuity", "does not depend on any field"});
  // exact: a key that is not a field
  const std::string exact = stokes_with("exact: {u:", "exact: {w:");
  expect_input_error([&] { load(exact); }, {"problem.exact.w", "'w' is not a field"});
  // residuals: or field: in a scalar problem
  const std::string scalar_res = square("", kAllDirichlet + "  residuals: {a: u}\n");
  expect_input_error([&] { load(scalar_res); }, {"problem.residuals", "fields:"});
  const std::string scalar_field = square("", "  boundary:\n    - {parts: all, field: u, type: dirichlet, value: 0}\n");
  expect_input_error([&] { load(scalar_field); }, {"problem.boundary[0].field", "belongs to a system"});
}

TEST(ProblemSystem, InitialDataPerField) {
  const std::string text =
      "problem:\n"
      "  domain: {box: [[0, 1], [0, 2]], time_axis: y}\n"
      "  fields: [a, b]\n"
      "  residuals:\n"
      "    ra: a_y - 0.1*a_xx + a*b^2\n"
      "    rb: b_y - 0.05*b_xx - a*b^2\n"
      "  boundary:\n"
      "    - {parts: [left, right], field: a, type: neumann, value: 0}\n"
      "    - {parts: [left, right], field: b, type: neumann, value: 0}\n"
      "  initial:\n"
      "    - {field: a, value: 1}\n"
      "    - {field: b, value: sin(pi*x), rate: 0}\n";
  const Problem p = load(text);
  int init_a = 0, init_b = 0;
  for (const auto& c : p.conditions)
    if (c.initial) (c.field == 0 ? init_a : init_b)++;
  EXPECT_EQ(init_a, 1);
  EXPECT_EQ(init_b, 2);  // value and rate
  const std::string dup = [&] {
    std::string s = text;
    s.replace(s.find("{field: b, value: sin"), 9, "{field: a");
    return s;
  }();
  expect_input_error([&] { load(dup); }, {"problem.initial[1]", "also has an initial condition on a"});
}

// ---- the divergence form -div(a grad u) ------------------------------------------------

TEST(ProblemDivergence, ExpandsIntoLinearTermsWithTheCoefficientsDerivatives) {
  const std::string text =
      "problem:\n"
      "  domain: {box: [[-1, 1], [-1, 1]]}\n"
      "  operator: {diffusion: 1 + x^2*y, c_u: 2}\n"
      "  source: 1\n" + kAllDirichlet;
  const Problem p = load(text);
  ASSERT_TRUE(p.diffusion);
  EXPECT_EQ(p.terms.size(), 1u);
  EXPECT_FALSE(p.constant_coefficients());
  const auto all = p.linear_terms();
  ASSERT_EQ(all.size(), 5u);  // c_u, then -a u_xx, -a_x u_x, -a u_yy, -a_y u_y
  const mesh::Point x = pt(0.3, -0.6);
  const double a = 1 + 0.09 * -0.6, ax = 2 * 0.3 * -0.6, ay = 0.09;
  double want[5] = {2, -a, -ax, -a, -ay};
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(all[k].coefficient(x), want[k], 1e-15) << all[k].derivative.name();
  EXPECT_EQ(all[2].derivative.name(), "u_x");
  EXPECT_EQ(all[4].derivative.name(), "u_y");
  EXPECT_NE(p.describe().find("-div((1 + x^2*y) grad u)"), std::string::npos) << p.describe();
  // time problems: the divergence is over space only
  const Problem t = load("problem:\n  domain: {box: [[0, 1], [0, 1]], time_axis: y}\n"
                         "  operator: {c_uy: 1, diffusion: 0.1}\n"
                         "  boundary: [{parts: [left, right], type: dirichlet, value: 0}]\n"
                         "  initial: {value: sin(pi*x)}\n");
  const auto tt = t.linear_terms();
  ASSERT_EQ(tt.size(), 2u);
  EXPECT_EQ(tt[1].derivative.name(), "u_xx");
  EXPECT_TRUE(t.constant_coefficients());
  // with a residual: refused
  const std::string both = "problem:\n  domain: {box: [[-1, 1], [-1, 1]]}\n"
                           "  operator: {residual: u_xx + u, diffusion: 1}\n" + kAllDirichlet;
  expect_input_error([&] { load(both); }, {"cfg.yaml:" + loc(both, "1}"), "problem.operator.diffusion", "not both"});
}

TEST(ProblemSystem, PinsAndTheirErrors) {
  // a pin alone gives p its condition
  const std::string pinned = stokes_with("    - {part: right, field: p, type: dirichlet, value: 0}\n",
                                         "  pins: [{field: p, at: [0.5, 0.5], value: 1.5}]\n");
  const Problem p = load(pinned);
  ASSERT_EQ(p.pins.size(), 1u);
  EXPECT_EQ(p.pins[0].field, 2);
  EXPECT_EQ(p.pins[0].value, 1.5);
  EXPECT_EQ(p.pins[0].x[0], 0.5);
  const std::string bad = stokes_with("    - {part: right, field: p, type: dirichlet, value: 0}\n",
                                      "  pins: [{field: p, at: [1.5, 0.5], value: 1.5}]\n");
  expect_input_error([&] { load(bad); }, {"cfg.yaml:" + loc(bad, "[1.5, 0.5]"), "problem.pins[0].at", "outside the domain"});
  const std::string scalar = square("", kAllDirichlet + "  pins: [{at: [0, 0], value: 0}]\n");
  expect_input_error([&] { load(scalar); }, {"problem.pins", "belong to a system"});
  const std::string missing = stokes_with("  exact:", "  reference: {points: no_such_table.csv}\n  exact:");
  expect_input_error([&] { load(missing); }, {"problem.reference.points", "no_such_table.csv"});
  const std::string expr = stokes_with("  exact:", "  reference: petsc\n  exact:");
  expect_input_error([&] { load(expr); }, {"problem.reference", "table of points"});
}
