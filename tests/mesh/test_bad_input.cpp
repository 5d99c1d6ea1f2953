// Bad geometry input: each is a kpde::InputError (exit code 2) naming the shape/part.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.hpp"
#include "geometries.hpp"
#include "mesh/sampling.hpp"

using namespace kpde::mesh;
namespace tg = kpde::mesh::test_geometries;

namespace {
// Runs f, expects an InputError whose message contains every word of `words`.
void expect_input_error(const std::function<void()>& f, const std::vector<std::string>& words) {
  try {
    f();
    ADD_FAILURE() << "expected an InputError mentioning " << words[0];
  } catch (const kpde::InputError& e) {
    EXPECT_EQ(e.code(), kpde::ExitCode::bad_input);
    for (const std::string& w : words)
      EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << "'" << w << "' not in: " << e.what();
  }
}
}  // namespace

TEST(BadInput, PolygonWithTwoPoints) {
  expect_input_error([] { polygon("wedge", {{0, 0}, {1, 0}}); }, {"wedge", "at least 3 vertices"});
  expect_input_error([] { polygon("closed", {{0, 0}, {1, 0}, {0, 0}}); }, {"closed", "at least 3"});
}

TEST(BadInput, SelfIntersectingPolygon) {
  expect_input_error([] { polygon("bowtie", {{0, 0}, {1, 1}, {1, 0}, {0, 1}}); },
                     {"bowtie", "self-intersecting", "edge 0", "edge 2"});
  expect_input_error([] { polygon("spike", {{0, 0}, {2, 0}, {1, 0}, {1, 1}}); }, {"spike", "self-intersecting"});
  expect_input_error([] { polygon("touch", {{0, 0}, {2, 0}, {2, 2}, {1, 0}, {0, 2}}); }, {"touch", "self-intersecting"});
}

TEST(BadInput, DegenerateShapes) {
  expect_input_error([] { disk("disk1", 0, 0, -0.5); }, {"disk1", "radius", "-0.5"});
  expect_input_error([] { disk("disk1", 0, 0, 0); }, {"disk1", "radius"});
  expect_input_error([] { triangle("flat", {0, 0}, {1, 1}, {2, 2}); }, {"flat", "zero area"});
  expect_input_error([] { polygon("dup", {{0, 0}, {1, 0}, {1, 0}, {0, 1}}); }, {"dup", "coincide"});
  expect_input_error([] { rectangle("r", 1, 0, 0, 1); }, {"r", "x0 < x1"});
  expect_input_error([] { box({0, 0}, {1, 0}); }, {"box", "lo < hi", "axis 1"});
  expect_input_error([] { box({0, 0, 0, 0}, {1, 1, 1, 1}); }, {"1 to 3 dimensions"});
  expect_input_error([] { disk("", 0, 0, 1); }, {"needs a name"});
}

TEST(BadInput, HoleCoveringTheBox) {
  expect_input_error([] { Geometry(box({-1, -1}, {1, 1}) - disk("big", 0, 0, 2)); },
                     {"domain is empty", "big", "box"});
  expect_input_error([] { Geometry(box({-1, -1}, {1, 1}) - rectangle("left_half", -2, -2, 0, 2) -
                                   rectangle("right_half", 0, -2, 2, 2)); },
                     {"domain is empty", "left_half", "right_half"});
  expect_input_error([] { Geometry(disk("a", 0, 0, 1) & disk("b", 3, 0, 1)); }, {"empty", "'a'", "'b'"});
}

TEST(BadInput, PartsThatAreNotOnTheBoundary) {
  // a hole outside the box, and a hole inside another hole: zero length
  expect_input_error([] { Geometry(box({-1, -1}, {1, 1}) - disk("far", 5, 5, 1)); }, {"far", "zero length"});
  expect_input_error([] { Geometry(box({-1, -1}, {1, 1}) - disk("outer", 0, 0, 0.5) - disk("inner", 0, 0, 0.2)); },
                     {"inner", "zero length"});
  // allowed on request; the part then exists with zero length and part_id refuses it
  const Geometry g(box({-1, -1}, {1, 1}) - disk("far", 5, 5, 1), GeometryOptions{1 << 14, 4096, true});
  EXPECT_EQ(g.part_length(g.find_part("far")), 0.0);
  expect_input_error([&] { g.part_id("far"); }, {"far", "zero length"});
  expect_input_error([&] { g.part_id("lft"); }, {"lft", "left, right, bottom, top, far"});
  // a box side removed completely is not an error, but cannot carry a condition
  const Geometry cut(box({-1, -1}, {1, 1}) - rectangle("cut", 0.5, -2, 2, 2));
  EXPECT_EQ(cut.part_length(cut.find_part("right")), 0.0);
  expect_input_error([&] { cut.part_id("right"); }, {"right", "zero length"});
  expect_input_error([&] { boundary_counts(cut, 10, {cut.find_part("right")}); }, {"right", "zero length"});
}

TEST(BadInput, NamesDimensionsAndMethods) {
  expect_input_error([] { Geometry(box({-1, -1}, {1, 1}) - disk("left", 0, 0, 0.2)); }, {"'left'", "used twice"});
  expect_input_error([] { Geometry(box({-1, -1}, {1, 1}) - disk("d", 0.5, 0, 0.2) - disk("d", -0.5, 0, 0.2)); },
                     {"'d'", "used twice"});
  expect_input_error([] { Geometry(box({-1, -1}, {1, 1}) | box({0, 0}, {2, 2})); }, {"used twice", "needs a name"});
  expect_input_error([] { box({0, 0, 0}, {1, 1, 1}) - disk("d", 0, 0, 0.2); }, {"3-D", "2-D", "disk 'd'"});
  expect_input_error([] { parse_interior_method("halton"); }, {"halton", "sobol"});
  const Geometry g = tg::l_shape();
  expect_input_error([&] { sample_boundary(g, -5, 0); }, {"boundary points"});
  expect_input_error([&] { boundary_counts(g, 5, {17}); }, {"17"});
}
