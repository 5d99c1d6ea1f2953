#pragma once
/// A small RAII wrapper over the HDF5 C API (the OpenMPI flavour that PETSc links, used
/// serially here): files, groups, double datasets of rank 1-3, string and numeric
/// attributes. Objects are named by slash paths ("u", "history/loss"); "/" is the file.
/// Failures are kpde::InputError (bad/missing input file) or kpde::Error (write failure);
/// HDF5's own error printing is switched off in favour of these messages.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kpde::io {

class AtomicFile;

/// Shape of a dataset, slowest index first (C order), e.g. {ny, nx}.
using Shape = std::vector<std::size_t>;

/// Formats a shape as "[ny x nx]" for messages.
std::string shape_string(const Shape& shape);

/// One open HDF5 file. Move-only. A file made by create() is written under a temporary
/// name and appears under its final name only after close(); destroying it without
/// close() (an exception) discards it. Not thread-safe; no parallel (MPI-IO) access yet.
class H5File {
 public:
  /// Creates (truncates) `path` for writing through an AtomicFile; throws InputError
  /// when the directory is not writable.
  static H5File create(const std::string& path);
  /// Opens an existing file read-only; throws InputError naming the path when it is
  /// missing or not an HDF5 file.
  static H5File open(const std::string& path);

  H5File(H5File&& other) noexcept;
  H5File& operator=(H5File&& other) noexcept;
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;
  /// Closes the file; a created file that was not close()d is discarded.
  ~H5File();

  /// Flushes and closes; for a created file, renames it to its final name.
  void close();
  /// The final path of the file.
  const std::string& path() const noexcept { return path_; }

  /// Creates group `group` (and missing parents) if it does not exist yet.
  void create_group(const std::string& group);
  /// Writes `data` (row-major, size = product of `shape`, rank 1-3) as a float64 dataset
  /// `name`, creating parent groups. For rank >= 2 and at least `chunk_threshold`
  /// elements the dataset is chunked and gzip-compressed at `gzip_level` (0 = never).
  void write(const std::string& name, const std::vector<double>& data, const Shape& shape,
             int gzip_level = 4, std::size_t chunk_threshold = 65536);
  /// Reads dataset `name` as doubles; its shape is stored in `*shape` when given.
  /// Throws InputError naming file and dataset when it is missing.
  std::vector<double> read(const std::string& name, Shape* shape = nullptr) const;
  /// Reads dataset `name` and checks that its shape equals `expected`; otherwise throws
  /// InputError naming file, dataset and the expected vs actual shape.
  std::vector<double> read_checked(const std::string& name, const Shape& expected) const;
  /// Shape of dataset `name`; throws InputError when it is missing.
  Shape shape(const std::string& name) const;
  /// Whether a link `name` (dataset or group) exists, checking each path component.
  bool exists(const std::string& name) const;
  /// Full paths (no leading '/') of every dataset under `group`, recursively, sorted.
  std::vector<std::string> list_datasets(const std::string& group = "/") const;

  /// Sets a string attribute `attr` on object `object` ("/" = the file), replacing it.
  void set_attribute(const std::string& object, const std::string& attr,
                     const std::string& value);
  /// Sets a float64 scalar attribute (integers up to 2^53 round-trip exactly).
  void set_attribute(const std::string& object, const std::string& attr, double value);
  /// Overload so that string literals do not pick the double overload.
  void set_attribute(const std::string& object, const std::string& attr, const char* value) {
    set_attribute(object, attr, std::string(value));
  }
  /// Reads a string attribute (fixed or variable length); InputError when missing.
  std::string string_attribute(const std::string& object, const std::string& attr) const;
  /// Reads a numeric scalar attribute as double; InputError when missing.
  double number_attribute(const std::string& object, const std::string& attr) const;
  /// Whether object `object` has attribute `attr`.
  bool has_attribute(const std::string& object, const std::string& attr) const;

 private:
  H5File() = default;
  void release() noexcept;
  std::string where(const std::string& name) const;
  std::int64_t id_ = -1;  // hid_t
  std::string path_;
  std::unique_ptr<AtomicFile> atomic_;
};

}  // namespace kpde::io
