#pragma once
/// The loss history of a training run: named series of numbers (step, loss, one per
/// loss term, lr, wall_s, stage, and the monitored quantities), each its own length.
/// Written once by save() into an HDF5 group (a checkpoint, solution.h5) and read back
/// by load().
#include <string>
#include <utility>
#include <vector>

namespace kpde::io {
class H5File;
}

namespace kpde::train {

class History {
 public:
  /// Series `name`, created empty on first use (series keep their order of creation).
  std::vector<double>& operator[](const std::string& name);
  /// Series `name`, or null.
  const std::vector<double>* find(const std::string& name) const;
  /// Every series in order of creation.
  const std::vector<std::pair<std::string, std::vector<double>>>& series() const { return series_; }
  /// Entries of series "step" (the per-step records).
  std::size_t size() const;

  /// Every non-empty series as a 1-D dataset `group/<name>`.
  void save(io::H5File& file, const std::string& group) const;
  /// Replaces this history by the datasets under `group` (none: empty).
  void load(const io::H5File& file, const std::string& group);

 private:
  std::vector<std::pair<std::string, std::vector<double>>> series_;
};

}  // namespace kpde::train
