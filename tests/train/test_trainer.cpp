// train::Trainer on a quadratic objective with two named terms:
//   fit  L_0 = 1/2 sum_i a_i (x_i - c_i)^2
//   sum  L_1 = 1/2 (sum_i x_i - s)^2
// whose last m entries are a projectable block (both terms are quadratic in them).
//  - every stage kind converges / does what it says (adam, adamw, lbfgs, least_squares);
//  - every stop criterion (steps, wall time, loss tolerance, divergence);
//  - a run stopped inside each stage kind and resumed ends bit for bit where the
//    uninterrupted run ends (parameters, weights, history, the objective's state);
//  - gradient-norm balancing follows its formula; the monitor fills its series;
//  - checkpoints of another configuration, objective, schema or format are refused;
//  - the stage registry's parsing and its errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "io/hdf5.hpp"
#include "train/adam_stage.hpp"
#include "train/lbfgs_stage.hpp"
#include "train/trainer.hpp"

using namespace kpde;

namespace {

class Quadratic : public train::Objective<double> {
 public:
  /// a_i = 1 + spread i^2 (spread sets the conditioning), c_i = sin(1 + i).
  explicit Quadratic(int n, int m = 3, double spread = 0.1) : n_(n), m_(m), a_(n), c_(n) {
    for (int i = 0; i < n; ++i) a_[i] = 1.0 + spread * i * i, c_[i] = std::sin(1.0 + i);
  }
  std::size_t n_params() const override { return n_; }
  std::vector<std::string> term_names() const override { return {"fit", "sum"}; }
  void evaluate(const Vec<const double>& x, std::vector<double>& t, std::vector<Vec<double>>& g) override {
    ++evaluations;
    if (nan_after >= 0 && evaluations > nan_after) {
      t = {NAN, 1.0};
      for (auto& v : g) Kokkos::deep_copy(v, 0.0);
      return;
    }
    double fit = 0, sum = 0;
    for (int i = 0; i < n_; ++i) fit += 0.5 * a_[i] * (x(i) - c(i)) * (x(i) - c(i)), sum += x(i);
    t = {fit, 0.5 * (sum - s_) * (sum - s_)};
    for (int i = 0; i < n_; ++i) g[0](i) = a_[i] * (x(i) - c(i)), g[1](i) = sum - s_;
  }
  void begin_stage(int index) override { stages_begun.push_back(index); }
  void before_step(long k, const Vec<const double>&) override {
    ++before_steps;
    if (shift_every > 0 && k > 0 && k % shift_every == 0) ++round_;
  }
  void resample() override { ++round_; }
  bool can_project() const override { return true; }
  /// the minimiser of w0 L_0 + w1 L_1 over the block B: (w0 diag(a_B) + w1 1 1') x_B =
  /// w0 a_B c_B + w1 (s - sum_{i not in B} x_i) 1, by Sherman-Morrison
  void project(const Vec<double>& x, const std::vector<double>& w, double) override {
    double rest = 0;
    for (int i = 0; i < n_ - m_; ++i) rest += x(i);
    std::vector<double> db(m_), d1(m_);
    double sdb = 0, sd1 = 0;
    for (int j = 0; j < m_; ++j) {
      const int i = n_ - m_ + j;
      const double D = w[0] * a_[i], b = w[0] * a_[i] * c(i) + w[1] * (s_ - rest);
      db[j] = b / D, d1[j] = 1 / D;
      sdb += db[j], sd1 += d1[j];
    }
    for (int j = 0; j < m_; ++j) x(n_ - m_ + j) = db[j] - w[1] * d1[j] * sdb / (1 + w[1] * sd1);
  }
  std::pair<std::size_t, std::size_t> projected_range() const override { return {std::size_t(n_ - m_), std::size_t(m_)}; }
  std::vector<std::string> monitor_names() const override { return {"x0"}; }
  std::vector<double> monitor(const Vec<const double>& x) override { return {x(0)}; }
  void save_state(io::H5File& f, const std::string& group) const override {
    f.set_attribute(group, "round", double(round_));
  }
  void load_state(const io::H5File& f, const std::string& group) override {
    round_ = static_cast<long>(f.number_attribute(group, "round"));
  }
  std::string divergence_hint() const override { return "a test objective"; }

  double c(int i) const { return c_[i] + 0.01 * round_; }  // the data move with the round
  long evaluations = 0, before_steps = 0;
  long nan_after = -1;    // evaluations after which the loss is NaN
  long shift_every = 0;   // first-order steps per round
  std::vector<int> stages_begun;
  long round() const { return round_; }

 private:
  int n_, m_;
  std::vector<double> a_, c_;
  double s_ = 0.7;
  long round_ = 0;
};

/// Stages from YAML text (a list), as a config would give them.
train::TrainerSettings settings(const std::string& stages_yaml, const std::string& extra = "") {
  config::Document doc = config::Document::load_string("training:\n  stages: " + stages_yaml + "\n" + extra, "t.yaml");
  train::StageParseContext ctx;
  ctx.projectable = true;
  train::TrainerSettings s = train::load_trainer_settings(doc.root().at("training"), {"fit", "sum"}, ctx);
  doc.check_unused();
  return s;
}

std::string tmp(const std::string& name) {
  return "/tmp/kpde_test_train_" + std::to_string(::getpid()) + "_" + name;
}

/// A trainer over q with settings s, parameters 0.3 each, checkpoints at path ("" none).
std::unique_ptr<train::Trainer<double>> trainer(Quadratic& q, const train::TrainerSettings& s,
                                                const std::string& path = "", const std::string& fingerprint = "f") {
  auto t = std::make_unique<train::Trainer<double>>(q, s, train::TrainerOptions{path, fingerprint, "quadratic", true, train::Comm()});
  Kokkos::deep_copy(t->params(), 0.3);
  return t;
}

std::vector<double> copy(const Vec<double>& v) { return std::vector<double>(v.data(), v.data() + v.extent(0)); }

/// The minimum of w0 L_0 + w1 L_1 of Quadratic(n) (the projection over every entry).
double minimum(int n, const std::vector<double>& w) {
  Quadratic all(n, n);
  Vec<double> x("x", n), g("g", n);
  all.project(x, w, 0);
  std::vector<double> t(2);
  std::vector<Vec<double>> tg = {Vec<double>("g0", n), Vec<double>("g1", n)};
  all.evaluate(x, t, tg);
  return w[0] * t[0] + w[1] * t[1];
}

/// The gradient of the full loss at x (for checking optimality).
double grad_norm(Quadratic& q, const std::vector<double>& w, const Vec<double>& x) {
  std::vector<double> t(2);
  std::vector<Vec<double>> g = {Vec<double>("g0", x.extent(0)), Vec<double>("g1", x.extent(0))};
  q.evaluate(x, t, g);
  double m = 0;
  for (std::size_t i = 0; i < x.extent(0); ++i) m = std::max(m, std::abs(w[0] * g[0](i) + w[1] * g[1](i)));
  return m;
}

}  // namespace

TEST(Trainer, EveryStageKindLowersTheLoss) {
  for (const std::string stages : {"[{type: adam, steps: 400, lr: 0.05}]", "[{type: adamw, steps: 400, lr: 0.05}]",
                                   "[{type: lbfgs, steps: 200}]", "[{type: lbfgs, steps: 200, output_layer: least_squares}]"}) {
    Quadratic q(8);
    auto t = trainer(q, settings(stages));
    std::vector<double> t0(2);
    const double before = t->evaluate(t->params(), Vec<double>("g", 8), t0), best = minimum(8, {1, 1});
    ASSERT_GT(before, best + 0.1);
    const train::TrainResult r = t->run();
    EXPECT_EQ(r.end, train::Verdict::go) << stages;
    EXPECT_LT(r.loss - best, 1e-3 * (before - best)) << stages;
    EXPECT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(q.stages_begun, std::vector<int>{0});
    if (stages.find("lbfgs") != std::string::npos) {
      EXPECT_LT(grad_norm(q, t->weights(), t->params()), 1e-8) << stages;
    }
  }
}

TEST(Trainer, LeastSquaresStageSolvesTheBlockExactly) {
  Quadratic q(6, 3);
  auto t = trainer(q, settings("[{type: least_squares}]", "  weights: {fit: 2.0, sum: 0.5}"));
  const train::TrainResult r = t->run();
  EXPECT_EQ(r.steps, 1);
  // the gradient vanishes on the block, not elsewhere
  std::vector<double> tt(2);
  std::vector<Vec<double>> g = {Vec<double>("g0", 6), Vec<double>("g1", 6)};
  q.evaluate(t->params(), tt, g);
  for (int i = 0; i < 6; ++i) {
    const double gi = 2.0 * g[0](i) + 0.5 * g[1](i);
    if (i >= 3) {
      EXPECT_NEAR(gi, 0.0, 1e-13) << i;
    } else {
      EXPECT_GT(std::abs(gi), 1e-3) << i;
    }
  }
}

TEST(Trainer, WeightsAndHistory) {
  Quadratic q(5);
  auto t = trainer(q, settings("[{type: adam, steps: 12, lr: 0.01}, {type: lbfgs, steps: 8}]",
                               "  weights: {fit: 3.0, sum: 0.25}\n  monitor_every: 4"));
  EXPECT_EQ(t->weights(), (std::vector<double>{3.0, 0.25}));
  const train::TrainResult r = t->run();
  const train::History& h = t->history();
  for (const char* name : {"step", "loss", "fit", "sum", "lr", "wall_s", "stage"})
    ASSERT_TRUE(h.find(name)) << name;
  EXPECT_EQ(h.size(), static_cast<std::size_t>(r.steps));
  const auto& loss = *h.find("loss");
  const auto& fit = *h.find("fit");
  const auto& sum = *h.find("sum");
  for (std::size_t k = 0; k < loss.size(); ++k) EXPECT_NEAR(loss[k], 3.0 * fit[k] + 0.25 * sum[k], 1e-14 * loss[k]);
  EXPECT_EQ((*h.find("step"))[0], 0.0);
  EXPECT_EQ((*h.find("stage"))[12], 1.0);
  EXPECT_GT((*h.find("lr"))[0], 0.0);  // Adam records its rate, L-BFGS none
  EXPECT_EQ((*h.find("lr"))[12], 0.0);
  // the monitor at the initial parameters and every 4 steps: steps 0, 4, 8, ..., 20
  ASSERT_TRUE(h.find("monitor_x0"));
  EXPECT_EQ(*h.find("monitor_step"), (std::vector<double>{0, 4, 8, 12, 16, 20}));
  EXPECT_EQ(h.find("monitor_x0")->size(), 6u);
  EXPECT_EQ((*h.find("monitor_x0"))[0], 0.3);  // the initial parameters
  EXPECT_NE((*h.find("monitor_x0"))[1], 0.3);
}

TEST(Trainer, GradNormBalancingFollowsItsFormula) {
  Quadratic q(5);
  const train::TrainerSettings s = settings("[{type: adam, steps: 3}]",
                                            "  weights: {fit: 2.0, sum: 0.5, balance: grad_norm, balance_every: 2, "
                                            "balance_alpha: 0.75}");
  auto t = trainer(q, s);
  std::vector<double> terms(2);
  std::vector<Vec<double>> g = {Vec<double>("g0", 5), Vec<double>("g1", 5)};
  q.evaluate(t->params(), terms, g);
  double n0 = 0, n1 = 0;
  for (int i = 0; i < 5; ++i) n0 += g[0](i) * g[0](i), n1 += g[1](i) * g[1](i);
  n0 = std::sqrt(n0), n1 = std::sqrt(n1);
  Vec<double> grad("grad", 5);
  t->evaluate(t->params(), grad, terms, 1);  // step 1: not due
  EXPECT_EQ(t->weights(), (std::vector<double>{2.0, 0.5}));
  t->evaluate(t->params(), grad, terms, 2);  // due: lambda = a lambda + (1 - a) w_k (n0 + n1) / n_k
  EXPECT_NEAR(t->weights()[0], 0.75 * 2.0 + 0.25 * 2.0 * (n0 + n1) / n0, 1e-12);
  EXPECT_NEAR(t->weights()[1], 0.75 * 0.5 + 0.25 * 0.5 * (n0 + n1) / n1, 1e-12);
  // the gradient is combined with the new weights
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(grad(i), t->weights()[0] * g[0](i) + t->weights()[1] * g[1](i), 1e-13);
}

TEST(TrainerStop, AfterStepsSuspendsWithACheckpoint) {
  Quadratic q(5);
  const std::string path = tmp("suspend.h5");
  auto t = trainer(q, settings("[{type: adam, steps: 20}, {type: lbfgs, steps: 20}]"), path);
  t->add_stop(std::make_unique<train::StopAfterSteps>(7));
  const train::TrainResult r = t->run();
  EXPECT_TRUE(r.stopped());
  EXPECT_EQ(r.steps, 7);
  EXPECT_EQ(r.reason, "stopped after 7 steps");
  const io::H5File f = io::H5File::open(path);
  EXPECT_EQ(f.number_attribute("/", "global_step"), 7.0);
  EXPECT_EQ(f.number_attribute("/", "step_in_stage"), 7.0);
  EXPECT_TRUE(f.exists("optimizer/m"));
  std::remove(path.c_str());
}

TEST(TrainerStop, WallTimeSuspends) {
  Quadratic q(5);
  auto t = trainer(q, settings("[{type: adam, steps: 50}, {type: lbfgs, steps: 50}]"));
  t->add_stop(std::make_unique<train::WallTimeLimit>(0.0));
  const train::TrainResult r = t->run();
  EXPECT_TRUE(r.stopped());
  EXPECT_EQ(r.steps, 1);
  EXPECT_NE(r.reason.find("wall-time limit"), std::string::npos) << r.reason;
}

TEST(TrainerStop, LossToleranceFinishesEarly) {
  for (const std::string first : {"{type: adam, steps: 2000, lr: 0.05}", "{type: lbfgs, steps: 2000}"}) {
    Quadratic q(5);
    const std::string path = tmp("tol.h5");
    auto t = trainer(q, settings("[" + first + ", {type: adam, steps: 100}]"), path);
    const double tol = minimum(5, {1, 1}) + 1e-6;
    t->add_stop(std::make_unique<train::LossTolerance>(tol));
    const train::TrainResult r = t->run();
    EXPECT_EQ(r.end, train::Verdict::finish) << first;
    EXPECT_FALSE(r.stopped());
    EXPECT_LE((*t->history().find("loss")).back(), tol) << first;
    EXPECT_LT(r.steps, 2000) << first;
    EXPECT_EQ(q.stages_begun, std::vector<int>{0}) << "the second stage must not run";
    // the final checkpoint says the run is complete
    EXPECT_EQ(io::H5File::open(path).number_attribute("/", "stage"), 2.0);
    std::remove(path.c_str());
  }
}

TEST(TrainerStop, DivergenceKeepsTheLastGoodCheckpoint) {
  for (const std::string stage : {"{type: adam, steps: 30}", "{type: lbfgs, steps: 30}"}) {
    Quadratic q(5);
    q.nan_after = 12;
    const std::string path = tmp("diverge.h5");
    auto t = trainer(q, settings("[" + stage + "]", "  checkpoint_every: 4"), path);
    try {
      t->run();
      ADD_FAILURE() << "no divergence reported for " << stage;
    } catch (const InputError&) {
      ADD_FAILURE() << "a divergence is not bad input";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("training diverged"), std::string::npos) << m;
      EXPECT_NE(m.find("The last good checkpoint is " + path), std::string::npos) << m;
      if (stage.find("adam") != std::string::npos) {
        EXPECT_NE(m.find("the loss is nan (fit term nan, sum term 1.000e+00; a test objective) at step 13"),
                  std::string::npos)
            << m;
        EXPECT_NE(m.find("(step 12)"), std::string::npos) << m;
      }
    }
    const io::H5File f = io::H5File::open(path);
    const auto p = f.read("params");
    for (double v : p) EXPECT_TRUE(std::isfinite(v));
    std::remove(path.c_str());
  }
}

namespace {

/// Runs the same training once, then in pieces: stopped after each of `stops` steps
/// (negative: stop -k is the middle step of stage k - 1 of the uninterrupted run) and
/// resumed; expects the same parameters, weights, history and objective state.
void expect_exact_resume(const std::string& stages, const std::string& extra, std::vector<long> stops) {
  const train::TrainerSettings s = settings(stages, extra);
  const auto make = [] {
    Quadratic q(60, 3, 1.0);  // ill-conditioned: L-BFGS does not converge within its stages
    q.shift_every = 5;
    return q;
  };
  Quadratic whole_q = make();
  auto whole = trainer(whole_q, s);
  const train::TrainResult rw = whole->run();
  // the global steps of each stage in the uninterrupted run
  const std::vector<double>& stage_of = *whole->history().find("stage");
  for (long& stop : stops)
    if (stop < 0) {
      const int st = static_cast<int>(-stop - 1);
      std::vector<long> steps;
      for (std::size_t k = 0; k < stage_of.size(); ++k)
        if (stage_of[k] == st) steps.push_back(static_cast<long>(k) + 1);
      ASSERT_GE(steps.size(), 3u) << "stage " << st << " is too short to stop inside";
      stop = steps[steps.size() / 2];
    }
  const std::string path = tmp("resume.h5");
  std::remove(path.c_str());
  long done = 0;
  for (std::size_t k = 0; k <= stops.size(); ++k) {
    Quadratic q = make();
    auto t = trainer(q, s, path);
    if (k > 0) t->resume(path);
    if (k < stops.size()) t->add_stop(std::make_unique<train::StopAfterSteps>(stops[k]));
    const train::TrainResult r = t->run();
    if (k < stops.size()) {
      ASSERT_TRUE(r.stopped()) << "stop " << stops[k];
      ASSERT_EQ(r.steps, stops[k]);
      ASSERT_GT(r.steps, done);
      done = r.steps;
      continue;
    }
    EXPECT_EQ(r.steps, rw.steps);
    EXPECT_EQ(r.loss, rw.loss);
    EXPECT_EQ(copy(t->params()), copy(whole->params()));
    EXPECT_EQ(t->weights(), whole->weights());
    EXPECT_EQ(q.round(), whole_q.round());
    ASSERT_EQ(t->history().series().size(), whole->history().series().size());
    for (std::size_t j = 0; j < whole->history().series().size(); ++j) {
      const auto& [name, v] = whole->history().series()[j];
      if (name == "wall_s" || name == "monitor_wall_s") continue;
      ASSERT_TRUE(t->history().find(name)) << name;
      EXPECT_EQ(*t->history().find(name), v) << name;
    }
  }
  std::remove(path.c_str());
}

}  // namespace

TEST(TrainerResume, InsideEachStageKindBitForBit) {
  const std::string stages =
      "[{type: adam, steps: 30, lr: 0.02}, {type: lbfgs, steps: 30, resample_every: 7}, {type: least_squares}, "
      "{type: adamw, steps: 10}, {type: lbfgs, steps: 12, output_layer: least_squares}]";
  const std::string extra = "  weights: {balance: grad_norm, balance_every: 3}\n  checkpoint_every: 4\n  monitor_every: 5";
  // inside adam; inside lbfgs at one of its resampling iterations (44 = 30 + 14); at the
  // least-squares step (61); inside adamw; inside the varpro lbfgs
  expect_exact_resume(stages, extra, {17, 44, 61, -4, -5});
  // at stage boundaries only
  expect_exact_resume(stages, extra, {30, 60, 61, 71});
}

TEST(TrainerResume, RefusesOtherCheckpoints) {
  Quadratic q(5);
  const train::TrainerSettings s = settings("[{type: adam, steps: 5}]");
  const std::string path = tmp("refuse.h5");
  trainer(q, s, path, "config A")->run();
  const auto refused = [&](const std::string& file, const std::string& fingerprint, const std::string& objective,
                           const std::string& expect) {
    train::Trainer<double> t(q, s, train::TrainerOptions{"", fingerprint, objective, true, train::Comm()});
    try {
      t.resume(file);
      ADD_FAILURE() << "accepted: " << expect;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
    }
  };
  refused(path, "config B", "quadratic", "different problem, model or training configuration");
  refused(path, "config A", "pinn", "a checkpoint of a 'quadratic' run");
  refused(tmp("missing.h5"), "config A", "quadratic", "does not exist");
  // a newer schema, and the format of older kpde versions
  {
    io::H5File f = io::H5File::create(tmp("newer.h5"));
    f.set_attribute("/", "format", "kpde-checkpoint");
    f.set_attribute("/", "schema_version", 99.0);
    f.close();
    refused(tmp("newer.h5"), "config A", "quadratic", "newer kpde (checkpoint schema 99");
    io::H5File g = io::H5File::create(tmp("old.h5"));
    g.set_attribute("/", "kind", "kpde pinn checkpoint");
    g.close();
    refused(tmp("old.h5"), "config A", "quadratic", "older kpde");
  }
  for (const char* f : {"refuse.h5", "newer.h5", "old.h5"}) std::remove(tmp(f).c_str());
}

TEST(StageRegistry, ParsesEveryKindAndRefusesBadStages) {
  const train::TrainerSettings s = settings(
      "[{type: Adam, steps: 3, lr: 0.01, schedule: {type: cosine}}, {type: adamw, steps: 2}, "
      "{type: lbfgs, steps: 4, history: 7, stop_at_floor: false}, {type: least_squares, ridge: 0.5}]");
  ASSERT_EQ(s.stages.size(), 4u);
  EXPECT_EQ(s.stages[0]->kind, "adam");
  EXPECT_EQ(s.total_steps(), 3 + 2 + 4 + 1);
  const auto* w = dynamic_cast<const train::AdamStageConfig*>(s.stages[1].get());
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->adam.decoupled);
  EXPECT_EQ(w->adam.weight_decay, 0.01);
  const auto* l = dynamic_cast<const train::LbfgsStageConfig*>(s.stages[2].get());
  ASSERT_TRUE(l);
  EXPECT_EQ(l->lbfgs.history, 7);
  EXPECT_FALSE(l->lbfgs.stop_at_floor);
  for (const auto& kind : train::stage_kinds()) {
    EXPECT_TRUE(kind.parse && kind.make_float && kind.make_double) << kind.name;
  }
  const auto error = [](const std::string& stages, bool projectable = true) {
    try {
      config::Document doc = config::Document::load_string("training:\n  stages: " + stages + "\n", "t.yaml");
      train::StageParseContext ctx;
      ctx.projectable = projectable;
      ctx.not_projectable = "no projection here";
      train::load_trainer_settings(doc.root().at("training"), {"fit", "sum"}, ctx);
      doc.check_unused();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(error("[{type: sgd, steps: 3}]").find("expected one of: adam, adamw, lbfgs, least_squares"),
            std::string::npos);
  EXPECT_NE(error("[{type: adam}]").find("missing required key 'steps'"), std::string::npos);
  EXPECT_NE(error("[{type: adam, steps: 3, momentum: 0.9}]").find("unknown key 'momentum'"), std::string::npos);
  EXPECT_NE(error("[]").find("at least one stage"), std::string::npos);
  EXPECT_NE(error("[3]").find("expected a stage {type: adam|adamw|lbfgs|least_squares"), std::string::npos);
  EXPECT_NE(error("[{type: least_squares}]", false).find("no projection here"), std::string::npos);
  EXPECT_NE(error("[{type: lbfgs, steps: 2, output_layer: least_squares}]", false).find("no projection here"),
            std::string::npos);
  EXPECT_NE(error("[{type: adam, steps: 2, lr: -1}]").find("t.yaml:2:"), std::string::npos);
}
