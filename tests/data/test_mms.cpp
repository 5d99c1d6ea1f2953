// Manufactured solutions and physics-only samples (data/mms): the draws, the rejection
// rules, the conditions per operator class, and f = L[u] checked against finite
// differences of the stored solution (second-order convergence of the residual).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/mms.hpp"
#include "pde/expression.hpp"

using namespace kpde;
using data::MmsSample;
using data::MmsSettings;
using data::OperatorClass;

namespace {

MmsSettings small(int grid = 48) {
  MmsSettings s;
  s.grid = grid;
  s.n_interior = 64;
  s.n_boundary = 32;
  return s;
}

double at(const std::vector<double>& v, int n, int i, int j) {
  return v[static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)];
}

}  // namespace

TEST(Mms, RandomSolutionsParseAndAreReproducible) {
  const MmsSettings s;
  int varying = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Rng a(seed), b(seed);
    const std::string t = data::random_solution(a, 6, 10, s);
    EXPECT_EQ(t, data::random_solution(b, 6, 10, s));
    const pde::Expression e = pde::Expression::parse(t, {"x", "y"});
    // a last compose with a = 0 folds u to a constant (the std rule rejects those)
    if (!e.is_constant()) ++varying;
  }
  EXPECT_GT(varying, 120);
}

TEST(Mms, OperatorsMatchTheirClass) {
  MmsSettings s;
  Rng rng(11);
  int seen[4] = {0, 0, 0, 0};
  for (int k = 0; k < 4000; ++k) {
    std::array<double, 6> c{};
    const OperatorClass cls = data::random_operator(rng, s, &c);
    ++seen[static_cast<int>(cls)];
    const int terms = static_cast<int>(std::count_if(c.begin(), c.end(), [](double v) { return v != 0; }));
    EXPECT_GE(terms, 1);
    EXPECT_LE(terms, 3);
    EXPECT_EQ(c[5], 0.0);
    for (double v : c) EXPECT_LE(std::abs(v), 2.0);
    switch (cls) {
      case OperatorClass::elliptic: EXPECT_GT(c[3] * c[4], 0); break;
      case OperatorClass::hyperbolic: EXPECT_LT(c[3] * c[4], 0); break;
      case OperatorClass::parabolic:
        EXPECT_NE(c[3], 0);
        EXPECT_EQ(c[4], 0);
        EXPECT_LT(c[2] * c[3], 0);  // forward in time
        break;
      case OperatorClass::first_order:
        EXPECT_EQ(c[3], 0);
        EXPECT_EQ(c[4], 0);
        EXPECT_GT(c[2], 0);  // inflow through y = -1
        break;
    }
  }
  for (int k = 0; k < 4; ++k) EXPECT_GT(seen[k], 100) << "class " << k;
  s.classes = {OperatorClass::hyperbolic};
  for (int k = 0; k < 50; ++k) {
    std::array<double, 6> c{};
    EXPECT_EQ(data::random_operator(rng, s, &c), OperatorClass::hyperbolic);
  }
}

TEST(Mms, SamplesDependOnlyOnSeedAndIndex) {
  const MmsSettings s = small(40);
  const MmsSample a = data::generate_mms_sample(s, 7, 3), b = data::generate_mms_sample(s, 7, 3);
  EXPECT_EQ(a.solution, b.solution);
  EXPECT_EQ(a.geometry, b.geometry);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.interior_points, b.interior_points);
  EXPECT_EQ(a.boundary_values, b.boundary_values);
  const MmsSample c = data::generate_mms_sample(s, 7, 4), d = data::generate_mms_sample(s, 8, 3);
  EXPECT_NE(a.solution, c.solution);
  EXPECT_NE(a.solution, d.solution);
}

TEST(Mms, AcceptedSamplesObeyTheRejectionRules) {
  const MmsSettings s = small(48);
  data::MmsStats stats;
  for (std::uint64_t i = 0; i < 24; ++i) {
    const MmsSample m = data::generate_mms_sample(s, 1, i, &stats);
    ASSERT_TRUE(m.has_solution);
    double sum = 0, sum2 = 0, cnt = 0;
    for (std::size_t q = 0; q < m.u.size(); ++q) {
      if (m.domain_mask[q] == 0) continue;
      for (const auto* f : {&m.u, &m.u_x, &m.u_y, &m.u_xx, &m.u_yy, &m.u_xy, &m.source})
        ASSERT_TRUE(std::isfinite((*f)[q]));
      EXPECT_LE(std::abs(m.u[q]), s.max_value);
      EXPECT_LE(std::abs(m.source[q]), s.max_source);
      for (const auto* f : {&m.u_x, &m.u_y, &m.u_xx, &m.u_yy, &m.u_xy}) EXPECT_LE(std::abs((*f)[q]), s.max_derivative);
      sum += m.u[q], sum2 += m.u[q] * m.u[q], cnt += 1;
    }
    ASSERT_GT(cnt, 0);
    EXPECT_GE(std::sqrt(sum2 / cnt - (sum / cnt) * (sum / cnt)), s.min_std);
  }
  EXPECT_EQ(stats.accepted, 24);
  EXPECT_GE(stats.attempts, 24);
}

TEST(Mms, ImpossibleLimitsGiveUpWithCounts) {
  MmsSettings s = small(24);
  s.max_value = 1e-3;  // no random solution stays this small with std >= 0.1
  s.max_attempts = 30;
  try {
    data::generate_mms_sample(s, 1, 0);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("every one of 30 draws was rejected"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("|u| > max_value"), std::string::npos) << e.what();
  }
}

TEST(Mms, ValidateRefusesImpossibleCombinations) {
  MmsSettings s;
  s.classes = {OperatorClass::elliptic};
  s.terms_max = 1;
  EXPECT_THROW(s.validate(), InputError);
  s = MmsSettings();
  s.hole_size_max = 0.95;  // a hole that leaves no domain
  EXPECT_THROW(s.validate(), InputError);
  s = MmsSettings();
  s.classes = {OperatorClass::parabolic};
  s.holes_min = 1;  // holes only exist for elliptic problems
  EXPECT_THROW(s.validate(), InputError);
  s = MmsSettings();
  s.updates_min = 5, s.updates_max = 4;
  EXPECT_THROW(s.validate(), InputError);
  s = MmsSettings();
  EXPECT_NO_THROW(s.validate());
}

// f = L[u] from exact jets: the 5-point residual L_h[u] - f of the stored grid (read
// back from a dataset file)
// converges at second order (spacing h against 2h: ratio about 1/4), which it could
// not if f missed or mis-scaled a term (the ratio would tend to 1).
TEST(Mms, SourceMatchesFiniteDifferencesOfTheSolution) {
  MmsSettings s = small(257);
  s.n_interior = 0;
  s.n_boundary = 0;
  // through a dataset file (float64), as a trainer would read the samples
  const std::string path = "/tmp/kpde_test_" + std::to_string(::getpid()) + "_fd.h5";
  {
    data::DatasetWriter w(path, data::mms_schema(s, true), 12, 1);
    std::vector<data::SampleRecord> recs;
    for (std::uint64_t i = 0; i < 12; ++i) recs.push_back(data::to_record(data::generate_mms_sample(s, 3, i)));
    w.write(0, recs);
    w.close();
  }
  const data::DatasetReader reader(path);
  int checked = 0;
  for (std::uint64_t i = 0; i < 12; ++i) {
    const MmsSample m = reader.mms_sample(static_cast<long>(i));
    const int n = m.n;
    const double h = 2.0 / (n - 1);
    const auto& c = m.coefficients;
    double e1 = 0, e2 = 0, fmax = 0;
    for (int r = 2; r < n - 2; ++r)
      for (int col = 2; col < n - 2; ++col) {
        bool inside = true;
        for (int a = -2; a <= 2 && inside; ++a)
          for (int b = -2; b <= 2 && inside; ++b) inside = at(m.domain_mask, n, r + a, col + b) > 0;
        if (!inside) continue;
        auto lh = [&](int k) {  // spacing k h; row index grows downwards (y = 1 - 2i/(n-1))
          const double H = k * h, u0 = at(m.u, n, r, col);
          const double ue = at(m.u, n, r, col + k), uw = at(m.u, n, r, col - k);
          const double un = at(m.u, n, r - k, col), us = at(m.u, n, r + k, col);
          return c[0] * u0 + c[1] * (ue - uw) / (2 * H) + c[2] * (un - us) / (2 * H) +
                 c[3] * (ue - 2 * u0 + uw) / (H * H) + c[4] * (un - 2 * u0 + us) / (H * H);
        };
        const double f = at(m.source, n, r, col);
        e1 = std::max(e1, std::abs(lh(1) - f));
        e2 = std::max(e2, std::abs(lh(2) - f));
        fmax = std::max(fmax, std::abs(f));
      }
    if (e2 <= 1e-9 * (1 + fmax)) continue;  // exact already (e.g. u without y and only u_y)
    EXPECT_LT(e1 / e2, 0.3) << "sample " << i << " " << m.operator_text << "\nu = " << m.solution;
    EXPECT_GT(e1 / e2, 0.2) << "sample " << i;
    ++checked;
  }
  EXPECT_GE(checked, 8);
  std::remove(path.c_str());
}

// Boundary data: Dirichlet points carry u, Neumann points n . grad u (checked by a
// central difference of the solution expression along n), on the boundary.
TEST(Mms, BoundaryPointsCarryTheirConditionData) {
  MmsSettings s = small(48);
  s.n_boundary = 200;
  for (std::uint64_t i = 0; i < 10; ++i) {
    const MmsSample m = data::generate_mms_sample(s, 5, i);
    const pde::Expression u = pde::Expression::parse(m.solution, {"x", "y"});
    ASSERT_EQ(m.boundary_kind.size(), 200u);
    int neumann = 0;
    for (std::size_t p = 0; p < m.boundary_kind.size(); ++p) {
      const double x = m.boundary_points[2 * p], y = m.boundary_points[2 * p + 1];
      const double nx = m.boundary_normals[2 * p], ny = m.boundary_normals[2 * p + 1];
      EXPECT_NEAR(nx * nx + ny * ny, 1.0, 1e-12);
      if (m.boundary_kind[p] == 0) {
        const double v[2] = {x, y};
        EXPECT_NEAR(m.boundary_values[p], u.eval(v), 1e-12 * (1 + std::abs(u.eval(v))));
      } else {
        ++neumann;
        const double d = 1e-5;
        const double a[2] = {x + d * nx, y + d * ny}, b[2] = {x - d * nx, y - d * ny};
        const double fd = (u.eval(a) - u.eval(b)) / (2 * d);
        EXPECT_NEAR(m.boundary_values[p], fd, 1e-5 * (1 + std::abs(fd))) << m.conditions;
      }
    }
    (void)neumann;
  }
}

TEST(Mms, TimeClassesPutInitialDataOnTheBottomRow) {
  for (OperatorClass cls : {OperatorClass::parabolic, OperatorClass::hyperbolic, OperatorClass::first_order}) {
    MmsSettings s = small(40);
    s.classes = {cls};
    s.holes_min = s.holes_max = 0;
    const MmsSample m = data::generate_mms_sample(s, 9, 1);
    const int n = m.n;
    ASSERT_EQ(m.op_class, cls);
    double bottom_d = 0, bottom_n = 0, top = 0;
    for (int j = 2; j < n - 2; ++j) {
      bottom_d += at(m.dirichlet_mask, n, n - 1, j);
      bottom_n += at(m.neumann_mask, n, n - 1, j);
      top += at(m.dirichlet_mask, n, 0, j) + at(m.neumann_mask, n, 0, j);
    }
    EXPECT_EQ(bottom_d, n - 4) << data::to_string(cls);
    EXPECT_EQ(bottom_n, cls == OperatorClass::hyperbolic ? n - 4 : 0) << data::to_string(cls);
    EXPECT_EQ(top, 0) << data::to_string(cls);
    EXPECT_EQ(m.geometry, "box [-1,1]^2");
    // the initial rate on y = -1 is n . grad u = -u_y
    if (cls == OperatorClass::hyperbolic) {
      EXPECT_NEAR(at(m.neumann_values, n, n - 1, n / 2), -at(m.u_y, n, n - 1, n / 2), 1e-5);
    }
  }
}

TEST(Mms, EllipticSamplesHaveHolesAndADirichletPart) {
  MmsSettings s = small(64);
  s.classes = {OperatorClass::elliptic};
  s.holes_min = 2, s.holes_max = 3;
  for (std::uint64_t i = 0; i < 6; ++i) {
    const MmsSample m = data::generate_mms_sample(s, 2, i);
    EXPECT_NE(m.geometry.find("hole1"), std::string::npos) << m.geometry;
    double d = 0, inside = 0;
    for (std::size_t q = 0; q < m.dirichlet_mask.size(); ++q) d += m.dirichlet_mask[q], inside += m.domain_mask[q];
    EXPECT_GT(d, 0);
    EXPECT_LT(inside, 64.0 * 64.0 * 0.99);  // the holes removed nodes
  }
}

TEST(Mms, PhysicsOnlySamplesHaveConstantSourceAndNoSolution) {
  MmsSettings s = small(40);
  s.physics_only_fraction = 1;
  const MmsSample m = data::generate_mms_sample(s, 4, 2);
  EXPECT_FALSE(m.has_solution);
  EXPECT_TRUE(m.solution.empty());
  ASSERT_FALSE(m.boundary_function.empty());
  const pde::Expression g = pde::Expression::parse(m.boundary_function, {"x", "y"});
  for (std::size_t q = 0; q < m.u.size(); ++q) {
    if (m.domain_mask[q] > 0) {
      EXPECT_TRUE(std::isnan(m.u[q]));
      EXPECT_EQ(m.source[q], m.source_constant);
    }
  }
  for (std::size_t p = 0; p < m.boundary_kind.size(); ++p)
    if (m.boundary_kind[p] == 0) {
      const double v[2] = {m.boundary_points[2 * p], m.boundary_points[2 * p + 1]};
      EXPECT_NEAR(m.boundary_values[p], g.eval(v), 1e-12 * (1 + std::abs(g.eval(v))));
    }
  for (double v : m.interior_solution) EXPECT_TRUE(std::isnan(v));
}
