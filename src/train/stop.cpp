#include "train/stop.hpp"

#include "core/strings.hpp"

namespace kpde::train {

std::string StopAfterSteps::reason(const StepState& s) const {
  return "stopped after " + std::to_string(s.global_step) + " steps";
}

std::string WallTimeLimit::reason(const StepState& s) const {
  return "stopped at the wall-time limit of " + format_number(seconds_) + " s";
}

std::atomic<bool>& interrupt_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

std::string Interrupted::reason(const StepState& s) const {
  return "interrupted after " + std::to_string(s.global_step) + " steps";
}

std::string LossTolerance::reason(const StepState& s) const {
  return "the loss " + format_number(s.loss) + " reached the tolerance " + format_number(tolerance_);
}

std::string Divergence::describe(double loss, const std::vector<std::string>& names, const std::vector<double>& terms,
                                 const std::string& hint) const {
  std::string m = "the loss is " + format_e(loss) + " (";
  for (std::size_t k = 0; k < names.size() && k < terms.size(); ++k)
    m += (k ? ", " : "") + names[k] + " term " + format_e(terms[k]);
  if (!hint.empty()) m += "; " + hint;
  return m + ")";
}

}  // namespace kpde::train
