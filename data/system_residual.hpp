#pragma once
/// The equations of a system of PDEs (data::Problem with fields) as the PINN sees them:
///   r_e(x) = R_e(f_1, d f_1, d2 f_1, ..., f_F, ..., x),   e = 1..E,
/// each an expression over the fields' derivatives and the coordinates, evaluated from
/// the derivative channels of a network with one output per field, with the exact
/// derivative of r_e with respect to every channel it reads (from the expression's jet).
///
/// Layout: channel c of field k at point p of a block of np points is
/// y[k + F (c np + p)] (nn::BlockLoss's layout for F outputs); np = 1 is one point.
#include <vector>

#include "core/types.hpp"
#include "data/problem.hpp"
#include "nn/channels.hpp"

namespace kpde::data {

class SystemResidual {
 public:
  /// One channel an equation reads: channel `channel` of field `field`.
  struct Input {
    int field = 0, channel = 0;
    int variable = 0;  ///< its index among Problem::system_variables()
  };

  /// The problem must be a system (InputError otherwise) and outlive this object.
  explicit SystemResidual(const Problem& problem);

  const Problem& problem() const { return problem_; }
  int n_fields() const { return F_; }
  int n_equations() const { return static_cast<int>(inputs_.size()); }
  /// The channels of every field: the most any equation needs (value only, gradient,
  /// diagonal second derivatives, or the full Hessian when a mixed derivative appears).
  const nn::ChannelSpec& channels() const { return channels_; }
  /// The channels equation e reads, in the order of the gradient of operator().
  const std::vector<Input>& inputs(int e) const { return inputs_[e]; }
  /// The offset of an input in a block of np points (the layout above), point p.
  int offset(const Input& in, int np, int p) const { return in.field + F_ * (in.channel * np + p); }

  /// r_e at point p of a block (x: the point's dim coordinates) and dr_e/d(input a) into
  /// grad[a] for each of inputs(e).
  template <class Y>
  double operator()(int e, const double* x, const Y* y, int np, int p, double* grad) const;

 private:
  const Problem& problem_;
  int F_ = 1, dim_ = 2, per_field_ = 0;
  nn::ChannelSpec channels_;
  std::vector<std::vector<Input>> inputs_;
};

// ---- templates -----------------------------------------------------------------------

template <class Y>
double SystemResidual::operator()(int e, const double* x, const Y* y, int np, int p, double* grad) const {
  constexpr int kMaxVars = 8 * (1 + 3 + 6) + 3;  // 8 fields in 3-D, then x, y, z
  double vars[kMaxVars];
  const std::vector<Input>& in = inputs_[e];
  const int n = static_cast<int>(in.size());
  for (const Input& i : in) vars[i.variable] = double(y[offset(i, np, p)]);
  const int nd = F_ * per_field_;
  for (int k = 0; k < dim_; ++k) vars[nd + k] = x[k];
  // the jet takes at most kMaxJetVariables at a time: the gradient in chunks
  int active[pde::kMaxJetVariables];
  pde::Expression::Jet jet;
  const pde::Expression& r = *problem_.equations[e].residual;
  for (int a0 = 0; a0 < n; a0 += pde::kMaxJetVariables) {  // n >= 1: the loader refuses an equation without fields
    const int m = std::min(n - a0, pde::kMaxJetVariables);
    for (int a = 0; a < m; ++a) active[a] = in[a0 + a].variable;
    r.eval_jet(vars, active, m, jet);
    for (int a = 0; a < m; ++a) grad[a0 + a] = jet.grad[a];
  }
  return jet.value;
}

}  // namespace kpde::data
