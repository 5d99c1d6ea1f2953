#include "train/lbfgs_stage.hpp"

#include <algorithm>
#include <limits>

#include "io/hdf5.hpp"
#include "train/trainer.hpp"

namespace kpde::train {

template <class T>
std::shared_ptr<const StageConfig> LbfgsStage<T>::parse(const config::Node& st, const StageParseContext& context) {
  auto c = std::make_shared<Config>();
  c->kind = "lbfgs";
  c->steps = st.require_long("steps", 1);
  c->lbfgs.max_iterations = static_cast<int>(c->steps);
  c->lbfgs.history = static_cast<int>(st.get_long_min("history", 50, 1));
  c->lbfgs.grad_tol = st.get_double("grad_tol", 1e-12);
  c->lbfgs.f_rel_tol = st.get_double("f_rel_tol", 0.0);
  c->lbfgs.patience = static_cast<int>(st.get_long_min("patience", 50, 1));
  c->lbfgs.stop_at_floor = st.get_bool("stop_at_floor", true);
  const std::string ol = st.get_choice("output_layer", "optimize", {"optimize", "least_squares"});
  c->varpro = ol == "least_squares";
  if (c->varpro && !context.projectable)
    st.at("output_layer").fail("output_layer: least_squares needs a linear operator; " + context.not_projectable);
  if (c->varpro) {
    c->ridge = st.get_double("ridge", 1e-12);
    if (!(c->ridge >= 0)) st.at("ridge").fail("must be >= 0");
  }
  c->resample_every = st.get_long_min("resample_every", 0, 0);
  st.check([&] { c->lbfgs.validate(); });
  return c;
}

template <class T>
StageEnd LbfgsStage<T>::run(Trainer<T>& trainer, long first) {
  Objective<T>& objective = trainer.objective();
  const Vec<T>& params = trainer.params();
  const std::size_t n = params.extent(0);
  const long steps = config_.steps;
  if (first == 0) state_ = optim::LbfgsState{};
  Vec<double> x("kpde::train::lbfgs_x", n);
  for (std::size_t i = 0; i < n; ++i) x(i) = double(params(i));
  Vec<T> pt("kpde::train::lbfgs_params", n), gt("kpde::train::lbfgs_grad", n), pm;
  const auto projected = objective.projected_range();
  // f and its terms of the evaluations since the last accepted step (the callback
  // reports the terms of the accepted one)
  std::vector<std::pair<double, std::vector<double>>> evals;
  const optim::Objective f = [&](const Vec<const double>& xv, const Vec<double>& g) {
    for (std::size_t i = 0; i < n; ++i) pt(i) = T(xv(i));
    if (config_.varpro) objective.project(pt, trainer.weights(), config_.ridge);
    std::vector<double> terms;
    const double fx = trainer.evaluate(Vec<const T>(pt), gt, terms);
    for (std::size_t i = 0; i < n; ++i) g(i) = double(gt(i));
    // variable projection: the projected block is not an L-BFGS variable
    if (config_.varpro)
      for (std::size_t i = 0; i < projected.second; ++i) g(projected.first + i) = 0;
    evals.emplace_back(fx, std::move(terms));
    return fx;
  };
  StageEnd end;
  const optim::LbfgsCallback callback = [&](int it, double fx, double) {
    std::vector<double> terms;
    for (auto e = evals.rbegin(); e != evals.rend(); ++e)
      if (e->first == fx) {
        terms = e->second;
        break;
      }
    evals.clear();
    // the accepted iterate (x), projected, for observers that need the parameters
    const auto current = [&] {
      if (pm.extent(0) != n) pm = Vec<T>("kpde::train::lbfgs_monitor", n);
      for (std::size_t i = 0; i < n; ++i) pm(i) = T(x(i));
      if (config_.varpro) objective.project(pm, trainer.weights(), config_.ridge);
      return Vec<const T>(pm);
    };
    end.verdict = trainer.step_done(it, fx, terms, 0, current);
    return end.verdict == Verdict::go;
  };
  const long ce = trainer.settings().checkpoint_every;
  const long chunk = ce > 0 ? ce : steps;
  const long rs = config_.resample_every;
  optim::LbfgsOptions opt = config_.lbfgs;
  opt.max_evaluations = static_cast<int>(std::min<long>(25L * steps + 1, 2000000000L));
  optim::LbfgsResult res;
  for (;;) {
    const long done = state_.valid ? state_.iterations : 0;
    long next = std::min(steps, (done / chunk + 1) * chunk);
    if (rs > 0) next = std::min(next, (done / rs + 1) * rs);
    opt.max_iterations = static_cast<int>(next);
    res = optim::lbfgs_minimize(f, x, opt, callback, &state_);
    for (std::size_t i = 0; i < n; ++i) params(i) = T(x(i));
    if (config_.varpro) objective.project(params, trainer.weights(), config_.ridge);
    const bool stop = res.reason == optim::LbfgsStop::stopped_by_callback && res.iterations < steps;
    if (!stop && (res.reason != optim::LbfgsStop::max_iterations || res.iterations >= steps)) break;
    // at a resampling boundary the fresh points come before any checkpoint, also when
    // stopping there, so that a resumed run continues as an uninterrupted one
    if (rs > 0 && res.iterations % rs == 0) {
      // fresh points: f and g at the current iterate change and the pairs no longer
      // describe this sum; f_history gets +inf so that the patience rule waits again
      objective.resample();
      Vec<double> xs("kpde::train::lbfgs_xs", n), gs("kpde::train::lbfgs_gs", n);
      for (std::size_t i = 0; i < n; ++i) xs(i) = state_.x[i];
      state_.f = f(Vec<const double>(xs), gs);
      evals.clear();
      state_.g.assign(gs.data(), gs.data() + n);
      state_.s.clear(), state_.y.clear(), state_.rho.clear();
      state_.gamma = 1;
      state_.last_qn_failure = -1;
      std::fill(state_.f_history.begin(), state_.f_history.end(), std::numeric_limits<double>::infinity());
      state_.f_history.back() = state_.f;
    }
    if (stop) {
      trainer.checkpoint(res.iterations, this);
      end.complete = false;
      break;
    }
    if (res.iterations % chunk == 0) trainer.checkpoint(res.iterations, this);
  }
  if (end.complete && res.reason == optim::LbfgsStop::non_finite && !std::isfinite(res.f))
    trainer.diverged("L-BFGS: " + res.message);
  end.message = "lbfgs: " + res.message;
  if (end.complete) state_ = optim::LbfgsState{};
  return end;
}

template <class T>
void LbfgsStage<T>::save_state(io::H5File& f, const std::string& group) const {
  const optim::LbfgsState& st = state_;
  if (!st.valid) return;
  const std::size_t n = st.x.size(), k = st.s.size();
  f.write(group + "/x", st.x, {n});
  f.write(group + "/g", st.g, {n});
  if (k > 0) {
    std::vector<double> s, y;
    for (const auto& v : st.s) s.insert(s.end(), v.begin(), v.end());
    for (const auto& v : st.y) y.insert(y.end(), v.begin(), v.end());
    f.write(group + "/s", s, {k, n});
    f.write(group + "/y", y, {k, n});
    f.write(group + "/rho", st.rho, {k});
  }
  f.write(group + "/f_history", st.f_history, {st.f_history.size()});
  f.set_attribute(group, "pairs", double(k));
  f.set_attribute(group, "f", st.f);
  f.set_attribute(group, "gamma", st.gamma);
  f.set_attribute(group, "iterations", double(st.iterations));
  f.set_attribute(group, "evaluations", double(st.evaluations));
  f.set_attribute(group, "qn_failure", double(st.last_qn_failure));
}

template <class T>
void LbfgsStage<T>::load_state(const io::H5File& f, const std::string& group) {
  state_ = optim::LbfgsState{};
  if (!f.exists(group + "/x")) return;
  optim::LbfgsState& st = state_;
  const io::Shape shape = f.shape(group + "/x");
  const std::size_t n = shape.empty() ? 0 : shape[0];
  st.x = f.read_checked(group + "/x", {n});
  st.g = f.read_checked(group + "/g", {n});
  const auto k = static_cast<std::size_t>(f.number_attribute(group, "pairs"));
  if (k > 0) {
    const auto s = f.read_checked(group + "/s", {k, n});
    const auto y = f.read_checked(group + "/y", {k, n});
    st.rho = f.read_checked(group + "/rho", {k});
    for (std::size_t j = 0; j < k; ++j) {
      st.s.emplace_back(s.begin() + j * n, s.begin() + (j + 1) * n);
      st.y.emplace_back(y.begin() + j * n, y.begin() + (j + 1) * n);
    }
  }
  st.f_history = f.read(group + "/f_history");
  st.f = f.number_attribute(group, "f");
  st.gamma = f.number_attribute(group, "gamma");
  st.iterations = static_cast<int>(f.number_attribute(group, "iterations"));
  st.evaluations = static_cast<int>(f.number_attribute(group, "evaluations"));
  st.last_qn_failure = static_cast<int>(f.number_attribute(group, "qn_failure"));
  st.valid = true;
}

template class LbfgsStage<float>;
template class LbfgsStage<double>;

}  // namespace kpde::train
