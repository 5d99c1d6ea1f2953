// Training the hypernetwork: a short run on a tiny configuration lowers the loss of a
// fixed validation set, a resumed run continues bit for bit, and the pool regenerates
// exactly the samples of its stream.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "hypernet/objective.hpp"
#include "hypernet/pool.hpp"
#include "support/hypernet_tiny.hpp"
#include "optim/adam.hpp"
#include "train/adam_stage.hpp"
#include "train/trainer.hpp"

using namespace kpde;
using namespace kpde::hypernet;

namespace {


train::TrainerSettings adam(long steps, double lr) {
  train::TrainerSettings t;
  auto c = std::make_shared<train::AdamStage<float>::Config>();
  c->kind = "adam";
  c->steps = steps;
  c->adam.schedule.lr = lr;
  c->adam.clip_norm = 1.0;
  t.stages.push_back(c);
  t.weights = {0.01, 1, 0.1, 1, 0.01, 0.0001, 0.1, 1, 0.01};
  t.checkpoint_every = 3;
  return t;
}

}  // namespace

TEST(HypernetTraining, AShortRunLowersTheValidationLoss) {
  // the validation set is drawn from the same generator; 60 steps on a pool of 8
  // samples must lower the weighted validation loss clearly
  const ObjectiveSettings s = kpde::testing::tiny_hypernet(8, 0);
  HypernetObjective<float> obj(s);
  train::TrainerOptions o;
  o.quiet = true;
  const train::TrainerSettings ts = adam(60, 3e-3);
  train::Trainer<float> trainer(obj, ts, o);
  obj.model().init(trainer.params().data(), 1);
  const auto weighted = [&](const std::vector<double>& t) {
    double v = 0;
    for (std::size_t k = 0; k < t.size(); ++k) v += ts.weights[k] * t[k];
    return v;
  };
  const double before = weighted(obj.validation_terms(Vec<const float>(trainer.params())));
  const train::TrainResult r = trainer.run();
  const double after = weighted(obj.validation_terms(Vec<const float>(trainer.params())));
  EXPECT_EQ(r.steps, 60);
  EXPECT_TRUE(std::isfinite(after));
  EXPECT_LT(after, 0.7 * before) << "validation loss " << before << " -> " << after;
}

TEST(HypernetTraining, ResumeContinuesBitForBit) {
  const std::string ck = ::testing::TempDir() + "kpde_hypernet_resume.h5";
  const ObjectiveSettings s = kpde::testing::tiny_hypernet(6, 2);
  train::TrainerOptions o;
  o.quiet = true;
  o.checkpoint_path = ck;
  o.fingerprint = "tiny";
  o.objective_kind = "hypernet";
  std::vector<float> straight;
  {
    HypernetObjective<float> obj(s);
    train::Trainer<float> t(obj, adam(6, 1e-3), o);
    obj.model().init(t.params().data(), 2);
    t.run();
    straight.assign(t.params().data(), t.params().data() + t.params().size());
  }
  {
    HypernetObjective<float> obj(s);
    train::Trainer<float> t(obj, adam(6, 1e-3), o);
    obj.model().init(t.params().data(), 2);
    t.add_stop(std::make_unique<train::StopAfterSteps>(3));
    const train::TrainResult r = t.run();
    EXPECT_TRUE(r.stopped());
  }
  {
    HypernetObjective<float> obj(s);
    train::Trainer<float> t(obj, adam(6, 1e-3), o);
    t.resume(ck);
    t.run();
    ASSERT_EQ(static_cast<std::size_t>(t.params().size()), straight.size());
    std::size_t differ = 0;
    for (std::size_t k = 0; k < straight.size(); ++k) differ += t.params()(k) != straight[k];
    EXPECT_EQ(differ, 0u) << "parameters differ after resume";
    EXPECT_EQ(obj.samples_generated(), 6u + 5u * 2u);  // the pool, then 2 per step from the second on
  }
  std::remove(ck.c_str());
}

TEST(HypernetTraining, PoolEntriesComeFromTheStream) {
  ObjectiveSettings s = kpde::testing::tiny_hypernet(3, 1);
  SamplePool pool(s.data, s.model.input_pool);
  std::vector<SamplePoints> pts;
  const auto batch = pool.batch(0, 5, pts);
  ASSERT_EQ(batch.size(), 5u);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    EXPECT_LT(batch[b]->index, 3u);
    EXPECT_EQ(pts[b].n_interior, 96);
    EXPECT_EQ(pts[b].n_boundary, 48);
    EXPECT_EQ(pts[b].truth.empty(), !batch[b]->supervised);
    // points lie on the grid nodes of the domain
    for (int k = 0; k < pts[b].n_points(); ++k) {
      EXPECT_LE(std::abs(pts[b].x[2 * static_cast<std::size_t>(k)]), 1.0 + 1e-6);
      EXPECT_LE(std::abs(pts[b].x[2 * static_cast<std::size_t>(k) + 1]), 1.0 + 1e-6);
    }
  }
  pool.refresh(1);
  EXPECT_EQ(pool.generated(), 4u);
  // the same draw twice gives the same points
  std::vector<SamplePoints> a, b;
  pool.batch(7, 2, a);
  pool.batch(7, 2, b);
  EXPECT_EQ(a[0].x, b[0].x);
  EXPECT_EQ(a[1].f, b[1].f);
}
