#include "operators/operator_physics.hpp"

#include <string>

#include "core/error.hpp"
#include "mesh/sampling.hpp"

namespace kpde::operators {

namespace {

Mat<double> points_of(const data::BoundaryTargets::Set& s, int dim) {
  Mat<double> x("kpde::operators::boundary", s.size(), dim);
  for (int q = 0; q < s.size(); ++q)
    for (int k = 0; k < dim; ++k) x(q, k) = s.x[static_cast<std::size_t>(q)][static_cast<std::size_t>(k)];
  return x;
}

}  // namespace

OperatorPhysics OperatorPhysics::make(std::shared_ptr<const data::Problem> problem, const Mat<double>& sensors,
                                      int n_boundary, std::uint64_t seed) {
  OperatorPhysics ph;
  const int d = problem->dim;
  KPDE_REQUIRE(static_cast<int>(sensors.extent(1)) == d, InputError,
               "physics.problem: a " + std::to_string(d) + "-D problem, but the input function's sensors are " +
                   std::to_string(sensors.extent(1)) + "-D");
  const std::vector<int> parts = problem->constrained_parts();
  KPDE_REQUIRE(!parts.empty(), InputError, "physics.problem: no boundary or initial conditions (the operator's "
                                           "solution would not be unique)");
  ph.residual = std::make_shared<data::Residual>(*problem, false);
  ph.x = sensors;
  ph.at_x = ph.residual->at(Mat<const double>(sensors));
  const mesh::BoundarySamples b = mesh::sample_boundary(*problem->geometry, n_boundary, seed, parts);
  ph.boundary = data::boundary_targets(*problem, b, false);
  ph.x_dirichlet = points_of(ph.boundary.dirichlet, d);
  ph.x_flux = points_of(ph.boundary.flux, d);
  ph.problem = std::move(problem);
  return ph;
}

}  // namespace kpde::operators
