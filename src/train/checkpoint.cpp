#include "train/checkpoint.hpp"

#include "core/error.hpp"
#include "core/strings.hpp"
#include "core/version.hpp"

namespace kpde::train {

namespace {

constexpr int kSchema = 1;
constexpr const char* kFormat = "kpde-checkpoint";

bool is_checkpoint(const io::H5File& f) {
  return f.has_attribute("/", "format") && f.string_attribute("/", "format") == kFormat;
}

}  // namespace

void refuse_resume(const io::H5File& f, const std::string& why) {
  throw InputError(f.path() + ": cannot resume: " + why);
}

io::H5File begin_checkpoint(const std::string& path, const CheckpointIdentity& id, const CheckpointPosition& at,
                            const std::vector<double>& params, const std::vector<double>& weights,
                            const std::vector<std::string>& term_names) {
  io::H5File f = io::H5File::create(path);
  f.set_attribute("/", "format", kFormat);
  f.set_attribute("/", "schema_version", double(kSchema));
  f.set_attribute("/", "kpde_version", kVersion);
  f.set_attribute("/", "objective", id.objective);
  f.set_attribute("/", "precision", id.precision);
  f.set_attribute("/", "fingerprint", id.fingerprint);
  f.set_attribute("/", "stage", double(at.stage));
  f.set_attribute("/", "step_in_stage", double(at.step_in_stage));
  f.set_attribute("/", "global_step", double(at.global_step));
  f.set_attribute("/", "wall_s", at.wall_s);
  f.write("params", params, {params.size()});
  f.write("weights", weights, {weights.size()});
  f.set_attribute("weights", "terms", join(term_names));
  return f;
}

io::H5File open_checkpoint(const std::string& path, const CheckpointIdentity& id) {
  io::H5File f = io::H5File::open(path);
  if (!is_checkpoint(f))
    refuse_resume(f, f.has_attribute("/", "kind") ? "a checkpoint of an older kpde (before checkpoint schema 1); rerun from the start"
                                           : "not a kpde checkpoint");
  const double schema = f.number_attribute("/", "schema_version");
  if (schema > kSchema)
    refuse_resume(f, "written by a newer kpde (checkpoint schema " + format_number(schema) + "; this kpde reads schema " +
                  std::to_string(kSchema) + ")");
  if (f.string_attribute("/", "objective") != id.objective)
    refuse_resume(f, "it is a checkpoint of a '" + f.string_attribute("/", "objective") + "' run, not of a '" + id.objective +
                  "' run");
  if (f.string_attribute("/", "fingerprint") != id.fingerprint)
    refuse_resume(f, "it was written for a different problem, model or training configuration (compare its run's "
              "config.resolved.yaml with this config)");
  return f;
}

CheckpointPosition read_position(const io::H5File& f, int n_stages) {
  CheckpointPosition at;
  at.stage = static_cast<int>(f.number_attribute("/", "stage"));
  if (at.stage < 0 || at.stage > n_stages) refuse_resume(f, "stage " + std::to_string(at.stage) + " is out of range");
  at.step_in_stage = static_cast<long>(f.number_attribute("/", "step_in_stage"));
  at.global_step = static_cast<long>(f.number_attribute("/", "global_step"));
  at.wall_s = f.number_attribute("/", "wall_s");
  return at;
}

std::vector<double> read_params(const io::H5File& f, std::size_t n) { return f.read_checked("params", {n}); }

std::vector<double> read_weights(const io::H5File& f, const std::vector<std::string>& term_names) {
  if (f.string_attribute("weights", "terms") != join(term_names))
    refuse_resume(f, "its loss terms are " + f.string_attribute("weights", "terms") + ", this run's " + join(term_names));
  return f.read_checked("weights", {term_names.size()});
}

std::vector<double> checkpoint_weights(const std::string& path, const std::vector<std::string>& term_names) {
  const io::H5File f = io::H5File::open(path);
  if (!is_checkpoint(f)) return {};
  if (!f.exists("weights") || f.string_attribute("weights", "terms") != join(term_names)) return {};
  return f.read_checked("weights", {term_names.size()});
}

}  // namespace kpde::train
