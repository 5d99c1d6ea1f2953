#include "data/system_residual.hpp"

#include "core/error.hpp"

namespace kpde::data {

SystemResidual::SystemResidual(const Problem& problem) : problem_(problem), F_(problem.n_fields()), dim_(problem.dim) {
  if (!problem.is_system()) throw InputError("problem '" + problem.name + "' is not a system (no fields:)");
  const auto all = all_derivatives(dim_);
  per_field_ = static_cast<int>(all.size());
  bool any1 = false, any2 = false, mixed = false;
  for (const Derivative& d : problem.operator_derivatives()) {
    any1 = any1 || d.order >= 1;
    any2 = any2 || d.order == 2;
    mixed = mixed || (d.order == 2 && d.i != d.j);
  }
  channels_ = mixed ? nn::ChannelSpec::hessian(dim_)
              : any2 ? nn::ChannelSpec::diagonal(dim_)
              : any1 ? nn::ChannelSpec::with_gradient(dim_)
                     : nn::ChannelSpec::value(dim_);
  for (const Equation& eq : problem.equations) {
    std::vector<Input> in;
    for (int f = 0; f < F_; ++f)
      for (int k = 0; k < per_field_; ++k) {
        const int v = f * per_field_ + k;
        if (!eq.residual->depends_on(v)) continue;
        const Derivative& d = all[k];
        const int c = d.order == 0 ? 0 : d.order == 1 ? channels_.grad_channel(d.i) : channels_.hessian_channel(d.i, d.j);
        in.push_back({f, c, v});
      }
    inputs_.push_back(std::move(in));
  }
}

}  // namespace kpde::data
