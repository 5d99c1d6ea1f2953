#pragma once
/// The model behind a kpde_model handle (kpde.h): a PINN network with one flat parameter
/// buffer, its problem (for physics-informed steps and hard Dirichlet data), its input
/// scaling, an Adam state, and the communicator its training is spread over.
/// Every function throws kpde::InputError (bad argument: status 2) or kpde::Error
/// (status 1); capi.cpp turns them into status codes.
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "data/problem.hpp"
#include "data/residual.hpp"
#include "io/model_file.hpp"
#include "nn/network.hpp"
#include "optim/adam.hpp"
#include "pinn/settings.hpp"
#include "train/comm.hpp"

namespace kpde::pinn {
template <class T>
class PinnObjective;
}

namespace kpde::capi {

/// Number of quantities (set bits) in a KPDE_U ... KPDE_LAP mask.
int quantity_count(unsigned mask);

/// What a handle points to; T-independent face of CModel<T>.
class Model {
 public:
  virtual ~Model() = default;
  virtual int dim() const = 0;
  virtual int time_axis() const = 0;
  virtual std::int64_t n_params() const = 0;
  virtual std::int64_t steps() const = 0;
  /// x [n][dim] -> out [n][quantity_count(mask)], columns in bit order.
  virtual void eval(std::int64_t n, const double* x, unsigned mask, double* out) = 0;
  virtual void get_params(std::int64_t n, double* p) const = 0;
  virtual void set_params(std::int64_t n, const double* p) = 0;
  virtual void set_learning_rate(double lr) = 0;
  /// One Adam step on (1/N) sum_p w_p (u_p - t_p)^2 over all ranks; returns the loss before it.
  virtual double train_supervised(std::int64_t n, const double* x, const double* target, const double* weight) = 0;
  /// One Adam step on the problem's PINN loss; returns the weighted loss before it.
  virtual double train_physics(std::int64_t n_int, const double* x_int, std::int64_t n_bnd, const double* x_bnd) = 0;
  virtual void save(const std::string& path) const = 0;
  virtual void save_state(const std::string& path) const = 0;
  virtual void load_state(const std::string& path) = 0;
};

/// Where a model comes from: a config, or a model file.
struct ModelSource {
  io::ModelFile file;                       ///< architecture, problem text, scaling, params (file models)
  pinn::ModelSettings settings;             ///< the network
  pinn::PinnSettings pinn;                  ///< collocation settings (hard Dirichlet data)
  std::unique_ptr<data::Problem> problem;   ///< loaded problem (config models; hard-Dirichlet file models)
  std::vector<double> weights{1, 1, 1};     ///< term weights residual, dirichlet, neumann
  optim::AdamOptions adam;                  ///< the optimiser
  bool from_config = false;
  std::string name;                         ///< the file, for messages
};

std::unique_ptr<Model> model_from_config(const std::string& path, MPI_Comm comm);
std::unique_ptr<Model> model_from_file(const std::string& path, MPI_Comm comm);

/// The implementation, in the network's precision T (float or double).
template <class T>
class CModel : public Model {
 public:
  CModel(ModelSource source, MPI_Comm comm);
  ~CModel() override;

  int dim() const override { return source_.file.input_dim(); }
  int time_axis() const override { return source_.file.time_axis; }
  std::int64_t n_params() const override { return net_.n_params(); }
  std::int64_t steps() const override { return adam_ ? adam_->n_steps() : 0; }
  void eval(std::int64_t n, const double* x, unsigned mask, double* out) override;
  void get_params(std::int64_t n, double* p) const override;
  void set_params(std::int64_t n, const double* p) override;
  void set_learning_rate(double lr) override;
  double train_supervised(std::int64_t n, const double* x, const double* target, const double* weight) override;
  double train_physics(std::int64_t n_int, const double* x_int, std::int64_t n_bnd, const double* x_bnd) override;
  void save(const std::string& path) const override;
  void save_state(const std::string& path) const override;
  void load_state(const std::string& path) override;

  const nn::Network<T>& network() const { return net_; }
  const Vec<T>& params() const { return params_; }

 private:
  /// The problem, loaded from the model file's problem text on first use.
  const data::Problem& problem();
  /// z = (x - offset) * scale as the network's input [1][n][d] (x itself when T is
  /// double and the scaling is the identity: no copy).
  Arr3<const T> network_input(std::int64_t n, const double* x);
  bool identity_scaling() const;
  /// grad (this rank's share) summed over the ranks together with loss; then one Adam step.
  double reduce_and_step(double loss);

  ModelSource source_;
  MPI_Comm mpi_ = MPI_COMM_NULL;  // a duplicate of the user's communicator (or NULL)
  train::Comm comm_;
  nn::Network<T> net_;
  Vec<T> params_, grad_;
  std::optional<optim::Adam<T>> adam_;
  // buffers reused across calls
  Mat<T> z_;
  Kokkos::View<T*, HostSpace> y_;
  nn::Workspace<T> ws_;
  std::vector<double> reduce_;
  std::unique_ptr<pinn::PinnObjective<T>> physics_;
  std::vector<Vec<T>> term_grads_;
};

/// Throws InputError "<what>: entry <index> is <value>; expected finite numbers" for the
/// first non-finite entry of v[0..n).
void require_finite(const double* v, std::int64_t n, const char* what, int row_length = 1);

}  // namespace kpde::capi
