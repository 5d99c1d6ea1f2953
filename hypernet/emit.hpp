#pragma once
/// Using a trained hypernetwork: a spec in, a PINN out, no training.
///
/// Round 0: the model's forward pass gives the hidden tensors of the target network and
/// an output layer (normalised units). With least_squares (the default) the output layer
/// is instead the least-squares fit of the spec's rows (pinn_loss.hpp: residual at up to
/// n_interior domain nodes, Dirichlet and Neumann at every band node): a 33-unknown
/// linear solve. The layer is multiplied by sigma (input.hpp).
/// Refinement (HyPINO's delta PINNs), rounds 1..K: the residual of the current sum of
/// PINNs on the grid, r_D = g - u on the Dirichlet mask, r_N = h - n.grad u on the
/// Neumann mask, r_f = f - L[u] on the domain, is a new spec with the same masks and
/// coefficients; the PINN emitted for it is added to the sum (the problem is linear).
/// With joint projection (the default) the output layers of all PINNs so far are then
/// refitted together to the original spec: the delta PINNs' hidden layers extend the
/// basis, and the fit over the extended basis never increases the least-squares misfit.
///
/// The sum of K+1 PINNs of width 32 is one PINN of width 32 (K+1) with block-diagonal
/// hidden layers (the fixed features are shared): merged_params() gives it, so the result
/// is an ordinary kpde PINN model file.
#include <string>
#include <vector>

#include "hypernet/model_io.hpp"
#include "hypernet/pinn_loss.hpp"
#include "hypernet/spec.hpp"
#include "io/model_file.hpp"
#include "nn/network.hpp"

namespace kpde::hypernet {

struct EmitOptions {
  int refine = 0;              ///< K refinement rounds
  bool least_squares = true;   ///< output layers by least squares (else the heads')
  /// With least_squares: after every round, the output layers of all members are one
  /// least-squares fit of the original spec over their 32 (r + 1) basis functions (a
  /// growing basis); else each member's layer is fitted to its round's residual spec.
  bool joint = true;
  int n_interior = 4096;       ///< domain nodes of the least-squares rows (all when fewer)
  std::uint64_t seed = 0;      ///< which domain nodes
  LossSettings loss;           ///< least-squares row weights
};

/// Mean squares of a spec's residual channels for the current sum of PINNs.
struct RoundInfo {
  double mse_f = 0, mse_d = 0, mse_n = 0;  ///< over the domain / Dirichlet / Neumann nodes
  double mse_reference = -1;               ///< mean over all pixels of (u mask - reference)^2 (-1: no reference)
  double scale = 1;                        ///< sigma of the round's spec
};

struct Emitted {
  std::vector<std::vector<double>> members;  ///< each PINN's 5,409 parameters (sigma applied)
  std::vector<RoundInfo> rounds;             ///< after round 0, 1, ..., K (size K + 1)
  double model_seconds = 0;                  ///< time in the hypernetwork's forward passes
  double total_seconds = 0;
  /// The members as one PINN of width 32 (K+1) (see the file comment).
  std::vector<double> merged_params() const;
  /// Its network spec.
  nn::NetworkSpec merged_spec() const;
  /// Its `model:` section (the architecture of a kpde PINN model file).
  std::string merged_architecture() const;
  /// It as a PINN model file (kind pinn, float64) on the box `map` maps onto [-1,1]^2
  /// (input offset = the box centre, scale = 2 / side); problem fields left empty.
  io::ModelFile model_file(const BoxMap& map, int time_axis, const std::string& description) const;
};

/// Emits the PINN(s) for a validated spec.
Emitted emit(const TrainedHypernet& hypernet, const Spec& spec, const EmitOptions& options);

/// u, u_x, u_y, u_xx, u_yy [5][n*n] of a sum of target PINNs on the spec's grid nodes.
std::vector<double> grid_channels(const std::vector<std::vector<double>>& members, int n);

}  // namespace kpde::hypernet
