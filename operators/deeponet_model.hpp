#pragma once
/// A DeepONet's model.h5 (io/model_file.hpp, kind "deeponet"; docs/outputs.md):
///   architecture: the config's `model:` section (type deeponet | pi_deeponet, basis,
///                 branch, trunk, bias, seed) plus the sizes the data decided:
///                 sensors, coord_dim, outputs, data (the data kind), and image
///                 ([C, H, W], a CNN branch's input);
///   problem:      pi_deeponet: the resolved `physics.problem` section, else empty;
///   params:       the flat parameters (operators/deeponet.hpp);
///   arrays/sensors [m][d_in]: where the input function is read (antiderivative data);
///   arrays/points [P][d]: the training data's output points;
///   coordinates, domain/lo, domain/hi: the output points' axes and bounding box.
/// `kpde eval MODEL --inputs FILE` evaluates it on input functions.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/types.hpp"
#include "io/model_file.hpp"
#include "nn/channels.hpp"
#include "operators/deeponet.hpp"

namespace kpde::operators {

/// The `model:` section's keys into spec (sizes the data decides are left alone); returns
/// the type (deeponet | pi_deeponet). Errors name the file, line and key.
std::string read_model_section(const config::Node& model, DeepOnetSpec& spec);

struct TrainedDeepOnet {
  std::string type, data_kind, problem, precision;
  DeepOnetSpec spec;
  std::vector<double> params;
  Mat<double> sensors;  ///< [m][d_in] (empty when the inputs are not point values)
  Mat<double> points;   ///< [P][d]
};

/// The model file of a trained DeepONet: model_text is the config's `model:` section.
io::ModelFile deeponet_model_file(const std::string& model_text, const DeepOnetSpec& spec, const std::string& data_kind,
                                  const std::string& problem_text, const std::string& precision,
                                  std::vector<double> params, const Mat<double>& sensors, const Mat<double>& points);

/// Reads and checks model.h5 of kind deeponet: InputError naming the file and what is
/// wrong (not a DeepONet, parameters of the wrong length, arrays missing or misshapen).
TrainedDeepOnet read_deeponet_model(const std::string& path);

/// G(u_b)(y_j) and its derivative channels for input functions u [N][m] at points y
/// [P][d], in double: [N][P][C][n_out] (batches of 256 functions).
Arr4<double> evaluate(const TrainedDeepOnet& model, const Mat<const double>& u, const Mat<const double>& y,
                      const nn::ChannelSpec& channels);

}  // namespace kpde::operators
