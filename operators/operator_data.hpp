#pragma once
/// Operator-learning data (docs/config.md, "kpde train (DeepONet)"; docs/datasets.md):
/// N samples of an input function at fixed sensors and the output at fixed points
/// (aligned data), read from `kpde generate` dataset files. A split of a config is one
/// entry or a list of entries, each
///   {file: dataset.h5, name}                     a dataset file, or
///   {generate: config.yaml, set: {key: value}, n, seed, name}
///                                                samples 0..n-1 of that generator's
///                                                (its keys overridden by `set`)
///                                                stream `seed`, generated on first use
///                                                into the cache folder and read from
///                                                there afterwards (data.generate is the
///                                                default generate config);
/// the entries' samples are concatenated, and each entry is a group (its `name`, by
/// default the data's own: the geometry of Darcy data, the reaction form of Fisher data)
/// whose errors are reported apart.
///
/// What the branch reads and the points, per kind (multi_task: MT-DeepONet's inputs):
///   antiderivative  u at the m sensors; s at P points of [0, 1]
///   darcy           an image [C][n][n]: log a (C = 1), and with multi_task the domain
///                   mask as a second channel (C = 2) and its interior nodes (where the
///                   equation holds; u = 0 at the others) as the output mask; u at the
///                   n^2 nodes (x_j, y_i) = (j/(n-1), 1 - i/(n-1)), node i n + j
///   fisher          (c1..c4, u0 at the P nodes): the reaction's coefficients (the task)
///                   and the initial value; u at the T P points (x_i, t_j), point j P + i
#include <array>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/types.hpp"

namespace kpde::operators {

/// Aligned operator data.
struct OperatorData {
  std::string kind;  ///< the datasets' kind (antiderivative, darcy, fisher)
  Mat<double> u;     ///< [N][m] the branch input of every sample (the input function at the sensors)
  Mat<double> s;     ///< [N][P n_out] output at the points (output o of point j at j n_out + o)
  Mat<double> y;     ///< [P][d] the points
  Mat<double> x;     ///< [m][d_in] the sensor locations (physics-informed training)
  Mat<double> mask;  ///< [N][P] the output's domain mask (MT-DeepONet: G is multiplied by it); empty: none
  std::vector<int> group;                ///< [N] group of every sample
  std::vector<std::string> group_names;  ///< group id -> name
  std::array<int, 3> image{0, 0, 0};     ///< [C][H][W] of gridded branch inputs (darcy); 0: none
  long n_samples() const { return static_cast<long>(u.extent(0)); }
};

/// The samples of a dataset file as operator data (kinds antiderivative, darcy,
/// fisher); InputError naming the file for another kind or a malformed file.
OperatorData read_operator_data(const std::string& path, bool multi_task);

/// Reads a split (one entry or a list, see above). default_generate: data.generate
/// resolved (empty: none); cache: the cache folder. Errors name file, line and key.
/// Every MPI rank calls this together (generation is collective).
OperatorData load_operator_split(const config::Node& split, const std::string& default_generate,
                                 const std::string& cache, bool multi_task, const config::Document& doc);

/// The samples of a concatenated; InputError when the sensors, points or outputs differ.
OperatorData concatenate(const std::vector<OperatorData>& parts, const std::string& where);

}  // namespace kpde::operators
