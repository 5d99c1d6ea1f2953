#include "hypernet/model_io.hpp"

#include <cstdlib>
#include <fstream>

#include "config/config.hpp"
#include "core/error.hpp"
#include "hypernet/config.hpp"
#include "io/model_file.hpp"

namespace kpde::hypernet {

void write_hypernet_file(const std::string& path, const std::string& architecture, const std::vector<double>& params,
                         const std::string& description) {
  io::ModelFile m;
  m.kind = "hypernet";
  m.precision = "float32";
  m.architecture = architecture;
  m.problem = "";
  m.coordinates = {"x", "y"};
  m.input_offset = {0, 0};
  m.input_scale = {1, 1};
  m.domain_lo = {-1, -1};
  m.domain_hi = {1, 1};
  m.description = description;
  m.params.resize(params.size());
  for (std::size_t k = 0; k < params.size(); ++k) m.params[k] = static_cast<double>(static_cast<float>(params[k]));
  io::write_model_file(path, m);
}

TrainedHypernet read_hypernet_file(const std::string& path) {
  const io::ModelFile m = io::read_model_file(path, "hypernet");
  TrainedHypernet t;
  t.path = path;
  t.architecture = m.architecture;
  t.description = m.description;
  try {
    config::Document doc = config::Document::load_string(m.architecture, path + " (architecture)");
    t.spec = load_model_spec(doc.root());
  } catch (const InputError& e) {
    throw InputError("hypernetwork model '" + path + "': its architecture does not parse: " + e.what());
  }
  const Model<float> model(t.spec);
  if (m.params.size() != model.n_params())
    throw InputError("hypernetwork model '" + path + "': " + std::to_string(m.params.size()) +
                     " parameters, but its architecture (" + t.spec.describe() + ") has " +
                     std::to_string(model.n_params()));
  t.params = m.params;
  return t;
}

std::string default_hypernet_model() {
  if (const char* env = std::getenv("KPDE_HYPERNET_MODEL"); env && *env) return env;
#ifdef KPDE_SOURCE_DIR
  const std::string in_tree = std::string(KPDE_SOURCE_DIR) + "/hypernet/models/hypino_kpde.h5";
  if (std::ifstream(in_tree).good()) return in_tree;
#endif
  return "hypernet/models/hypino_kpde.h5";
}

}  // namespace kpde::hypernet
