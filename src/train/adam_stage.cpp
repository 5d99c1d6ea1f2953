#include "train/adam_stage.hpp"

#include "core/strings.hpp"
#include "io/hdf5.hpp"
#include "train/trainer.hpp"

namespace kpde::train {

namespace {

optim::Schedule load_schedule(const config::Node& st, double lr, long steps) {
  optim::Schedule sc;
  sc.lr = lr;
  if (auto n = st.find("schedule")) {
    const config::Node s = *n;
    const std::string kind = s.get_choice("type", {"constant", "exponential", "cosine", "onecycle"});
    if (kind == "exponential") {
      sc.kind = optim::ScheduleKind::exponential;
      sc.decay_rate = s.get_double("decay_rate", 0.9);
      sc.decay_steps = static_cast<int>(s.get_long_min("decay_steps", 1000, 1));
    } else if (kind == "cosine") {
      sc.kind = optim::ScheduleKind::cosine;
      sc.warmup_steps = static_cast<int>(s.get_long_min("warmup_steps", 0, 0));
      sc.total_steps = static_cast<int>(s.get_long_min("total_steps", steps, 1));
      sc.min_lr = s.get_double("min_lr", 0.0);
    } else if (kind == "onecycle") {  // lr is the peak
      sc.kind = optim::ScheduleKind::onecycle;
      sc.total_steps = static_cast<int>(s.get_long_min("total_steps", steps, 1));
      sc.pct_start = s.get_double("pct_start", sc.pct_start);
      sc.div_factor = s.get_double("div_factor", sc.div_factor);
      sc.final_div_factor = s.get_double("final_div_factor", sc.final_div_factor);
    }
    s.check([&] { sc.validate(); });
  }
  return sc;
}

}  // namespace

template <class T>
std::shared_ptr<const StageConfig> AdamStage<T>::parse(const config::Node& st, const StageParseContext&) {
  auto c = std::make_shared<Config>();
  c->kind = st.get_string("type");
  c->steps = st.require_long("steps", 1);
  const double lr = st.get_double_above("lr", 1e-3, 0.0);
  c->adam.schedule = load_schedule(st, lr, c->steps);
  c->adam.clip_norm = st.get_double("clip_norm", 0.0);
  c->adam.decoupled = to_lower(c->kind) == "adamw";
  c->adam.weight_decay = st.get_double("weight_decay", c->adam.decoupled ? 0.01 : 0.0);
  st.check([&] { c->adam.validate(); });
  c->kind = c->adam.decoupled ? "adamw" : "adam";
  return c;
}

template <class T>
StageEnd AdamStage<T>::run(Trainer<T>& trainer, long first) {
  Objective<T>& objective = trainer.objective();
  const Vec<T>& params = trainer.params();
  const std::size_t n = params.extent(0);
  if (!adam_ || first == 0) adam_.emplace(n, config_.adam);
  Vec<T> grad("kpde::train::adam_grad", n);
  std::vector<double> terms;
  double loss = NAN;
  StageEnd end;
  for (long k = first; k < config_.steps; ++k) {
    objective.before_step(k, Vec<const T>(params));
    loss = trainer.evaluate(Vec<const T>(params), grad, terms, k);
    trainer.check_loss(loss, terms);
    const double lr = adam_->next_lr();
    try {
      adam_->step(params, Vec<const T>(grad));
    } catch (const Error& e) {
      trainer.diverged(std::string("the gradient is not finite (") + e.what() + ")");
    }
    end.verdict = trainer.step_done(k + 1, loss, terms, lr, [&] { return Vec<const T>(params); });
    const bool last = k + 1 == config_.steps;
    if (!last && (end.verdict != Verdict::go || trainer.checkpoint_due())) trainer.checkpoint(k + 1, this);
    if (!last && end.verdict != Verdict::go) {
      end.complete = false;
      break;
    }
  }
  end.message = config_.kind + ": " + std::to_string(config_.steps) + " steps, loss " + format_e(loss);
  return end;
}

template <class T>
void AdamStage<T>::save_state(io::H5File& f, const std::string& group) const {
  if (!adam_) return;
  const std::size_t n = adam_->n_params();
  std::vector<double> m(n), v(n);
  for (std::size_t i = 0; i < n; ++i) m[i] = double(adam_->m()(i)), v[i] = double(adam_->v()(i));
  f.write(group + "/m", m, {n});
  f.write(group + "/v", v, {n});
  f.set_attribute(group, "t", double(adam_->n_steps()));
}

template <class T>
void AdamStage<T>::load_state(const io::H5File& f, const std::string& group) {
  if (!f.exists(group + "/m")) return;
  const io::Shape shape = f.shape(group + "/m");
  const std::size_t n = shape.empty() ? 0 : shape[0];
  const auto m = f.read_checked(group + "/m", {n}), v = f.read_checked(group + "/v", {n});
  Vec<T> mv("m", n), vv("v", n);
  for (std::size_t i = 0; i < n; ++i) mv(i) = T(m[i]), vv(i) = T(v[i]);
  adam_.emplace(n, config_.adam);
  adam_->set_state(static_cast<long>(f.number_attribute(group, "t")), mv, vv);
}

template class AdamStage<float>;
template class AdamStage<double>;

}  // namespace kpde::train
