#include "data/residual.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"

namespace kpde::data {

namespace {

int channel_of(const nn::ChannelSpec& ch, const Derivative& d) {
  if (d.order == 0) return 0;
  if (d.order == 1) return ch.grad_channel(d.i);
  return ch.hessian_channel(d.i, d.j);
}

}  // namespace

// ---- HardDirichlet ----------------------------------------------------------------------

HardDirichlet::HardDirichlet(const Problem& problem, const nn::ChannelSpec& channels, int field) : channels_(channels) {
  const std::string of = field >= 0 && problem.is_system() ? "field '" + problem.fields[field] + "' " : "";
  const std::string key = "training.hard_dirichlet";
  const auto refuse = [&](const std::string& why) {
    throw InputError(key + ": " + of + why + " (use the penalty form: hard_dirichlet: false)");
  };
  const int dim = problem.dim;
  const mesh::Geometry& geo = *problem.geometry;
  // the Dirichlet conditions of this field (all: field < 0); Neumann and Robin parts
  // stay penalised (phi != 0 there)
  std::vector<const Condition*> conditions;
  for (const auto& c : problem.conditions)
    if ((field < 0 || c.field == field) && c.kind == mesh::BoundaryKind::dirichlet) conditions.push_back(&c);
  if (conditions.empty() && field < 0) refuse("the problem has no Dirichlet condition");
  bool one_value = true;
  std::vector<int> seen(geo.n_parts(), 0);
  for (const Condition* c : conditions) {
    if (!c->value.has_derivatives())
      refuse("needs Dirichlet values with derivatives (expressions or numbers); part '" + c->part_name + "' has " +
             c->value.describe());
    if (seen[c->part]++)
      refuse("part '" + c->part_name + "' has two Dirichlet conditions");
    one_value = one_value && c->value.describe() == conditions[0]->value.describe();
  }
  const int S = channels_.n_second();
  stride_ = 2 + 2 * dim + 2 * S + S * dim;
  phi_ = 1 + dim + S;
  const bool plain_box =
      geo.shape().op() == mesh::Shape::Op::primitive && geo.n_parts() == 2 * dim && geo.part_name(0) == "left";
  if (!plain_box || !one_value) {
    // R-functions: the parts' distances, the data grouped by expression
    std::vector<int> parts;
    std::vector<std::string> texts;
    for (const Condition* c : conditions) {
      parts.push_back(c->part);
      const std::string t = c->value.describe();
      const auto it = std::find(texts.begin(), texts.end(), t);
      part_group_.push_back(static_cast<int>(it - texts.begin()));
      if (it == texts.end()) texts.push_back(t), group_g_.push_back(c->value);
    }
    if (!parts.empty()) {
      geometry_ = problem.geometry;
      distance_ = std::make_shared<const mesh::PartDistance>(geo, parts, key + ": " + of);
      return;
    }
    part_group_.clear(), group_g_.clear();  // a free field: the product form's phi = 1
  }
  // phi = product over the constrained sides of the normalised distance to that side,
  // (x - lo) / h or (hi - x) / h with h the half-width of the box along the axis.
  std::string phi;
  const char* axis[3] = {"x", "y", "z"};
  std::vector<bool> side(2 * dim, false);
  for (const Condition* c : conditions) side[c->part] = true;
  for (int k = 0; k < 2 * dim; ++k) {
    if (!side[k]) continue;
    const int a = k / 2;
    const double lo = geo.lo()[a], hi = geo.hi()[a], h = 0.5 * (hi - lo);
    char term[160];
    if (k % 2 == 0) std::snprintf(term, sizeof term, "((%s - (%.17g)) / %.17g)", axis[a], lo, h);
    else std::snprintf(term, sizeof term, "(((%.17g) - %s) / %.17g)", hi, axis[a], h);
    phi += (phi.empty() ? "" : " * ") + std::string(term);
  }
  if (phi.empty()) phi = "1";  // a free field
  phi_expr_ = std::make_shared<const pde::Expression>(pde::Expression::parse(phi, coordinate_names(dim)));
  if (!conditions.empty()) g_ = conditions[0]->value;
}

namespace {
mesh::Jet2 to_jet2(const pde::Expression::Jet& e, int d) {
  mesh::Jet2 j;
  j.v = e.value;
  const int n = std::min(d, 3);
  for (int i = 0; i < n; ++i) {
    j.g[i] = e.grad[i];
    for (int k = 0; k < n; ++k) j.h[i][k] = e.hess[i][k];
  }
  return j;
}
}  // namespace

void HardDirichlet::point_jets(const mesh::Point& x, mesh::Jet2* g, mesh::Jet2* phi) const {
  const int d = channels_.dim;
  if (!distance_) {
    static const int active[3] = {0, 1, 2};
    pde::Expression::Jet f;
    phi_expr_->eval_jet(x.data(), active, d, f);
    *phi = to_jet2(f, d);
    *g = to_jet2(g_.jet(x, d), d);
    return;
  }
  const int K = distance_->n_parts(), G = static_cast<int>(group_g_.size());
  constexpr int kStack = 32;
  mesh::Jet2 stack_d[kStack], stack_r[kStack];
  std::vector<mesh::Jet2> heap_d, heap_r;
  if (K > kStack || G > kStack) heap_d.resize(K), heap_r.resize(G);
  mesh::Jet2* D = K > kStack || G > kStack ? heap_d.data() : stack_d;
  mesh::Jet2* R = K > kStack || G > kStack ? heap_r.data() : stack_r;
  const int on = distance_->eval(x, D);
  if (on >= 0) {  // on Dirichlet part `on`: u = its data
    *phi = mesh::Jet2{};
    *g = to_jet2(group_g_[part_group_[on]].jet(x, d), d);
    return;
  }
  // R_j = sum over group j's parts of 1/D_k; phi = 1 / sum_j R_j
  for (int j = 0; j < G; ++j) R[j] = mesh::Jet2{};
  for (int k = 0; k < K; ++k) R[part_group_[k]] = mesh::jet_add(R[part_group_[k]], mesh::jet_recip(D[k]));
  mesh::Jet2 sum = R[0];
  for (int j = 1; j < G; ++j) sum = mesh::jet_add(sum, R[j]);
  *phi = mesh::jet_recip(sum);
  if (G == 1) {
    *g = to_jet2(group_g_[0].jet(x, d), d);
    return;
  }
  // g = sum_j R_j^2 g_j / sum_j R_j^2
  mesh::Jet2 num, den;
  for (int j = 0; j < G; ++j) {
    const mesh::Jet2 w = mesh::jet_mul(R[j], R[j]);
    num = mesh::jet_add(num, mesh::jet_mul(w, to_jet2(group_g_[j].jet(x, d), d)));
    den = mesh::jet_add(den, w);
  }
  *g = mesh::jet_mul(num, mesh::jet_recip(den));
}

std::vector<double> HardDirichlet::jets(const Mat<const double>& x) const {
  const int n = static_cast<int>(x.extent(0)), d = channels_.dim, S = channels_.n_second();
  std::vector<double> out(static_cast<std::size_t>(n) * stride_, 0.0);
  std::array<std::array<std::array<double, 3>, 3>, 6> A{};
  for (int sidx = 0; sidx < S; ++sidx) A[sidx] = channels_.second_matrix(sidx);
  Kokkos::parallel_for(
      "kpde::data::hard_dirichlet_jets", Kokkos::RangePolicy<HostExec>(0, n), [&](const int p) {
        mesh::Jet2 g, f;
        point_jets(mesh::row_point(x, p), &g, &f);
        double* h = out.data() + static_cast<std::size_t>(p) * stride_;
        h[0] = g.v;
        h[1 + d + S] = f.v;
        for (int i = 0; i < d; ++i) h[1 + i] = g.g[i], h[2 + d + S + i] = f.g[i];
        for (int sidx = 0; sidx < S; ++sidx) {
          double G = 0, P = 0;
          for (int i = 0; i < d; ++i)
            for (int j = 0; j < d; ++j) G += A[sidx][i][j] * g.h[i][j], P += A[sidx][i][j] * f.h[i][j];
          h[1 + d + sidx] = G;
          h[2 + 2 * d + S + sidx] = P;
          for (int j = 0; j < d; ++j) {
            double v = 0;
            for (int i = 0; i < d; ++i) v += A[sidx][i][j] * f.g[i];
            h[2 + 2 * d + 2 * S + sidx * d + j] = v;
          }
        }
      });
  return out;
}

void HardDirichlet::backward(const double* h, const double* du, double* dn) const {
  const int d = channels_.dim, S = channels_.n_second(), G = channels_.n_grad();
  const double phi = h[1 + d + S];
  dn[0] = phi * du[0];
  for (int i = 0; i < G; ++i) dn[0] += h[2 + d + S + i] * du[1 + i], dn[1 + i] = phi * du[1 + i];
  for (int sidx = 0; sidx < S; ++sidx) {
    const double ds = du[1 + G + sidx];
    dn[0] += h[2 + 2 * d + S + sidx] * ds;
    for (int j = 0; j < G; ++j) dn[1 + j] += 2 * h[2 + 2 * d + 2 * S + sidx * d + j] * ds;
    dn[1 + G + sidx] = phi * ds;
  }
}

// ---- Residual ------------------------------------------------------------------------------

Residual::Residual(const Problem& problem, bool hard_dirichlet) : problem_(problem), dim_(problem.dim) {
  if (problem.is_system())
    throw InputError("problem '" + problem.name + "' is a system of " + std::to_string(problem.n_fields()) +
                     " fields: this method solves scalar problems only (kpde solve takes systems)");
  linear_ = problem.linear_terms();
  const auto derivs = problem.operator_derivatives();
  bool any1 = false, any2 = false, mixed = false;
  for (const auto& d : derivs) {
    any1 = any1 || d.order >= 1;
    any2 = any2 || d.order == 2;
    mixed = mixed || (d.order == 2 && d.i != d.j);
  }
  if (!problem.nonlinear && problem.constant_coefficients() && any2 && !mixed) {
    std::array<double, 3> a{0, 0, 0};
    for (const auto& t : linear_)
      if (t.derivative.order == 2) a[t.derivative.i] += t.coefficient.constant_value();
    channels_ = nn::ChannelSpec::laplacian(dim_, a);
    for (const auto& t : linear_)
      if (t.derivative.order < 2) terms_.push_back({channel_of(channels_, t.derivative), t.coefficient.constant_value(), -1});
    terms_.push_back({channels_.second_channel(0), 1.0, -1});
  } else {
    channels_ = mixed ? nn::ChannelSpec::hessian(dim_)
                : any2 ? nn::ChannelSpec::diagonal(dim_)
                : any1 ? nn::ChannelSpec::with_gradient(dim_)
                       : nn::ChannelSpec::value(dim_);
    if (!problem.nonlinear) {
      for (std::size_t k = 0; k < linear_.size(); ++k) {
        const auto& t = linear_[k];
        Term term{channel_of(channels_, t.derivative), 0.0, -1};
        if (t.coefficient.is_constant()) {
          term.constant = t.coefficient.constant_value();
        } else {
          term.variable = static_cast<int>(term_field_.size());
          term_field_.push_back(static_cast<int>(k));
        }
        terms_.push_back(term);
      }
    } else {
      const auto all = all_derivatives(dim_);
      var_channel_.assign(all.size(), -1);
      for (std::size_t k = 0; k < all.size(); ++k)
        if (problem.residual->depends_on(static_cast<int>(k))) {
          var_channel_[k] = channel_of(channels_, all[k]);
          active_vars_.push_back(static_cast<int>(k));
        }
      if (active_vars_.size() > static_cast<std::size_t>(pde::kMaxJetVariables))
        throw InputError("the residual depends on more than 8 derivatives");
    }
  }
  if (hard_dirichlet) hard_.emplace(problem, channels_);
}

Residual::Points Residual::at(const Mat<const double>& x) const {
  const int n = static_cast<int>(x.extent(0));
  Points pts;
  pts.n = n;
  pts.f.resize(n);
  problem_.source.values(x, pts.f.data());
  for (int k : term_field_) {
    pts.coef.emplace_back(n);
    linear_[k].coefficient.values(x, pts.coef.back().data());
  }
  if (problem_.nonlinear) pts.x.assign(x.data(), x.data() + static_cast<std::size_t>(n) * dim_);
  if (hard_) pts.hard = hard_->jets(x);
  return pts;
}

void Residual::to_network(const Points& pts, int p, const double* du, double* dn) const {
  if (hard_) {
    hard_->backward(pts.hard.data() + static_cast<std::size_t>(p) * hard_->stride(), du, dn);
    return;
  }
  for (int c = 0; c < channels_.n_channels(); ++c) dn[c] = du[c];
}

// ---- BoundaryTargets ---------------------------------------------------------------------

BoundaryTargets boundary_targets(const Problem& problem, const mesh::BoundarySamples& b, bool skip_dirichlet) {
  BoundaryTargets t;
  const int dim = problem.dim;
  for (int q = 0; q < b.n_points(); ++q) {
    const mesh::Point x = mesh::row_point(Mat<const double>(b.x), q);
    for (const auto& c : problem.conditions) {
      if (c.part != b.part(q)) continue;
      if (skip_dirichlet && c.kind == mesh::BoundaryKind::dirichlet) continue;
      const double g = c.value(x);
      if (c.kind == mesh::BoundaryKind::dirichlet) {
        t.dirichlet.x.push_back(x);
        t.dirichlet.g.push_back(g), t.dirichlet.w.push_back(c.weight), t.dirichlet.field.push_back(c.field);
      } else {
        BoundaryTargets::Set& s = t.flux;
        s.x.push_back(x);
        s.g.push_back(g), s.w.push_back(c.weight), s.field.push_back(c.field);
        const bool robin = c.kind == mesh::BoundaryKind::robin;
        s.alpha.push_back(robin ? c.alpha : 0.0);
        s.beta.push_back(robin ? c.beta : 1.0);
        for (int k = 0; k < dim; ++k) s.normal.push_back(b.normal(q, k));
      }
    }
  }
  // pins: Dirichlet points of their own (exact data does not cover them)
  for (const Pin& pin : problem.pins) {
    t.dirichlet.x.push_back(pin.x);
    t.dirichlet.g.push_back(pin.value), t.dirichlet.w.push_back(pin.weight), t.dirichlet.field.push_back(pin.field);
  }
  return t;
}

}  // namespace kpde::data
