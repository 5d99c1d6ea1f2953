#include "train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/strings.hpp"
#include "io/hdf5.hpp"
#include "optim/adam.hpp"

namespace kpde::train {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

template <class T>
Trainer<T>::Trainer(Objective<T>& objective, TrainerSettings settings, TrainerOptions options)
    : objective_(objective),
      settings_(std::move(settings)),
      options_(std::move(options)),
      names_(objective.term_names()),
      params_("kpde::train::params", objective.n_params()) {
  const std::size_t K = names_.size(), n = objective.n_params();
  if (settings_.weights.empty()) settings_.weights.assign(K, 1.0);
  KPDE_REQUIRE(settings_.weights.size() == K, Error,
               "train::Trainer: " + std::to_string(settings_.weights.size()) + " weights for " + std::to_string(K) +
                   " loss terms");
  weights_ = settings_.weights;
  // the trainer's own criteria: the wall-time budget and an interrupt (criteria added by
  // add_stop are asked after them)
  if (settings_.max_wall_s > 0) {
    criteria_.push_back(std::make_unique<WallTimeLimit>(settings_.max_wall_s));
    wall_limit_ = criteria_.back().get();
  }
  criteria_.push_back(std::make_unique<Interrupted>());
  interrupt_ = criteria_.back().get();
  if (objective_.weighs_terms()) {
    if (settings_.balance == Balance::grad_norm)
      throw InputError("training.weights.balance: grad_norm needs one gradient per loss term, which the " +
                       (options_.objective_kind.empty() ? std::string("chosen") : options_.objective_kind) +
                       " objective does not compute (it weighs its terms itself); use fixed weights");
  } else {
    for (std::size_t k = 0; k < K; ++k) term_grads_.emplace_back("kpde::train::term_grad", n);
  }
  if (options_.comm.parallel() && !objective_.distribute(options_.comm))
    throw InputError("this " + (options_.objective_kind.empty() ? std::string("method") : options_.objective_kind) +
                     " objective cannot run on several MPI ranks yet; run it on one (without mpirun)");
  if (!options_.comm.root()) options_.quiet = true;  // rank 0 speaks (and writes) for all
  for (const auto& c : settings_.stages) stages_.push_back(make_stage<T>(*c));
  observers_.push_back(std::make_unique<HistoryRecorder<T>>(history_, names_));
  observers_.push_back(std::make_unique<Monitor<T>>(history_, objective_, settings_.monitor_every));
  if (!options_.quiet)
    observers_.push_back(std::make_unique<ProgressLine<T>>(names_, [this](int k) { return objective_.term_active(k); }));
}

template <class T>
void Trainer<T>::set_weights(std::vector<double> weights) {
  KPDE_REQUIRE(weights.size() == names_.size(), Error, "train::Trainer::set_weights: one weight per term is needed");
  weights_ = std::move(weights);
}

template <class T>
double Trainer<T>::elapsed() const {
  return wall_before_ + (start_ > 0 ? now_s() - start_ : 0);
}

template <class T>
double Trainer<T>::combine(const std::vector<double>& terms, const Vec<T>& grad) const {
  // grad = sum_k lambda_k g_k, loss = sum_k lambda_k L_k, summed in term order with
  // fused multiply-adds: the rounding does not depend on the compiler's contraction
  const int K = static_cast<int>(names_.size());
  KPDE_REQUIRE(K >= 1 && K <= 16, Error, "train::Trainer: 1 to 16 loss terms are supported");
  std::array<T, 16> l{};
  std::array<const T*, 16> g{};
  for (int k = 0; k < K; ++k) l[k] = T(weights_[k]), g[k] = term_grads_[k].data();
  T* out = grad.data();
  Kokkos::parallel_for(
      "kpde::train::combine_grads", Kokkos::RangePolicy<HostExec>(0, grad.extent(0)), [=](const std::size_t i) {
        T v = l[0] * g[0][i];
        for (int k = 1; k < K; ++k) v = std::fma(l[k], g[k][i], v);
        out[i] = v;
      });
  return weighted_loss(terms);
}

template <class T>
double Trainer<T>::weighted_loss(const std::vector<double>& terms) const {
  double loss = weights_[0] * terms[0];  // sum_k lambda_k L_k in term order, fused
  for (std::size_t k = 1; k < names_.size(); ++k) loss = std::fma(weights_[k], terms[k], loss);
  return loss;
}

template <class T>
void Trainer<T>::rebalance() {
  // lambda_hat_k = (sum_j |g_j|) / |g_k| (Wang, Wang & Perdikaris 2023), then a moving
  // average; the configured weights multiply the balanced factors
  const int K = static_cast<int>(names_.size());
  std::vector<double> norms(K, 0.0);
  double sum = 0;
  for (int k = 0; k < K; ++k) {
    if (!objective_.term_active(k)) continue;
    norms[k] = optim::global_norm(term_grads_[k]);
    sum += norms[k];
  }
  const double alpha = settings_.balance_alpha;
  for (int k = 0; k < K; ++k) {
    if (!objective_.term_active(k) || !(norms[k] > 0) || !std::isfinite(sum)) continue;
    const double target = settings_.weights[k] * sum / norms[k];
    weights_[k] = alpha * weights_[k] + (1 - alpha) * target;
  }
}

template <class T>
double Trainer<T>::evaluate(const Vec<const T>& params, const Vec<T>& grad, std::vector<double>& terms,
                            long first_order_step) {
  terms.assign(names_.size(), 0.0);
  if (objective_.weighs_terms()) {
    const double local = objective_.evaluate_weighted(params, weights_, terms, grad);
    if (!options_.comm.parallel()) return local;
    options_.comm.sum_shares<T>(terms, {grad}, reduce_buffer_);
    return weighted_loss(terms);
  }
  objective_.evaluate(params, terms, term_grads_);
  const bool balance = first_order_step >= 0 && settings_.balance == Balance::grad_norm &&
                       first_order_step % settings_.balance_every == 0;
  if (options_.comm.parallel()) {
    if (!balance) {
      // the weighted sum is linear: combine this rank's shares, then sum P + K numbers
      // over the ranks instead of K P
      combine(terms, grad);
      options_.comm.sum_shares<T>(terms, {grad}, reduce_buffer_);
      return weighted_loss(terms);
    }
    options_.comm.sum_shares(terms, term_grads_, reduce_buffer_);  // balancing needs every term's summed gradient
  }
  if (balance) rebalance();
  return combine(terms, grad);
}

template <class T>
void Trainer<T>::check_loss(double loss, const std::vector<double>& terms) const {
  if (divergence_.diverged(loss)) diverged(divergence_.describe(loss, names_, terms, objective_.divergence_hint()));
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
StepInfo<T> Trainer<T>::info(long step_in_stage, double loss, const std::vector<double>* terms, double lr,
                             std::function<Vec<const T>()> current) const {
  StepInfo<T> s;
  const int n = static_cast<int>(stages_.size());
  s.stage = std::min(stage_, n - 1);
  s.n_stages = n;
  s.stage_name = settings_.stages[s.stage]->kind;
  s.step = step_in_stage;
  s.stage_steps = settings_.stages[s.stage]->steps;
  s.global_step = global_step_;
  s.total_steps = settings_.total_steps();
  s.run_start_step = start_step_;
  s.loss = loss;
  s.terms = terms;
  s.lr = lr;
  s.wall_s = elapsed();
  s.run_s = start_ > 0 ? now_s() - start_ : 0;
  s.params = std::move(current);
  return s;
}

template <class T>
Verdict Trainer<T>::step_done(long step_in_stage, double loss, const std::vector<double>& terms, double lr,
                              const std::function<Vec<const T>()>& current) {
  ++global_step_;
  const StepInfo<T> s = info(step_in_stage, loss, &terms, lr, current);
  for (auto& o : observers_) o->on_step(s);
  const StepState state{global_step_, loss, s.run_s, s.wall_s};
  // The first criterion (in order) that fires, as code = 3 * index + verdict. Several
  // ranks agree on the smallest code of any rank (a criterion may read a rank's own
  // clock or signal: wall time, interrupt) and all act on it.
  const long none = 3 * static_cast<long>(criteria_.size());
  long code = none;
  for (std::size_t i = 0; i < criteria_.size() && code == none; ++i) {
    const Verdict v = criteria_[i]->check(state);
    if (v != Verdict::go) code = 3 * static_cast<long>(i) + static_cast<long>(v);
  }
  code = options_.comm.min(code);
  if (code == none) return Verdict::go;
  stopped_by_ = criteria_[static_cast<std::size_t>(code / 3)].get();
  stop_reason_ = stopped_by_->reason(state);
  return static_cast<Verdict>(code % 3);
}

template <class T>
bool Trainer<T>::checkpoint_due() const {
  return settings_.checkpoint_every > 0 && global_step_ % settings_.checkpoint_every == 0;
}

template <class T>
void Trainer<T>::checkpoint(long step_in_stage, const Stage<T>* stage) {
  write_checkpoint(stage_, step_in_stage, stage);
}

template <class T>
TrainResult Trainer<T>::run() {
  TrainResult result;
  start_ = now_s();
  start_step_ = global_step_;
  const int n = static_cast<int>(stages_.size());
  const int first_stage = stage_;
  const long first_step = step_in_stage_;
  if (global_step_ == 0 && n > 0) {  // a fresh run: the observers see the initial parameters
    const StepInfo<T> s0 = info(0, NAN, nullptr, 0, [&] { return Vec<const T>(params_); });
    for (auto& o : observers_) o->on_start(s0);
  }
  for (int s = first_stage; s < n; ++s) {
    stage_ = s;
    objective_.begin_stage(s);
    const StageEnd end = stages_[s]->run(*this, s == first_stage ? first_step : 0);
    if (!end.complete) {  // a criterion stopped it inside (it wrote a checkpoint)
      result.end = end.verdict;
      break;
    }
    result.messages.push_back(end.message);
    stage_ = s + 1;
    step_in_stage_ = 0;
    if (s + 1 < n) write_checkpoint(s + 1, 0, nullptr);
    if (end.verdict != Verdict::go && s + 1 < n) {
      result.end = end.verdict;
      break;
    }
  }
  result.reason = result.end != Verdict::go ? stop_reason_ : "";
  result.stopped_by = result.end != Verdict::go ? stopped_by_ : nullptr;
  result.out_of_time = result.stopped_by && result.stopped_by == wall_limit_;
  result.interrupted = result.stopped_by && result.stopped_by == interrupt_;
  if (result.stopped()) {
    if (!options_.quiet) std::fputc('\n', stderr);
    result.steps = global_step_;
    result.wall_s = elapsed();
    const auto* loss = history_.find("loss");
    result.loss = loss && !loss->empty() ? loss->back() : NAN;
    return result;
  }
  // the final loss and terms at the final parameters
  Vec<T> grad("kpde::train::final_grad", params_.extent(0));
  std::vector<double> terms;
  const double loss = evaluate(Vec<const T>(params_), grad, terms);
  if (!std::isfinite(loss)) diverged("the final loss is " + format_e(loss));
  stage_ = n;
  if (n > 0) {
    StepInfo<T> s = info(settings_.stages.back()->steps, loss, &terms, 0, [&] { return Vec<const T>(params_); });
    for (auto& o : observers_) o->on_end(s);
  }
  step_in_stage_ = 0;
  write_checkpoint(n, 0, nullptr);
  result.steps = global_step_;
  result.loss = loss;
  result.terms = terms;
  result.wall_s = elapsed();
  return result;
}

template <class T>
CheckpointIdentity Trainer<T>::identity() const {
  return {options_.objective_kind, std::is_same<T, double>::value ? "float64" : "float32", options_.fingerprint};
}

template <class T>
void Trainer<T>::write_checkpoint(int stage, long step_in_stage, const Stage<T>* state) {
  if (options_.checkpoint_path.empty()) return;
  if (!options_.comm.root()) {  // rank 0 writes it; the others hold the same state
    last_checkpoint_step_ = global_step_;
    return;
  }
  const std::vector<double> p(params_.data(), params_.data() + params_.extent(0));
  io::H5File f = begin_checkpoint(options_.checkpoint_path, identity(),
                                  CheckpointPosition{stage, step_in_stage, global_step_, elapsed()}, p, weights_, names_);
  if (state) {
    state->save_state(f, "optimizer");
    if (f.exists("optimizer")) f.set_attribute("optimizer", "stage", settings_.stages[stage]->kind);
  }
  f.create_group("objective");
  objective_.save_state(f, "objective");
  history_.save(f, "history");
  f.close();
  last_checkpoint_step_ = global_step_;
}

template <class T>
void Trainer<T>::resume(const std::string& path) {
  const io::H5File f = open_checkpoint(path, identity());
  const std::vector<double> p = read_params(f, params_.extent(0));
  for (std::size_t i = 0; i < p.size(); ++i) params_(i) = T(p[i]);
  const int n_stages = static_cast<int>(stages_.size());
  const CheckpointPosition at = read_position(f, n_stages);
  stage_ = at.stage, step_in_stage_ = at.step_in_stage, global_step_ = at.global_step, wall_before_ = at.wall_s;
  weights_ = read_weights(f, names_);
  if (stage_ < n_stages && f.exists("optimizer")) {
    const std::string kind = f.string_attribute("optimizer", "stage");
    if (kind != settings_.stages[stage_]->kind)
      refuse_resume(f, "its optimizer state is of a '" + kind + "' stage, stage " + std::to_string(stage_ + 1) + " is '" +
          settings_.stages[stage_]->kind + "'");
    stages_[stage_]->load_state(f, "optimizer");
  }
  objective_.load_state(f, "objective");
  history_.load(f, "history");
  last_checkpoint_step_ = global_step_;
}

template class Trainer<float>;
template class Trainer<double>;

}  // namespace kpde::train
