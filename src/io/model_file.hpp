#pragma once
/// model.h5: one self-describing HDF5 file per trained model, for every method (schema
/// in docs/outputs.md). The method's layer turns `architecture` back into its model;
/// this layer only stores, reads and checks.
///
/// Root attributes: format = "kpde-model", schema_version, kind ("pinn", ...),
/// kpde_version, precision ("float64" | "float32"), architecture (the resolved YAML of
/// the `model:` section), problem (the resolved YAML of the `problem:` section),
/// problem_fingerprint (FNV-1a 64 of `problem`, hex), source_directory (what relative
/// paths in `problem` are relative to), coordinates (the input axes: "x", "x,y",
/// "x,y,z"), time_axis (-1: none), output_transform ("none", or "hard_dirichlet":
/// u = g + phi N with g and phi from the problem), description. Datasets: params [n]
/// (float64; float32 for float32 models, whose values it holds exactly), input/offset [d], input/scale [d] (the network sees
/// (x - offset) * scale), domain/lo [d], domain/hi [d] (the problem's bounding box);
/// a method's own arrays under arrays/NAME (their names in the root attribute `arrays`,
/// comma-separated; e.g. a DeepONet's sensor locations and output points).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kpde::io {

struct ModelFile {
  static constexpr int kSchemaVersion = 1;
  std::string kind;
  std::string precision = "float64";
  std::string architecture;
  std::string problem;
  std::string problem_fingerprint;
  std::string source_directory;
  std::vector<std::string> coordinates;  ///< names of the d input axes
  std::vector<std::string> outputs;      ///< a system's fields, the network's outputs (empty: one, u)
  int time_axis = -1;                    ///< the axis that is time, or -1
  std::string output_transform = "none";
  std::string description;
  std::string kpde_version;
  int schema_version = kSchemaVersion;
  std::vector<double> params;
  std::vector<double> input_offset, input_scale;  ///< [d]
  std::vector<double> domain_lo, domain_hi;       ///< [d]
  struct Array {
    std::vector<double> values;     ///< row-major
    std::vector<std::size_t> shape;  ///< rank 1-3
  };
  std::vector<std::pair<std::string, Array>> arrays;  ///< the method's own arrays
  /// The array `name`; InputError naming `path` when absent.
  const Array& array(const std::string& name, const std::string& path) const;
  int input_dim() const { return static_cast<int>(coordinates.size()); }
};

/// FNV-1a 64 of text as 16 hex digits.
std::string fingerprint(const std::string& text);

/// Writes m to path (under a temporary name, renamed when complete); the schema
/// version and kpde version are this kpde's. Throws InputError when the directory is
/// not writable, kpde::Error on a write failure, and Error when m is inconsistent
/// (offset/scale/domain not of length d).
void write_model_file(const std::string& path, const ModelFile& m);

/// Reads and checks a model file: InputError naming the file and what was expected when
/// it is missing, not HDF5 or truncated, not a kpde model, of a newer schema, of another
/// kind than `expected_kind` (unless empty), or when an attribute or dataset is missing
/// or has the wrong shape.
ModelFile read_model_file(const std::string& path, const std::string& expected_kind = "");

}  // namespace kpde::io
