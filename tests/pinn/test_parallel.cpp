// Data parallelism of the PINN objective (pinn/objective.hpp, train/comm.hpp). Run by
// ctest on 1 rank (test_pinn) and under mpirun on 2 and 3 (test_pinn_mpi2/3): on every
// rank, the trainer's loss, terms and gradient over MPI_COMM_WORLD (each rank its shard
// of the points, the shares summed) equal those of this process alone (no sharding) to
// 1e-12 relative, for Dirichlet, Neumann/Robin, hard-Dirichlet and low-mode residual
// terms; the least-squares output layer (TSQR over the ranks) equals one process's; the
// result is bit-identical on every rank; the shards partition the points.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "data/problem.hpp"
#include "nn/network.hpp"
#include "pinn/objective.hpp"
#include "support/pinn_problems.hpp"
#include "train/comm.hpp"
#include "train/trainer.hpp"

using namespace kpde;

namespace {

using kpde::testing::kHoleProblem;
const std::string kPoisson =
    "  domain: {box: [[0, 1], [0, 1]]}\n"
    "  operator: {c_uxx: -1, c_uyy: -0.5, c_u: 'x'}\n"
    "  source: sin(3*x)*y\n"
    "  boundary: [{parts: all, type: dirichlet, value: x*y}]\n";

struct Run {
  double loss = 0;
  std::vector<double> terms;
  std::vector<double> grad;
  std::vector<double> projected;  // the parameters after a least-squares solve
};

struct Options {
  int n_interior = 101, n_boundary = 37;  // not multiples of 2 or 3: uneven shards
  bool hard = false;
  int modes = 0;
  double modes_weight = 0;
  bool project = false;
  bool balance = false;  // grad-norm balancing due at this step: every term's gradient summed
};

/// The trainer's loss and gradient at fixed parameters over `comm`.
Run run_on(const train::Comm& comm, const std::string& problem_yaml, const Options& o) {
  config::Document doc = config::Document::load_string("problem:\n" + problem_yaml, "case.yaml");
  const data::Problem problem = data::load_problem(doc.root().at("problem"), doc);
  nn::NetworkSpec spec;
  spec.input_dim = 2;
  spec.width = 12;
  spec.depth = 2;
  spec.activation = nn::Activation::tanh;
  spec.block_points = 8;
  const nn::Network<double> net(spec);
  Vec<double> params("params", net.n_params());
  net.init_params(params, 7);
  pinn::PinnSettings s;
  s.n_interior = o.n_interior;
  s.n_boundary = o.n_boundary;
  s.method = mesh::InteriorMethod::sobol;
  s.seed = 5;
  s.hard_dirichlet = o.hard;
  s.residual_modes = o.modes;
  s.modes_weight = o.modes_weight;
  pinn::PinnObjective<double> objective(problem, net, s);
  train::TrainerSettings ts;
  ts.weights = {0.7, 1.3, 2.1};
  if (o.balance) ts.balance = train::Balance::grad_norm;
  train::TrainerOptions to;
  to.objective_kind = "pinn";
  to.quiet = true;
  to.comm = comm;
  train::Trainer<double> trainer(objective, ts, to);
  objective.sample(0);
  Run r;
  Vec<double> g("g", net.n_params());
  r.loss = trainer.evaluate(params, g, r.terms, o.balance ? 0 : -1);
  if (o.balance) r.terms.insert(r.terms.end(), trainer.weights().begin(), trainer.weights().end());
  r.grad.assign(g.data(), g.data() + g.extent(0));
  if (o.project) {
    objective.project(params, ts.weights, 1e-8);
    r.projected.assign(params.data(), params.data() + params.extent(0));
  }
  return r;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

/// The run over MPI_COMM_WORLD against this process alone; and the same bits on every rank.
void check_against_one_process(const std::string& problem_yaml, const Options& o, double ls_tol = 1e-9) {
  const train::Comm world = train::Comm::world();
  const Run one = run_on(train::Comm(), problem_yaml, o);
  const Run all = run_on(world, problem_yaml, o);
  ASSERT_GT(one.loss, 0.0);
  EXPECT_NEAR(all.loss, one.loss, 1e-12 * one.loss) << "ranks " << world.size();
  for (std::size_t k = 0; k < one.terms.size(); ++k)
    EXPECT_NEAR(all.terms[k], one.terms[k], 1e-12 * std::abs(one.terms[k]) + 1e-300) << "term " << k;
  const double gmax = max_abs(one.grad);
  ASSERT_GT(gmax, 0.0);
  for (std::size_t i = 0; i < one.grad.size(); ++i)
    ASSERT_NEAR(all.grad[i], one.grad[i], 1e-12 * gmax) << "gradient entry " << i << " on " << world.size() << " ranks";
  if (o.project) {
    const double pmax = max_abs(one.projected);
    for (std::size_t i = 0; i < one.projected.size(); ++i)
      ASSERT_NEAR(all.projected[i], one.projected[i], ls_tol * pmax) << "least-squares parameter " << i;
  }
  // every rank holds the same bits (rank 0's broadcast)
  std::vector<double> mine = all.grad;
  mine.push_back(all.loss);
  if (!all.projected.empty()) mine.insert(mine.end(), all.projected.begin(), all.projected.end());
  std::vector<double> root = mine;
  world.broadcast(root.data(), root.size());
  long same = 1;
  for (std::size_t i = 0; i < mine.size(); ++i) same &= mine[i] == root[i];
  EXPECT_EQ(world.min(same), 1) << "a rank's result differs from rank 0's";
}

}  // namespace

TEST(PinnMpi, ShardsPartitionThePoints) {
  const train::Comm world = train::Comm::world();
  for (long n : {0L, 1L, 2L, 7L, 101L}) {
    const auto [b, e] = world.shard(n);
    EXPECT_LE(b, e);
    std::vector<double> count{double(e - b)}, begins(static_cast<std::size_t>(world.size()), 0.0);
    world.sum(count);
    EXPECT_EQ(count[0], double(n));
    begins[static_cast<std::size_t>(world.rank())] = double(b);
    world.sum(begins);  // begins of the ranks in order: increasing, the first at 0
    EXPECT_EQ(begins[0], 0.0);
    for (std::size_t r = 1; r < begins.size(); ++r) EXPECT_GE(begins[r], begins[r - 1]);
  }
}

TEST(PinnMpi, DirichletLossAndGradientMatchOneProcess) { check_against_one_process(kPoisson, Options{}); }

TEST(PinnMpi, NeumannRobinLossAndGradientMatchOneProcess) { check_against_one_process(kHoleProblem, Options{}); }

TEST(PinnMpi, HardDirichletMatchesOneProcess) {
  Options o;
  o.hard = true;
  check_against_one_process(kPoisson, o);
}

TEST(PinnMpi, ResidualModesMatchOneProcess) {
  Options o;
  o.modes = 3;
  o.modes_weight = 10;
  o.project = true;
  check_against_one_process(kPoisson, o);
}

TEST(PinnMpi, GradNormBalancingMatchesOneProcess) {
  Options o;
  o.balance = true;  // the balanced weights (appended to the terms) must agree too
  check_against_one_process(kHoleProblem, o);
}

TEST(PinnMpi, LeastSquaresOutputLayerMatchesOneProcess) {
  Options o;
  o.project = true;
  check_against_one_process(kHoleProblem, o);
}

TEST(PinnMpi, FewerPointsThanRanks) {
  Options o;
  o.n_interior = 2;
  o.n_boundary = 2;
  o.project = true;
  check_against_one_process(kPoisson, o);
}
