#pragma once
/// A trained PINN as a model file (model.h5, io/model_file.hpp) and back: the network
/// (its `model:` section as the architecture), the parameters, the problem it was
/// trained for and its output transform; evaluation of u and its exact input
/// derivatives (from the derivative channels, not finite differences) at any points.
///
/// With input scaling z = (x - offset) * scale the network N(z) gives
///   du/dx_a = s_a dN/dz_a,   d2u/dx_a dx_b = s_a s_b d2N/dz_a dz_b,
/// then the output transform (hard Dirichlet data: u = g + phi N) in x.
#include <memory>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "data/problem.hpp"
#include "io/model_file.hpp"
#include "nn/network.hpp"

namespace kpde::pinn {

/// A quantity of the solution at a point: u, u_a (first derivative along axis a),
/// u_ab (second derivative), or lap (the sum of u_aa over the axes that are not time).
struct Quantity {
  std::string name;      ///< as asked for ("u_t", "lap")
  int order = 0;         ///< 0, 1 or 2
  int i = -1, j = -1;    ///< axes (i <= j)
  bool laplacian = false;
};

/// Parses a quantity name for axes x, y, z (the first dim of them; the time axis may
/// also be called t): u, u_x, u_xx, u_xy, u_yx, u_t, u_tt, u_xt, lap. InputError listing
/// the valid names otherwise.
Quantity parse_quantity(const std::string& name, int dim, int time_axis);
/// The axis names of a model with `dim` axes: x, y, z (the first dim).
std::vector<std::string> axis_names(int dim);

/// The model file of a trained PINN. architecture: the resolved `model:` section;
/// problem_text: the resolved `problem:` section, relative to source_directory.
template <class T>
io::ModelFile make_model_file(const nn::Network<T>& net, const Vec<const T>& params, const std::string& architecture,
                              const data::Problem& problem, const std::string& problem_text,
                              const std::string& source_directory, bool hard_dirichlet);

/// model.init_from: the parameters of a checkpoint.h5 or model.h5 into params, for net:
/// of the same network, or of the diagonal-covariance version of this full-covariance
/// Gaussian-feature network (the off-diagonal entries of U start at 0). InputError
/// naming the file otherwise.
template <class T>
void load_init_params(const std::string& path, const nn::Network<T>& net, const Vec<T>& params);

/// A trained PINN, loaded and checked.
class TrainedPinn {
 public:
  /// read_model_file(path, "pinn"), then the network from the architecture (its
  /// parameter count must match), then (hard Dirichlet data) the problem. InputError
  /// naming the file and what was expected otherwise.
  explicit TrainedPinn(const std::string& path);
  /// The same from a file's contents; `name` stands for the file in messages.
  TrainedPinn(io::ModelFile file, const std::string& name);
  ~TrainedPinn();
  TrainedPinn(TrainedPinn&&) noexcept;

  const io::ModelFile& file() const;
  int dim() const;
  int n_params() const;
  /// The quantities q at points x [n][dim]: out [n][q.size()], row-major.
  std::vector<double> evaluate(const Mat<const double>& x, const std::vector<Quantity>& q) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kpde::pinn
