#pragma once
/// Hypernetwork model files: a kpde model.h5 (io/model_file.hpp) of kind "hypernet",
/// whose architecture attribute is the resolved `model:` section (read back with
/// load_model_spec), with float32 parameters (a model of a few million parameters stays
/// a few megabytes) and a description saying how it was trained.
#include <string>
#include <vector>

#include "hypernet/model.hpp"

namespace kpde::hypernet {

struct TrainedHypernet {
  std::string path;
  ModelSpec spec;
  std::string architecture;  ///< the model section's YAML
  std::string description;
  std::vector<double> params;
};

/// Writes params (rounded to float32) with the architecture text (a `model:` section).
void write_hypernet_file(const std::string& path, const std::string& architecture, const std::vector<double>& params,
                         const std::string& description);

/// Reads and checks a hypernetwork model file: InputError naming the file when it is not
/// one, when its architecture does not parse, or when the parameter count differs from
/// the architecture's.
TrainedHypernet read_hypernet_file(const std::string& path);

/// The shipped model: $KPDE_HYPERNET_MODEL when set, else hypernet/models/hypino_kpde.h5
/// next to the sources (KPDE_SOURCE_DIR at build time), else the installed copy.
std::string default_hypernet_model();

}  // namespace kpde::hypernet
