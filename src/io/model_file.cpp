#include "io/model_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "core/version.hpp"
#include "io/hdf5.hpp"

namespace kpde::io {

namespace {

constexpr const char* kFormat = "kpde-model";

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t a = 0;
  while (a <= s.size()) {
    const std::size_t b = s.find(',', a);
    out.push_back(s.substr(a, b == std::string::npos ? std::string::npos : b - a));
    if (b == std::string::npos) break;
    a = b + 1;
  }
  return out;
}

}  // namespace

std::string fingerprint(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
  return b;
}

void write_model_file(const std::string& path, const ModelFile& m) {
  const std::size_t d = m.coordinates.size();
  KPDE_REQUIRE(d >= 1 && m.input_offset.size() == d && m.input_scale.size() == d && m.domain_lo.size() == d &&
                   m.domain_hi.size() == d,
               Error, "write_model_file: input offset, scale and domain need one entry per coordinate");
  H5File f = H5File::create(path);
  f.set_attribute("/", "format", kFormat);
  f.set_attribute("/", "schema_version", double(ModelFile::kSchemaVersion));
  f.set_attribute("/", "kind", m.kind);
  f.set_attribute("/", "kpde_version", kVersion);
  f.set_attribute("/", "precision", m.precision);
  f.set_attribute("/", "architecture", m.architecture);
  f.set_attribute("/", "problem", m.problem);
  f.set_attribute("/", "problem_fingerprint", fingerprint(m.problem));
  f.set_attribute("/", "source_directory", m.source_directory);
  f.set_attribute("/", "coordinates", join(m.coordinates));
  if (!m.outputs.empty()) f.set_attribute("/", "outputs", join(m.outputs));
  f.set_attribute("/", "time_axis", double(m.time_axis));
  f.set_attribute("/", "output_transform", m.output_transform);
  f.set_attribute("/", "description", m.description);
  if (m.precision == "float32") {
    // float32 models store float32 parameters (exact: they are float32 values); half the
    // file of a large model (the hypernetwork)
    f.create_dataset("params", H5File::DType::float32, {m.params.size()}, {std::min<std::size_t>(m.params.size(), 1 << 20)}, 0);
    f.write_rows("params", 0, m.params.size(), m.params.data());
  } else {
    f.write("params", m.params, {m.params.size()});
  }
  f.write("input/offset", m.input_offset, {d});
  f.write("input/scale", m.input_scale, {d});
  f.write("domain/lo", m.domain_lo, {d});
  f.write("domain/hi", m.domain_hi, {d});
  std::vector<std::string> names;
  for (const auto& [name, a] : m.arrays) {
    KPDE_REQUIRE(!name.empty() && name.find_first_of(",/") == std::string::npos, Error,
                 "write_model_file: array name '" + name + "'");
    f.write("arrays/" + name, a.values, a.shape);
    names.push_back(name);
  }
  if (!names.empty()) f.set_attribute("/", "arrays", join(names));
  f.close();
}

ModelFile read_model_file(const std::string& path, const std::string& expected_kind) {
  const H5File f = H5File::open(path);
  const auto bad = [&](const std::string& why) { throw InputError("model file " + path + ": " + why); };
  if (!f.has_attribute("/", "format") || f.string_attribute("/", "format") != kFormat)
    bad("not a kpde model file (expected the attribute format = \"kpde-model\"; `kpde solve` writes model.h5)");
  for (const char* a : {"schema_version", "kind", "precision", "architecture", "problem", "coordinates", "time_axis",
                        "output_transform"})
    if (!f.has_attribute("/", a)) bad(std::string("the attribute '") + a + "' is missing");
  ModelFile m;
  const double schema = f.number_attribute("/", "schema_version");
  if (!(schema >= 1 && schema == static_cast<int>(schema))) bad("schema_version must be a positive integer");
  if (schema > ModelFile::kSchemaVersion)
    bad("written by a newer kpde (model schema " + std::to_string(static_cast<int>(schema)) + "; this kpde reads schema " +
        std::to_string(ModelFile::kSchemaVersion) + ")");
  m.schema_version = static_cast<int>(schema);
  m.kind = f.string_attribute("/", "kind");
  if (!expected_kind.empty() && m.kind != expected_kind)
    bad("a '" + m.kind + "' model; expected a '" + expected_kind + "' model");
  m.precision = f.string_attribute("/", "precision");
  if (m.precision != "float64" && m.precision != "float32")
    bad("precision '" + m.precision + "' (expected float64 or float32)");
  m.architecture = f.string_attribute("/", "architecture");
  m.problem = f.string_attribute("/", "problem");
  m.problem_fingerprint =
      f.has_attribute("/", "problem_fingerprint") ? f.string_attribute("/", "problem_fingerprint") : "";
  if (!m.problem_fingerprint.empty() && m.problem_fingerprint != fingerprint(m.problem))
    bad("its problem text does not match its problem_fingerprint (the file was altered)");
  m.coordinates = split(f.string_attribute("/", "coordinates"));
  const std::size_t d = m.coordinates.size();
  if (d < 1 || d > 3) bad("coordinates '" + join(m.coordinates) + "': expected 1 to 3 names");
  if (f.has_attribute("/", "outputs")) m.outputs = split(f.string_attribute("/", "outputs"));
  const double ta = f.number_attribute("/", "time_axis");
  if (!(ta >= -1 && ta < double(d) && ta == static_cast<int>(ta)))
    bad("time_axis " + std::to_string(ta) + " (expected -1 or an axis below " + std::to_string(d) + ")");
  m.time_axis = static_cast<int>(ta);
  m.output_transform = f.string_attribute("/", "output_transform");
  if (m.output_transform != "none" && m.output_transform != "hard_dirichlet")
    bad("output_transform '" + m.output_transform + "' (expected none or hard_dirichlet)");
  if (f.has_attribute("/", "source_directory")) m.source_directory = f.string_attribute("/", "source_directory");
  if (f.has_attribute("/", "kpde_version")) m.kpde_version = f.string_attribute("/", "kpde_version");
  if (f.has_attribute("/", "description")) m.description = f.string_attribute("/", "description");
  if (!f.exists("params")) bad("the dataset 'params' is missing");
  const Shape ps = f.shape("params");
  if (ps.size() != 1 || ps[0] == 0) bad("'params' has shape " + shape_string(ps) + ", expected [n_params]");
  m.params = f.read("params");
  for (const char* name : {"input/offset", "input/scale", "domain/lo", "domain/hi"}) {
    if (!f.exists(name)) bad(std::string("the dataset '") + name + "' is missing");
    if (f.shape(name) != Shape{d})
      bad(std::string("'") + name + "' has shape " + shape_string(f.shape(name)) + ", expected [" + std::to_string(d) +
          "] (one entry per coordinate)");
  }
  m.input_offset = f.read("input/offset");
  m.input_scale = f.read("input/scale");
  m.domain_lo = f.read("domain/lo");
  m.domain_hi = f.read("domain/hi");
  for (std::size_t k = 0; k < d; ++k)
    if (!(m.input_scale[k] != 0) || !std::isfinite(m.input_scale[k]) || !std::isfinite(m.input_offset[k]))
      bad("input/scale and input/offset must be finite, the scale nonzero");
  if (f.has_attribute("/", "arrays"))
    for (const std::string& name : split(f.string_attribute("/", "arrays"))) {
      if (!f.exists("arrays/" + name)) bad("the dataset 'arrays/" + name + "' is missing");
      ModelFile::Array a;
      a.values = f.read("arrays/" + name, &a.shape);
      m.arrays.emplace_back(name, std::move(a));
    }
  return m;
}

const ModelFile::Array& ModelFile::array(const std::string& name, const std::string& path) const {
  for (const auto& [n, a] : arrays)
    if (n == name) return a;
  throw InputError("model file " + path + ": the array 'arrays/" + name + "' is missing (a " + kind + " model has it)");
}

}  // namespace kpde::io
