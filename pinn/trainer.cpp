#include "pinn/trainer.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "io/hdf5.hpp"
#include "optim/adam.hpp"

namespace kpde::pinn {

namespace {

/// The network spec with the problem's bounding box as the box of the initial
/// Gaussian means (gaussian features).
nn::NetworkSpec with_domain(nn::NetworkSpec s, const data::Problem& p) {
  if (s.features.kind == nn::FeatureKind::gaussian && p.geometry)
    for (int a = 0; a < s.input_dim; ++a) s.features.lo[a] = p.geometry->lo()[a], s.features.hi[a] = p.geometry->hi()[a];
  return s;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <class T>
std::vector<double> to_doubles(const Vec<T>& v) {
  std::vector<double> out(v.extent(0));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = double(v(i));
  return out;
}

std::string fmt_e(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : "inf";
  char b[32];
  std::snprintf(b, sizeof b, "%.3e", v);
  return b;
}

std::string fmt_time(double s) {
  char b[32];
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) std::snprintf(b, sizeof b, "%.0fs", s);
  else if (s < 3600) std::snprintf(b, sizeof b, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(b, sizeof b, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return b;
}

}  // namespace

template <class T>
Trainer<T>::Trainer(const data::Problem& problem, const ModelSettings& model, const TrainingSettings& training,
                    TrainerOptions options)
    : problem_(problem),
      model_(model),
      training_(training),
      options_(std::move(options)),
      net_(with_domain(model.network, problem)),
      loss_(problem, net_, training),
      params_("kpde::pinn::params", net_.n_params()),
      grad_("kpde::pinn::grad", net_.n_params()) {
  loss_.lambda = {training.w_residual, training.w_dirichlet, training.w_neumann};
}

template <class T>
void Trainer<T>::initialise() {
  net_.init_params(params_, model_.seed, model_.init);
  if (!model_.init_from.empty()) init_from(model_.init_from);
  loss_.sample(0);
  round_ = 0;
}

template <class T>
double Trainer<T>::elapsed() const {
  return wall_before_ + (start_ > 0 ? now_s() - start_ : 0);
}

template <class T>
void Trainer<T>::record(int stage, double loss, const LossTerms& t, double lr) {
  history_.step.push_back(double(global_step_));
  history_.loss.push_back(loss);
  history_.residual.push_back(t.residual);
  history_.dirichlet.push_back(t.dirichlet);
  history_.neumann.push_back(t.neumann);
  history_.lr.push_back(lr);
  history_.wall_s.push_back(elapsed());
  history_.stage.push_back(stage);
}

template <class T>
void Trainer<T>::monitor() {
  if (training_.monitor_every <= 0 || !problem_.exact || global_step_ % training_.monitor_every != 0) return;
  if (monitor_exact_.empty()) {
    mesh::InteriorOptions io;
    io.method = mesh::InteriorMethod::sobol;
    io.scramble = false;
    monitor_points_ = mesh::sample_interior(*problem_.geometry, 4096, io);
    monitor_exact_.resize(4096);
    problem_.exact->values(monitor_points_, monitor_exact_.data());
  }
  std::vector<double> u;
  loss_.evaluate(Vec<const T>(params_), monitor_points_, &u, nullptr);
  double e2 = 0, t2 = 0;
  for (std::size_t k = 0; k < u.size(); ++k) {
    e2 += (u[k] - monitor_exact_[k]) * (u[k] - monitor_exact_[k]);
    t2 += monitor_exact_[k] * monitor_exact_[k];
  }
  history_.monitor_step.push_back(double(global_step_));
  history_.monitor_wall_s.push_back(elapsed());
  history_.monitor_rel_l2.push_back(std::sqrt(e2 / t2));
}

template <class T>
void Trainer<T>::progress(int stage, long k, long steps, double loss, const LossTerms& t, double lr, bool force) {
  if (options_.quiet) return;
  static const bool tty = isatty(fileno(stderr));
  const double now = now_s();
  if (!force && now - last_progress_ < (tty ? 0.5 : 10.0)) return;
  last_progress_ = now;
  // ETA: time per step so far, times the steps left in all stages.
  const long total = training_.total_steps();
  const long done = global_step_;
  const double run_time = now - start_;
  const long done_here = done - start_step_;
  const double eta = done_here > 0 ? run_time / done_here * double(total - done) : NAN;
  std::string line = "[" + std::to_string(stage + 1) + "/" + std::to_string(training_.stages.size()) + " " +
                     training_.stages[stage].name() + "] step " + std::to_string(k) + "/" + std::to_string(steps) +
                     " loss " + fmt_e(loss) + " (res " + fmt_e(t.residual);
  if (loss_.has_term(1)) line += ", dir " + fmt_e(t.dirichlet);
  if (loss_.has_term(2)) line += ", neu " + fmt_e(t.neumann);
  line += ")";
  if (lr > 0) line += " lr " + fmt_e(lr);
  line += " eta " + fmt_time(eta);
  if (tty) {
    std::fprintf(stderr, "\r%-110s", line.c_str());
    if (force) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

template <class T>
void Trainer<T>::diverged(const std::string& what) const {
  std::string msg = "training diverged: " + what + " at step " + std::to_string(global_step_ + 1) + ".";
  if (!options_.checkpoint_path.empty() && last_checkpoint_step_ >= 0)
    msg += " The last good checkpoint is " + options_.checkpoint_path + " (step " +
           std::to_string(last_checkpoint_step_) + ")";
  else
    msg += " No checkpoint was written yet";
  msg += "; lower the learning rate or add gradient clipping (clip_norm).";
  throw Error(msg);
}

template <class T>
void Trainer<T>::balance(const std::array<Vec<T>, kTerms>& g) {
  // lambda_hat_k = (sum_j ||g_j||) / ||g_k||  (Wang, Wang & Perdikaris 2023), then a moving
  // average; the configured weights multiply the balanced factors.
  const double base[kTerms] = {training_.w_residual, training_.w_dirichlet, training_.w_neumann};
  double norms[kTerms] = {0, 0, 0}, sum = 0;
  for (int k = 0; k < kTerms; ++k) {
    if (!loss_.has_term(k)) continue;
    norms[k] = optim::global_norm(g[k]);
    sum += norms[k];
  }
  for (int k = 0; k < kTerms; ++k) {
    if (!loss_.has_term(k) || !(norms[k] > 0) || !std::isfinite(sum)) continue;
    const double target = base[k] * sum / norms[k];
    loss_.lambda[k] = training_.balance_alpha * loss_.lambda[k] + (1 - training_.balance_alpha) * target;
  }
}

template <class T>
void Trainer<T>::adaptive_round(std::uint64_t round) {
  // Residual-based adaptive sampling: a fraction of the interior points are the
  // candidates with the largest |r|; the rest are fresh points of the sampler.
  const int n = loss_.n_interior();
  const int n_top = std::max(1, static_cast<int>(std::lround(training_.adaptive_fraction * n)));
  const int n_cand = training_.adaptive_candidates > 0 ? static_cast<int>(training_.adaptive_candidates) : 4 * n;
  mesh::InteriorOptions io;
  io.method = mesh::InteriorMethod::uniform;
  io.seed = 0x5eed0000ull + round * 7919ull + training_.seed;
  const Mat<double> cand = mesh::sample_interior(*problem_.geometry, n_cand, io);
  std::vector<double> r;
  loss_.evaluate(Vec<const T>(params_), cand, nullptr, &r);
  std::vector<int> idx(n_cand);
  std::iota(idx.begin(), idx.end(), 0);
  const int top = std::min(n_top, n_cand);
  std::partial_sort(idx.begin(), idx.begin() + top, idx.end(),
                    [&](int a, int b) { return std::abs(r[a]) > std::abs(r[b]) || (std::abs(r[a]) == std::abs(r[b]) && a < b); });
  io.method = training_.method;
  io.seed = 0xabcd0000ull + round * 104729ull + training_.seed;
  const Mat<double> fresh = n - top > 0 ? mesh::sample_interior(*problem_.geometry, n - top, io) : Mat<double>();
  const int d = problem_.dim;
  Mat<double> x("kpde::pinn::adaptive_points", n, d);
  for (int p = 0; p < top; ++p)
    for (int k = 0; k < d; ++k) x(p, k) = cand(idx[p], k);
  for (int p = top; p < n; ++p)
    for (int k = 0; k < d; ++k) x(p, k) = fresh(p - top, k);
  loss_.set_interior(x);
}

template <class T>
TrainResult Trainer<T>::run() {
  TrainResult result;
  start_ = now_s();
  start_step_ = global_step_;
  const auto& stages = training_.stages;
  LossTerms terms;
  double loss = NAN;
  std::array<Vec<T>, kTerms> term_grads;
  for (int s = stage_; s < static_cast<int>(stages.size()); ++s) {
    const StageSettings& st = stages[s];
    const long first = s == stage_ ? step_in_stage_ : 0;
    loss_.set_modes_weight(st.modes_weight >= 0 ? st.modes_weight : training_.modes_weight);
    if (st.kind == StageSettings::Kind::adam) {
      optim::Adam<T> adam(params_.extent(0), st.adam);
      if (s == stage_ && have_adam_state_) {
        Vec<T> m("m", params_.extent(0)), v("v", params_.extent(0));
        for (std::size_t i = 0; i < m.extent(0); ++i) m(i) = T(adam_m_[i]), v(i) = T(adam_v_[i]);
        adam.set_state(adam_t_, m, v);
      }
      for (long k = first; k < st.steps; ++k) {
        if (training_.resample_every > 0 && k > 0 && k % training_.resample_every == 0) loss_.sample(++round_);
        if (training_.adaptive_every > 0 && k > 0 && k % training_.adaptive_every == 0) adaptive_round(++round_);
        loss = loss_.loss_and_grad(Vec<const T>(params_), grad_, &terms, &term_grads);
        if (training_.balance == "grad_norm" && k % training_.balance_every == 0) {
          balance(term_grads);  // new weights: recombine the same terms, no second pass
          loss = loss_.combine(term_grads, terms, grad_);
        }
        if (!std::isfinite(loss))
          diverged("the loss is " + fmt_e(loss) + " (residual term " + fmt_e(terms.residual) + ", Dirichlet " +
                   fmt_e(terms.dirichlet) + ", Neumann/Robin " + fmt_e(terms.neumann) +
                   "; a source, coefficient or boundary value that is not finite at some point also does this)");
        const double lr = adam.next_lr();
        try {
          adam.step(params_, Vec<const T>(grad_));
        } catch (const Error& e) {
          diverged(std::string("the gradient is not finite (") + e.what() + ")");
        }
        record(s, loss, terms, lr);
        ++global_step_;
        monitor();
        progress(s, k + 1, st.steps, loss, terms, lr);
        if (k + 1 < st.steps && (global_step_ == options_.stop_after ||
                                 (training_.checkpoint_every > 0 && global_step_ % training_.checkpoint_every == 0)))
          save_checkpoint(s, k + 1, &adam, nullptr);
        if (global_step_ == options_.stop_after && k + 1 < st.steps) {
          result.stopped = true;
          break;
        }
      }
      if (result.stopped) break;
      result.messages.push_back("adam: " + std::to_string(st.steps) + " steps, loss " + fmt_e(loss));
    } else if (st.kind == StageSettings::Kind::lbfgs) {
      const std::size_t n = params_.extent(0);
      Vec<double> x("kpde::pinn::lbfgs_x", n);
      for (std::size_t i = 0; i < n; ++i) x(i) = double(params_(i));
      Vec<T> pt("kpde::pinn::lbfgs_params", n), gt("kpde::pinn::lbfgs_grad", n);
      std::vector<std::pair<double, LossTerms>> evals;
      const auto out_layer = loss_.output_layer();
      const optim::Objective obj = [&](const Vec<const double>& xv, const Vec<double>& g) {
        for (std::size_t i = 0; i < n; ++i) pt(i) = T(xv(i));
        if (st.varpro) loss_.solve_output_layer(pt, st.ridge);
        LossTerms t;
        const double f = loss_.loss_and_grad(Vec<const T>(pt), gt, &t);
        for (std::size_t i = 0; i < n; ++i) g(i) = double(gt(i));
        // variable projection: the output layer is not an L-BFGS variable
        if (st.varpro)
          for (std::size_t i = 0; i < out_layer.second; ++i) g(out_layer.first + i) = 0;
        evals.emplace_back(f, t);
        return f;
      };
      const optim::LbfgsCallback cb = [&](int it, double f, double) {
        LossTerms t;
        for (auto e = evals.rbegin(); e != evals.rend(); ++e)
          if (e->first == f) {
            t = e->second;
            break;
          }
        evals.clear();
        loss = f, terms = t;
        record(s, f, t, 0);
        ++global_step_;
        if (training_.monitor_every > 0 && global_step_ % training_.monitor_every == 0) {
          for (std::size_t i = 0; i < n; ++i) pt(i) = T(x(i));
          std::swap(params_, pt);
          if (st.varpro) loss_.solve_output_layer(params_, st.ridge);
          monitor();
          std::swap(params_, pt);
        }
        progress(s, it, st.steps, f, t, 0);
        return global_step_ != options_.stop_after;
      };
      optim::LbfgsState state;
      if (s == stage_ && lbfgs_state_.valid) state = lbfgs_state_;
      // The stage runs as calls of lbfgs_minimize that end at checkpoint and resampling
      // boundaries (multiples of `chunk` and `rs` iterations); one state carries over.
      const long chunk = training_.checkpoint_every > 0 ? training_.checkpoint_every : st.steps;
      const long rs = st.resample_every;
      optim::LbfgsOptions opt = st.lbfgs;
      opt.max_evaluations = static_cast<int>(std::min<long>(25L * st.steps + 1, 2000000000L));
      optim::LbfgsResult res;
      for (;;) {
        const long done = state.valid ? state.iterations : 0;
        long next = std::min(st.steps, (done / chunk + 1) * chunk);
        if (rs > 0) next = std::min(next, (done / rs + 1) * rs);
        opt.max_iterations = static_cast<int>(next);
        res = optim::lbfgs_minimize(obj, x, opt, cb, &state);
        for (std::size_t i = 0; i < n; ++i) params_(i) = T(x(i));
        if (st.varpro) loss_.solve_output_layer(params_, st.ridge);
        loss = res.f;
        const bool stop = res.reason == optim::LbfgsStop::stopped_by_callback && res.iterations < st.steps;
        if (!stop && (res.reason != optim::LbfgsStop::max_iterations || res.iterations >= st.steps)) break;
        // at a resampling boundary the fresh points come before any checkpoint, also
        // when stopping there, so that a resumed run continues as an uninterrupted one
        if (rs > 0 && res.iterations % rs == 0) {
          // fresh points: f and g at the current iterate change, the pairs no longer
          // describe this sum; f_history gets +inf so the patience rule waits again
          loss_.sample(++round_);
          Vec<double> xs("kpde::pinn::lbfgs_xs", n), gs("kpde::pinn::lbfgs_gs", n);
          for (std::size_t i = 0; i < n; ++i) xs(i) = state.x[i];
          state.f = obj(Vec<const double>(xs), gs);
          evals.clear();
          state.g.assign(gs.data(), gs.data() + n);
          state.s.clear(), state.y.clear(), state.rho.clear();
          state.gamma = 1;
          std::fill(state.f_history.begin(), state.f_history.end(), std::numeric_limits<double>::infinity());
          state.f_history.back() = state.f;
        }
        if (stop) {
          save_checkpoint(s, res.iterations, nullptr, &state);
          result.stopped = true;
          break;
        }
        if (res.iterations % chunk == 0) save_checkpoint(s, res.iterations, nullptr, &state);
      }
      if (result.stopped) break;
      if (res.reason == optim::LbfgsStop::non_finite && !std::isfinite(res.f)) diverged("L-BFGS: " + res.message);
      result.messages.push_back("lbfgs: " + res.message);
      lbfgs_state_ = optim::LbfgsState{};
    } else {
      loss_.solve_output_layer(params_, st.ridge);
      loss = loss_.loss_and_grad(Vec<const T>(params_), grad_, &terms);
      if (!std::isfinite(loss)) diverged("least squares gave a non-finite loss");
      record(s, loss, terms, 0);
      ++global_step_;
      monitor();
      progress(s, 1, 1, loss, terms, 0);
      result.messages.push_back("least_squares: loss " + fmt_e(loss));
    }
    have_adam_state_ = false;
    stage_ = s + 1;
    step_in_stage_ = 0;
    if (s + 1 < static_cast<int>(stages.size())) save_checkpoint(s + 1, 0, nullptr, nullptr);
    if (global_step_ == options_.stop_after && s + 1 < static_cast<int>(stages.size())) {
      result.stopped = true;
      break;
    }
  }
  if (result.stopped) {
    if (!options_.quiet) std::fputc('\n', stderr);
    result.steps = global_step_;
    result.loss = loss;
    result.terms = terms;
    result.wall_s = elapsed();
    return result;
  }
  // final terms at the final parameters
  loss = loss_.loss_and_grad(Vec<const T>(params_), grad_, &terms);
  if (!std::isfinite(loss)) diverged("the final loss is " + fmt_e(loss));
  if (!stages.empty()) progress(static_cast<int>(stages.size()) - 1, stages.back().steps, stages.back().steps, loss, terms,
                                0, true);
  save_checkpoint(static_cast<int>(stages.size()), 0, nullptr, nullptr);
  result.steps = global_step_;
  result.loss = loss;
  result.terms = terms;
  result.wall_s = elapsed();
  return result;
}

template <class T>
void Trainer<T>::save_checkpoint(int stage, long step_in_stage, const optim::Adam<T>* adam,
                                 const optim::LbfgsState* lbfgs) {
  if (options_.checkpoint_path.empty()) return;
  io::H5File f = io::H5File::create(options_.checkpoint_path);
  const std::size_t n = params_.extent(0);
  f.set_attribute("/", "kind", "kpde pinn checkpoint");
  f.set_attribute("/", "fingerprint", options_.fingerprint);
  f.set_attribute("/", "precision", std::is_same<T, double>::value ? "float64" : "float32");
  f.set_attribute("/", "stage", double(stage));
  f.set_attribute("/", "step_in_stage", double(step_in_stage));
  f.set_attribute("/", "global_step", double(global_step_));
  f.set_attribute("/", "round", double(round_));
  f.set_attribute("/", "wall_s", elapsed());
  for (int k = 0; k < kTerms; ++k) f.set_attribute("/", std::string("lambda_") + kTermNames[k], loss_.lambda[k]);
  f.write("params", to_doubles(params_), {n});
  if (adam) {
    f.set_attribute("/", "adam_t", double(adam->n_steps()));
    f.write("adam/m", to_doubles(adam->m()), {n});
    f.write("adam/v", to_doubles(adam->v()), {n});
  }
  if (lbfgs && lbfgs->valid) {
    f.write("lbfgs/x", lbfgs->x, {n});
    f.write("lbfgs/g", lbfgs->g, {n});
    std::vector<double> s, y;
    for (const auto& v : lbfgs->s) s.insert(s.end(), v.begin(), v.end());
    for (const auto& v : lbfgs->y) y.insert(y.end(), v.begin(), v.end());
    const std::size_t k = lbfgs->s.size();
    f.set_attribute("lbfgs", "pairs", double(k));
    if (k > 0) {
      f.write("lbfgs/s", s, {k, n});
      f.write("lbfgs/y", y, {k, n});
      f.write("lbfgs/rho", lbfgs->rho, {k});
    }
    f.write("lbfgs/f_history", lbfgs->f_history, {lbfgs->f_history.size()});
    f.set_attribute("lbfgs", "f", lbfgs->f);
    f.set_attribute("lbfgs", "gamma", lbfgs->gamma);
    f.set_attribute("lbfgs", "iterations", double(lbfgs->iterations));
    f.set_attribute("lbfgs", "evaluations", double(lbfgs->evaluations));
  }
  const auto& xi = loss_.interior();
  f.write("points/interior", std::vector<double>(xi.data(), xi.data() + xi.size()), {xi.extent(0), xi.extent(1)});
  const auto& b = loss_.boundary();
  const std::size_t nb = b.x.extent(0), d = b.x.extent(1);
  if (nb > 0) {
    f.write("points/boundary", std::vector<double>(b.x.data(), b.x.data() + b.x.size()), {nb, d});
    f.write("points/normal", std::vector<double>(b.normal.data(), b.normal.data() + b.normal.size()), {nb, d});
    std::vector<double> part(nb);
    for (std::size_t q = 0; q < nb; ++q) part[q] = b.part(q);
    f.write("points/part", part, {nb});
  }
  const History& h = history_;
  const std::size_t m = h.size();
  if (m > 0) {
    f.write("history/step", h.step, {m});
    f.write("history/loss", h.loss, {m});
    f.write("history/residual", h.residual, {m});
    f.write("history/dirichlet", h.dirichlet, {m});
    f.write("history/neumann", h.neumann, {m});
    f.write("history/lr", h.lr, {m});
    f.write("history/wall_s", h.wall_s, {m});
    f.write("history/stage", h.stage, {m});
  }
  if (!h.monitor_step.empty()) {
    const std::size_t k = h.monitor_step.size();
    f.write("history/monitor_step", h.monitor_step, {k});
    f.write("history/monitor_wall_s", h.monitor_wall_s, {k});
    f.write("history/monitor_rel_l2", h.monitor_rel_l2, {k});
  }
  f.close();
  last_checkpoint_step_ = global_step_;
}

template <class T>
void Trainer<T>::init_from(const std::string& path) {
  const io::H5File f = io::H5File::open(path);
  const auto bad = [&](const std::string& why) { throw InputError("model.init_from: " + path + ": " + why); };
  if (!f.has_attribute("/", "kind") || f.string_attribute("/", "kind") != "kpde pinn checkpoint")
    bad("not a kpde PINN checkpoint");
  // With automatic balancing, the term weights continue from the checkpoint's.
  if (training_.balance == "grad_norm")
    for (int k = 0; k < kTerms; ++k) {
      const std::string key = std::string("lambda_") + kTermNames[k];
      if (f.has_attribute("/", key)) loss_.lambda[k] = f.number_attribute("/", key);
    }
  const std::size_t n = params_.extent(0);
  const auto shape = f.shape("params");
  if (shape.size() != 1) bad("its params are not a vector");
  if (shape[0] == n) {
    const auto p = f.read_checked("params", {n});
    for (std::size_t i = 0; i < n; ++i) params_(i) = T(p[i]);
    return;
  }
  // A diagonal-covariance checkpoint for this full-covariance model: same dense part,
  // per Gaussian mu, log sigma, w; the off-diagonal entries of U start at 0.
  const auto& fs = net_.spec().features;
  const int d = net_.spec().input_dim, k = fs.gauss_channels;
  const std::size_t dense = net_.n_dense_params(), nu = std::size_t(d) * (d - 1) / 2;
  const std::size_t sd = 2 * d + k, sf = sd + nu, Ng = fs.n_gaussians;
  if (!(fs.kind == nn::FeatureKind::gaussian && fs.full_covariance && shape[0] == dense + Ng * sd))
    bad("it holds " + std::to_string(shape[0]) + " parameters; this model has " + std::to_string(n) +
        " (the same model, or its diagonal-covariance version for covariance: full, is needed)");
  const auto p = f.read_checked("params", {shape[0]});
  for (std::size_t i = 0; i < dense; ++i) params_(i) = T(p[i]);
  for (std::size_t g = 0; g < Ng; ++g) {
    const double* q = &p[dense + g * sd];
    const std::size_t o = dense + g * sf;
    for (int j = 0; j < 2 * d; ++j) params_(o + j) = T(q[j]);
    for (std::size_t j = 0; j < nu; ++j) params_(o + 2 * d + j) = T(0);
    for (int c = 0; c < k; ++c) params_(o + 2 * d + nu + c) = T(q[2 * d + c]);
  }
}

template <class T>
void Trainer<T>::resume(const std::string& path) {
  const io::H5File f = io::H5File::open(path);
  const auto bad = [&](const std::string& why) { throw InputError(path + ": cannot resume: " + why); };
  if (!f.has_attribute("/", "kind") || f.string_attribute("/", "kind") != "kpde pinn checkpoint")
    bad("not a kpde PINN checkpoint");
  if (f.string_attribute("/", "fingerprint") != options_.fingerprint)
    bad("it was written for a different problem, model or training configuration (compare its run's "
        "config.resolved.yaml with this config)");
  const std::size_t n = params_.extent(0);
  const auto p = f.read_checked("params", {n});
  for (std::size_t i = 0; i < n; ++i) params_(i) = T(p[i]);
  stage_ = static_cast<int>(f.number_attribute("/", "stage"));
  step_in_stage_ = static_cast<long>(f.number_attribute("/", "step_in_stage"));
  global_step_ = static_cast<long>(f.number_attribute("/", "global_step"));
  round_ = static_cast<std::uint64_t>(f.number_attribute("/", "round"));
  wall_before_ = f.number_attribute("/", "wall_s");
  for (int k = 0; k < kTerms; ++k) loss_.lambda[k] = f.number_attribute("/", std::string("lambda_") + kTermNames[k]);
  if (stage_ < 0 || stage_ > static_cast<int>(training_.stages.size())) bad("stage out of range");
  have_adam_state_ = f.exists("adam/m");
  if (have_adam_state_) {
    adam_t_ = static_cast<long>(f.number_attribute("/", "adam_t"));
    adam_m_ = f.read_checked("adam/m", {n});
    adam_v_ = f.read_checked("adam/v", {n});
  }
  lbfgs_state_ = optim::LbfgsState{};
  if (f.exists("lbfgs/x")) {
    optim::LbfgsState& st = lbfgs_state_;
    st.valid = true;
    st.x = f.read_checked("lbfgs/x", {n});
    st.g = f.read_checked("lbfgs/g", {n});
    const std::size_t k = static_cast<std::size_t>(f.number_attribute("lbfgs", "pairs"));
    if (k > 0) {
      const auto s = f.read_checked("lbfgs/s", {k, n});
      const auto y = f.read_checked("lbfgs/y", {k, n});
      st.rho = f.read_checked("lbfgs/rho", {k});
      for (std::size_t j = 0; j < k; ++j) {
        st.s.emplace_back(s.begin() + j * n, s.begin() + (j + 1) * n);
        st.y.emplace_back(y.begin() + j * n, y.begin() + (j + 1) * n);
      }
    }
    st.f_history = f.read("lbfgs/f_history");
    st.f = f.number_attribute("lbfgs", "f");
    st.gamma = f.number_attribute("lbfgs", "gamma");
    st.iterations = static_cast<int>(f.number_attribute("lbfgs", "iterations"));
    st.evaluations = static_cast<int>(f.number_attribute("lbfgs", "evaluations"));
  }
  io::Shape shape;
  const auto xi = f.read("points/interior", &shape);
  if (shape.size() != 2 || shape[1] != static_cast<std::size_t>(problem_.dim)) bad("interior points have the wrong shape");
  Mat<double> x("kpde::pinn::interior", shape[0], shape[1]);
  std::copy(xi.begin(), xi.end(), x.data());
  loss_.set_interior(x);
  mesh::BoundarySamples b;
  b.part_names = problem_.geometry->part_names();
  if (f.exists("points/boundary")) {
    const auto xb = f.read("points/boundary", &shape);
    const std::size_t nb = shape[0], d = shape[1];
    const auto nr = f.read_checked("points/normal", {nb, d});
    const auto pr = f.read_checked("points/part", {nb});
    b.x = Mat<double>("x", nb, d), b.normal = Mat<double>("n", nb, d), b.part = Vec<int>("part", nb);
    std::copy(xb.begin(), xb.end(), b.x.data());
    std::copy(nr.begin(), nr.end(), b.normal.data());
    for (std::size_t q = 0; q < nb; ++q) b.part(q) = static_cast<int>(pr[q]);
  } else {
    b.x = Mat<double>("x", 0, problem_.dim), b.normal = Mat<double>("n", 0, problem_.dim), b.part = Vec<int>("part", 0);
  }
  loss_.set_boundary(b);
  history_ = History{};
  if (f.exists("history/step")) {
    history_.step = f.read("history/step");
    history_.loss = f.read("history/loss");
    history_.residual = f.read("history/residual");
    history_.dirichlet = f.read("history/dirichlet");
    history_.neumann = f.read("history/neumann");
    history_.lr = f.read("history/lr");
    history_.wall_s = f.read("history/wall_s");
    history_.stage = f.read("history/stage");
  }
  if (f.exists("history/monitor_step")) {
    history_.monitor_step = f.read("history/monitor_step");
    history_.monitor_wall_s = f.read("history/monitor_wall_s");
    history_.monitor_rel_l2 = f.read("history/monitor_rel_l2");
  }
  last_checkpoint_step_ = global_step_;
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace kpde::pinn
