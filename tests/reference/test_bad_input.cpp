// Problems the reference solver refuses: kpde::InputError with a message naming why.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "manufactured.hpp"
#include "mesh/shape.hpp"

namespace kpde::data::testing {
namespace {

Fn2 constant(double v) {
  return [v](double, double) { return v; };
}

/// Expects solve_reference to throw InputError whose message contains `what`.
void expect_refused(const FdProblem& p, const std::string& what, FdOptions o = {}) {
  o.n = o.n == 257 ? 17 : o.n;
  try {
    solve_reference(p, o);
    ADD_FAILURE() << "expected an InputError containing '" << what << "'";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

struct Fixture {
  mesh::Geometry square{mesh::box({-1, -1}, {1, 1})};
  mesh::Geometry holed{mesh::box({-1, -1}, {1, 1}) - mesh::disk("hole", 0.1, 0, 0.4)};

  FdProblem poisson(const mesh::Geometry& g) const {
    FdProblem p;
    p.geometry = &g;
    p.coefficient[c_uxx] = constant(-1);
    p.coefficient[c_uyy] = constant(-1);
    p.source = constant(1);
    for (int k = 0; k < g.n_parts(); ++k) p.conditions.push_back({k, FdConditionKind::dirichlet, constant(0)});
    return p;
  }
  FdProblem heat() const {
    FdProblem p;
    p.geometry = &square;
    p.time_axis = 1;
    p.coefficient[c_uy] = constant(1);
    p.coefficient[c_uxx] = constant(-0.2);
    for (const char* s : {"left", "right", "bottom"})
      p.conditions.push_back({square.part_id(s), FdConditionKind::dirichlet, constant(0)});
    return p;
  }
};

TEST(ReferenceBadInput, NoGeometryOrBadOptions) {
  Fixture f;
  FdProblem p = f.poisson(f.square);
  FdProblem none = p;
  none.geometry = nullptr;
  expect_refused(none, "no geometry");
  FdOptions o;
  o.n = 2;
  expect_refused(p, "n must be >= 3", o);
  o = {};
  o.refine = 0;
  expect_refused(p, "refine", o);
  o = {};
  o.solver = "magic";
  expect_refused(p, "unknown solver 'magic'", o);
  o = {};
  o.rtol = 0;
  expect_refused(p, "rtol", o);
  FdProblem t = p;
  t.time_axis = 0;
  expect_refused(t, "time_axis");
}

TEST(ReferenceBadInput, ThreeDimensionalGeometry) {
  const mesh::Geometry g3(mesh::box({0, 0, 0}, {1, 1, 1}));
  FdProblem p;
  p.geometry = &g3;
  expect_refused(p, "2-D only");
}

TEST(ReferenceBadInput, ConditionsPerPart) {
  Fixture f;
  FdProblem p = f.poisson(f.holed);
  p.conditions.pop_back();  // the hole has none
  expect_refused(p, "'hole'");
  p = f.poisson(f.holed);
  p.conditions.push_back({0, FdConditionKind::neumann, constant(0)});
  expect_refused(p, "two conditions");
  p = f.poisson(f.holed);
  p.conditions.push_back({99, FdConditionKind::neumann, constant(0)});
  expect_refused(p, "part id 99");
  p = f.poisson(f.holed);
  p.conditions[0].kind = FdConditionKind::robin;
  p.conditions[0].alpha = 0;
  p.conditions[0].beta = 0;
  expect_refused(p, "Robin");
}

TEST(ReferenceBadInput, PureNeumannIsSingular) {
  Fixture f;
  FdProblem p = f.poisson(f.square);
  for (auto& c : p.conditions) c.kind = FdConditionKind::neumann;
  expect_refused(p, "only Neumann");
}

TEST(ReferenceBadInput, NotElliptic) {
  Fixture f;
  FdProblem p = f.poisson(f.square);
  p.coefficient[c_uyy] = nullptr;  // no second-order term in y
  expect_refused(p, "not elliptic");
  p = f.poisson(f.square);
  p.coefficient[c_uyy] = constant(1);  // hyperbolic without a time axis
  expect_refused(p, "not elliptic");
  p = f.poisson(f.square);
  p.coefficient[c_uxy] = constant(3);  // c_uxy^2 / 4 > c_uxx c_uyy
  expect_refused(p, "not elliptic");
}

TEST(ReferenceBadInput, TimeProblems) {
  Fixture f;
  FdProblem p = f.heat();
  p.coefficient[c_uxy] = constant(0.1);
  expect_refused(p, "u_xy");
  p = f.heat();
  p.diffusion = constant(1);
  expect_refused(p, "divergence");
  p = f.heat();
  p.coefficient[c_uxx] = constant(0.2);  // backward heat equation
  expect_refused(p, "not forward in time");
  p = f.heat();
  p.conditions.push_back({f.square.part_id("top"), FdConditionKind::dirichlet, constant(0)});
  expect_refused(p, "final-time side 'top'");
  p = f.heat();
  p.conditions.pop_back();  // no initial data
  expect_refused(p, "initial line");
  p = f.heat();
  p.conditions.push_back({f.square.part_id("bottom"), FdConditionKind::neumann, constant(0)});
  expect_refused(p, "takes no initial rate");
  p = f.heat();
  p.conditions.erase(p.conditions.begin());  // left side without condition
  expect_refused(p, "'left'");
  // a wave without its initial rate
  p = f.heat();
  p.coefficient[c_uy] = nullptr;
  p.coefficient[c_uyy] = constant(0.5);
  p.coefficient[c_uxx] = constant(-2);
  expect_refused(p, "initial rate");
  p.conditions.push_back({f.square.part_id("bottom"), FdConditionKind::neumann, constant(0)});
  p.coefficient[c_uxx] = constant(2);  // elliptic in space-time, not a wave
  expect_refused(p, "not a wave equation");
  // space-time domains with holes
  p = f.heat();
  p.geometry = &f.holed;
  expect_refused(p, "box domain");
}

}  // namespace
}  // namespace kpde::data::testing
