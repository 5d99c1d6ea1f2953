#include "train/observer.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/strings.hpp"
#include "train/objective.hpp"

namespace kpde::train {

template <class T>
void HistoryRecorder<T>::on_step(const StepInfo<T>& s) {
  history_["step"].push_back(double(s.global_step - 1));
  history_["loss"].push_back(s.loss);
  for (std::size_t k = 0; k < names_.size(); ++k)
    history_[names_[k]].push_back(s.terms && k < s.terms->size() ? (*s.terms)[k] : NAN);
  history_["lr"].push_back(s.lr);
  history_["wall_s"].push_back(s.wall_s);
  history_["stage"].push_back(s.stage);
}

template <class T>
void Monitor<T>::on_step(const StepInfo<T>& s) {
  if (every_ > 0 && s.global_step % every_ == 0) record(s);
}

template <class T>
void Monitor<T>::on_start(const StepInfo<T>& s) {
  if (every_ > 0) record(s);
}

template <class T>
void Monitor<T>::record(const StepInfo<T>& s) {
  const std::vector<std::string> names = objective_.monitor_names();
  if (names.empty()) return;
  const std::vector<double> values = objective_.monitor(s.params());
  history_["monitor_step"].push_back(double(s.global_step));
  history_["monitor_wall_s"].push_back(s.wall_s);
  for (std::size_t k = 0; k < names.size(); ++k)
    history_["monitor_" + names[k]].push_back(k < values.size() ? values[k] : NAN);
}

template <class T>
void ProgressLine<T>::print(const StepInfo<T>& s, bool force) {
  static const bool tty = isatty(fileno(stderr));
  const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (!force && now - last_ < (tty ? 0.5 : 10.0)) return;
  last_ = now;
  // ETA: time per step of this run, times the steps left in all stages
  const long done_here = s.global_step - s.run_start_step;
  const double eta = done_here > 0 ? s.run_s / done_here * double(s.total_steps - s.global_step) : NAN;
  std::string line = "[" + std::to_string(s.stage + 1) + "/" + std::to_string(s.n_stages) + " " + s.stage_name +
                     "] step " + std::to_string(s.step) + "/" + std::to_string(s.stage_steps) + " loss " +
                     format_e(s.loss) + " (";
  // each term by its shortest prefix of at least 3 characters that no other term shares
  const auto abbreviation = [this](std::size_t k) {
    const std::string& n = names_[k];
    for (std::size_t len = 3; len < n.size(); ++len) {
      bool unique = true;
      for (std::size_t j = 0; j < names_.size() && unique; ++j)
        unique = j == k || names_[j].compare(0, len, n, 0, len) != 0;
      if (unique) return n.substr(0, len);
    }
    return n;
  };
  for (std::size_t k = 0; k < names_.size(); ++k) {
    if (k > 0 && !active_(static_cast<int>(k))) continue;
    line += (k ? ", " : "") + abbreviation(k) + " " +
            format_e(s.terms && k < s.terms->size() ? (*s.terms)[k] : NAN);
  }
  line += ")";
  if (s.lr > 0) line += " lr " + format_e(s.lr);
  line += " eta " + format_duration(eta);
  if (tty) {
    std::fprintf(stderr, "\r%-110s", line.c_str());
    if (force) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

template class HistoryRecorder<float>;
template class HistoryRecorder<double>;
template class Monitor<float>;
template class Monitor<double>;
template class ProgressLine<float>;
template class ProgressLine<double>;

}  // namespace kpde::train
