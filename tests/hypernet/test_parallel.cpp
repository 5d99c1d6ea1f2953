// Data parallelism of the hypernetwork objective (hypernet/objective.hpp): on 1 rank
// (test_hypernet) and under mpirun on 2 and 3 (test_hypernet_mpi2/3), the trainer's loss,
// terms and gradient over MPI_COMM_WORLD (each rank its share of the batch) equal one
// process's to 1e-12 relative in double, with a batch that does not divide evenly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "hypernet/objective.hpp"
#include "support/hypernet_tiny.hpp"
#include "train/adam_stage.hpp"
#include "train/comm.hpp"
#include "train/trainer.hpp"

using namespace kpde;
using namespace kpde::hypernet;

namespace {

struct Result {
  double loss = 0;
  std::vector<double> terms, grad;
};

Result evaluate_on(const train::Comm& comm) {
  ObjectiveSettings s = kpde::testing::tiny_hypernet(7, 0);
  s.data.seed = 5;
  s.data.n_interior = 64;
  s.data.n_boundary = 32;
  s.data.stored_interior = 256;
  s.batch = 5;  // 5 samples over 2 or 3 ranks: uneven shares
  s.validation = 0;
  HypernetObjective<double> obj(s);
  train::TrainerSettings ts;
  ts.weights = {0.01, 1, 0.1, 1, 0.01, 0.0001, 0.1, 1, 0.01};
  train::TrainerOptions o;
  o.quiet = true;
  o.objective_kind = "hypernet";
  o.comm = comm;
  train::Trainer<double> trainer(obj, ts, o);
  obj.model().init(trainer.params().data(), 4);
  obj.before_step(0, Vec<const double>(trainer.params()));
  Result r;
  Vec<double> g("g", obj.n_params());
  r.loss = trainer.evaluate(Vec<const double>(trainer.params()), g, r.terms);
  r.grad.assign(g.data(), g.data() + g.size());
  return r;
}

}  // namespace

TEST(HypernetMpi, LossAndGradientMatchOneProcess) {
  const train::Comm world = train::Comm::world();
  const Result one = evaluate_on(train::Comm());
  const Result all = evaluate_on(world);
  ASSERT_TRUE(std::isfinite(one.loss) && one.loss > 0);
  EXPECT_NEAR(all.loss, one.loss, 1e-12 * one.loss) << world.size() << " ranks";
  for (std::size_t k = 0; k < one.terms.size(); ++k)
    EXPECT_NEAR(all.terms[k], one.terms[k], 1e-12 * std::abs(one.terms[k])) << "term " << k;
  double gmax = 0;
  for (double v : one.grad) gmax = std::max(gmax, std::abs(v));
  ASSERT_GT(gmax, 0.0);
  std::size_t worst = 0;
  double err = 0;
  for (std::size_t i = 0; i < one.grad.size(); ++i)
    if (std::abs(all.grad[i] - one.grad[i]) > err) err = std::abs(all.grad[i] - one.grad[i]), worst = i;
  EXPECT_LE(err, 1e-12 * gmax) << "gradient entry " << worst << " of " << one.grad.size();
}
