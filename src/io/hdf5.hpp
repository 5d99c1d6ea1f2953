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
/// close() (an exception) discards it. Not thread-safe; no parallel (MPI-IO) access yet:
/// ranks filter chunks themselves (filter_chunk) and one rank writes them (write_chunk).
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
  /// Element type of a dataset made by create_dataset().
  enum class DType { float64, float32, int32, uint8 };
  /// Creates dataset `name` (parent groups too) of `shape` (rank 1-4) and element type
  /// `type`, filled with zeros, to be written in slabs along axis 0 by write_rows().
  /// chunk: chunk shape (same rank; empty: contiguous, no compression); gzip_level
  /// 1-9 compresses chunked data (0: none). Replaces an existing dataset. Stores no
  /// creation or modification times (as create_strings()): equal writes, equal bytes.
  void create_dataset(const std::string& name, DType type, const Shape& shape,
                      const Shape& chunk = {}, int gzip_level = 0);
  /// Writes rows [first, first + count) along axis 0 of a dataset made by
  /// create_dataset(): `data` holds count * (product of the other extents) values,
  /// row-major, converted to the dataset's type by HDF5. Throws kpde::Error when the
  /// rows are out of range.
  void write_rows(const std::string& name, std::size_t first, std::size_t count, const double* data);
  /// Reads rows [first, first + count) along axis 0 of dataset `name` (any numeric
  /// type) as doubles. Throws InputError when the dataset is missing or the rows are
  /// out of range.
  std::vector<double> read_rows(const std::string& name, std::size_t first, std::size_t count) const;
  /// As read_rows, converted to float by HDF5.
  std::vector<float> read_rows_float(const std::string& name, std::size_t first, std::size_t count) const;
  /// Writes a 1-D dataset of variable-length UTF-8 strings (chunked and compressed
  /// above 64 entries).
  void write_strings(const std::string& name, const std::vector<std::string>& values);
  /// Creates a 1-D variable-length string dataset of n entries (all empty) for
  /// write_string_rows().
  void create_strings(const std::string& name, std::size_t n);
  /// Writes one stored chunk of a chunked dataset made by create_dataset(): `bytes` as
  /// filter_chunk() made them (already converted, shuffled and deflated; HDF5's direct
  /// chunk write, no filter runs here), placed at the chunk that starts at row `first`
  /// along axis 0 (the chunks must span every other axis whole). `filter_mask` is
  /// filter_chunk()'s mask. Throws kpde::Error when the dataset is missing, not chunked
  /// that way, or the write fails.
  void write_chunk(const std::string& name, std::size_t first, const std::vector<unsigned char>& bytes,
                   unsigned filter_mask = 0);
  /// The stored bytes (after the filters) of the chunk holding row `row` of a chunked
  /// dataset, and its filter mask in *filter_mask when given; e.g. to check that two
  /// files store the same bytes. Throws InputError when missing or not chunked.
  std::vector<unsigned char> read_chunk(const std::string& name, std::size_t row,
                                        unsigned* filter_mask = nullptr) const;
  /// Rows per chunk along axis 0 of dataset `name` (0: not chunked).
  std::size_t chunk_rows(const std::string& name) const;
  /// Writes entries [first, first + values.size()) of a string dataset.
  void write_string_rows(const std::string& name, std::size_t first, const std::vector<std::string>& values);
  /// Reads entries [first, first + count) of a 1-D string dataset (variable or fixed
  /// length). Throws InputError when missing, not strings, or out of range.
  std::vector<std::string> read_strings(const std::string& name, std::size_t first, std::size_t count) const;
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
  /// Sets a 1-D float64 array attribute (values non-empty), replacing it.
  void set_attribute(const std::string& object, const std::string& attr, const std::vector<double>& values);
  /// Overload so that string literals do not pick the double overload.
  void set_attribute(const std::string& object, const std::string& attr, const char* value) {
    set_attribute(object, attr, std::string(value));
  }
  /// Reads a string attribute (fixed or variable length); InputError when missing.
  std::string string_attribute(const std::string& object, const std::string& attr) const;
  /// Reads a numeric scalar attribute as double; InputError when missing.
  double number_attribute(const std::string& object, const std::string& attr) const;
  /// Reads a numeric attribute of any shape as doubles in C order; InputError when missing.
  std::vector<double> numbers_attribute(const std::string& object, const std::string& attr) const;
  /// Whether object `object` has attribute `attr`.
  bool has_attribute(const std::string& object, const std::string& attr) const;

 private:
  H5File() = default;
  void release() noexcept;
  std::string where(const std::string& name) const;
  /// Creates the parent groups of dataset path `n` and removes an existing link `n`.
  void make_room(const std::string& n);
  std::int64_t id_ = -1;  // hid_t
  std::string path_;
  std::unique_ptr<AtomicFile> atomic_;
};

/// Bytes per element in the file of a DType.
std::size_t dtype_size(H5File::DType type);

/// Converts n doubles to the file layout of `type` (little-endian) into out (n *
/// dtype_size bytes), as HDF5's own conversion in write_rows() does: float32 rounds to
/// nearest, values beyond the float range become +-inf; integers are truncated towards
/// zero and clamped to the type's range (NaN becomes 0). Thread-safe; calls no HDF5.
void encode_values(H5File::DType type, const double* values, std::size_t n, unsigned char* out);

/// Whether create_dataset() compresses at gzip_level > 0 (the deflate filter is present).
bool deflate_available();

/// A chunk as create_dataset()'s filters store it: for gzip_level > 0 the shuffle filter
/// (element_size > 1) and then deflate (zlib compress2 at gzip_level, what HDF5's
/// deflate filter calls), the raw bytes for 0. The same bytes HDF5 writes through
/// write_rows(), so a chunk can be filtered on any thread or MPI rank and written with
/// write_chunk(). Thread-safe; calls no HDF5. `mask` gets the filter mask (nonzero when
/// deflate could not shrink the chunk into HDF5's bound and is skipped, as HDF5 does
/// with an optional filter).
std::vector<unsigned char> filter_chunk(const std::vector<unsigned char>& raw, std::size_t element_size,
                                        int gzip_level, unsigned* mask);

}  // namespace kpde::io
