#include "hypernet/objective.hpp"

#include "core/error.hpp"
#include "io/hdf5.hpp"

namespace kpde::hypernet {

namespace {

constexpr std::uint64_t kValidationStream = 0x7a11dULL;

template <class T>
void run_model(const Model<T>& model, const std::vector<const PoolEntry*>& batch, const T* params, const Mat<T>& targets,
               typename Model<T>::Cache* cache) {
  const int B = static_cast<int>(batch.size()), m = model.input_size();
  Arr4<T> grids("grids", static_cast<std::size_t>(B), kInputChannels, static_cast<std::size_t>(m), static_cast<std::size_t>(m));
  Mat<T> cond("cond", static_cast<std::size_t>(B), kCondInputs);
  std::vector<const PreparedInput*> in;
  for (const PoolEntry* e : batch) in.push_back(&e->input);
  stack_inputs<T>(in, grids, cond);
  model.forward(params, grids, cond, targets, cache);
}

}  // namespace

template <class T>
HypernetObjective<T>::HypernetObjective(const ObjectiveSettings& settings)
    : settings_(settings),
      model_(settings.model),
      loss_(settings.loss),
      pool_(settings.data, settings.model.input_pool),
      cache_(model_.make_cache()) {
  if (settings_.batch < 1) throw InputError("training.batch must be >= 1");
  if (settings_.validation < 0) throw InputError("data.validation must be >= 0");
  const std::uint64_t vseed = data::mix_seed(settings_.data.seed, kValidationStream);
  validation_ = make_entries(settings_.data, settings_.model.input_pool, vseed, 0, settings_.validation);
  for (std::size_t k = 0; k < validation_.size(); ++k) {
    Rng rng(data::mix_seed(vseed, k, 1));
    validation_points_.push_back(draw_points(validation_[k], settings_.data.n_interior, settings_.data.n_boundary, rng));
  }
}

template <class T>
void HypernetObjective<T>::before_step(long, const Vec<const T>&) {
  if (counter_ > 0) pool_.refresh(counter_);
  batch_ = pool_.batch(counter_, settings_.batch, points_);
  ++counter_;
}

template <class T>
double HypernetObjective<T>::evaluate_weighted(const Vec<const T>& params, const std::vector<double>& weights,
                                               std::vector<double>& terms, const Vec<T>& grad) {
  if (batch_.empty()) batch_ = pool_.batch(counter_, settings_.batch, points_);
  const std::size_t B = batch_.size();
  // this rank's samples [b0, b1) of the batch (all of them on one rank); the loss is a
  // mean over samples, so its share is (b1 - b0) / B times the mean over the shard
  std::size_t b0 = 0, b1 = B;
  if (comm_ && comm_->parallel()) {
    const auto [s0, s1] = comm_->shard(static_cast<long>(B));
    b0 = static_cast<std::size_t>(s0), b1 = static_cast<std::size_t>(s1);
  }
  const std::size_t n = b1 - b0;
  seen_ += static_cast<long>(B);
  Kokkos::deep_copy(grad, T(0));
  terms.assign(kLossTerms, 0.0);
  if (n == 0) return 0.0;
  const std::vector<const PoolEntry*> mine(batch_.begin() + static_cast<long>(b0), batch_.begin() + static_cast<long>(b1));
  Mat<T> targets("targets", n, target_size()), d("d_targets", n, target_size());
  run_model(model_, mine, params.data(), targets, cache_.get());
  std::vector<const SamplePoints*> pts;
  for (std::size_t k = b0; k < b1; ++k) pts.push_back(&points_[k]);
  double total = loss_.evaluate(targets, pts, weights, terms, d);
  if (n < B) {
    const double share = static_cast<double>(n) / static_cast<double>(B);
    for (double& t : terms) t *= share;
    total *= share;
    Kokkos::parallel_for(
        "kpde::hypernet::share", Kokkos::RangePolicy<HostExec>(0, d.size()),
        [=](const std::size_t i) { d.data()[i] = static_cast<T>(d.data()[i] * share); });
  }
  model_.backward(params.data(), *cache_, d, grad.data());
  return total;
}

template <class T>
std::vector<double> HypernetObjective<T>::validation_terms(const Vec<const T>& params) {
  std::vector<double> sum(kLossTerms, 0.0);
  const std::size_t V = validation_.size();
  if (V == 0) return sum;
  const std::size_t chunk = static_cast<std::size_t>(settings_.batch);
  std::vector<double> ones(kLossTerms, 1.0);
  for (std::size_t a = 0; a < V; a += chunk) {
    const std::size_t n = std::min(chunk, V - a);
    std::vector<const PoolEntry*> batch;
    std::vector<const SamplePoints*> pts;
    for (std::size_t k = a; k < a + n; ++k) batch.push_back(&validation_[k]), pts.push_back(&validation_points_[k]);
    Mat<T> targets("targets", n, target_size());
    run_model<T>(model_, batch, params.data(), targets, nullptr);
    std::vector<double> terms;
    loss_.evaluate(targets, pts, ones, terms, Mat<T>());
    for (int k = 0; k < kLossTerms; ++k) sum[static_cast<std::size_t>(k)] += terms[static_cast<std::size_t>(k)] * static_cast<double>(n) / static_cast<double>(V);
  }
  return sum;
}

template <class T>
std::vector<std::string> HypernetObjective<T>::monitor_names() const {
  if (validation_.empty()) return {};
  std::vector<std::string> out;
  for (const std::string& n : loss_term_names()) out.push_back("val_" + n);
  return out;
}

template <class T>
std::vector<double> HypernetObjective<T>::monitor(const Vec<const T>& params) {
  if (validation_.empty()) return {};
  return validation_terms(params);
}

template <class T>
void HypernetObjective<T>::save_state(io::H5File& file, const std::string& group) const {
  file.create_group(group);
  file.set_attribute(group, "counter", static_cast<double>(counter_));
  file.set_attribute(group, "seen", static_cast<double>(seen_));
  pool_.save(file, group + "/pool");
}

template <class T>
void HypernetObjective<T>::load_state(const io::H5File& file, const std::string& group) {
  counter_ = static_cast<long>(file.number_attribute(group, "counter"));
  seen_ = static_cast<long>(file.number_attribute(group, "seen"));
  pool_.load(file, group + "/pool");
  batch_.clear();
}

template class HypernetObjective<float>;
template class HypernetObjective<double>;

}  // namespace kpde::hypernet
