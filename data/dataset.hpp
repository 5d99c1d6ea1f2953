#pragma once
/// Training datasets in HDF5 (`kpde generate`; the schema is in docs/datasets.md and in
/// every file's attributes): one HDF5 dataset per field with a leading sample axis,
/// [N, ...], chunked one sample per chunk and gzip-compressed (with the shuffle filter),
/// plus 1-D variable-length string datasets (the expressions of each sample).
///
/// File attributes: format = "kpde-dataset", format_version = 1, kind ("mms", "darcy",
/// "antiderivative" or "fisher"), n_samples, grid, x_lo, x_hi, y_lo, y_hi, layout (the
/// pixel convention), seed, config (the resolved generate config), schema (one line per
/// field: name, type, per-sample shape, meaning), and the kind's own attributes
/// (DatasetSchema::text_attributes, number_attributes: darcy's geometry, fisher's x, t). Every dataset carries `description` and `shape`
/// attributes. The writer goes through io::H5File::create, so the file appears under
/// its final name only when complete.
///
/// DatasetReader gives random access (one sample, a range, or a gathered batch of
/// indices) and BatchSampler shuffled mini-batches; the trainers of the neural
/// operators and the hypernetwork read through them.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/antiderivative.hpp"
#include "data/darcy.hpp"
#include "data/fisher.hpp"
#include "data/mms.hpp"
#include "io/hdf5.hpp"

namespace kpde::data {

/// One numeric field: per-sample shape (empty: one scalar per sample).
struct FieldSpec {
  std::string name;
  io::H5File::DType type = io::H5File::DType::float32;
  io::Shape shape;
  std::string description;
};

/// One string field (one string per sample).
struct StringSpec {
  std::string name;
  std::string description;
};

/// What a dataset file holds.
struct DatasetSchema {
  std::string kind;  ///< "mms", "darcy", "antiderivative" or "fisher"
  int grid = 0;
  double x_lo = -1, x_hi = 1, y_lo = -1, y_hi = 1;
  std::string layout;  ///< the `layout` attribute; empty: the n x n pixel convention
  std::vector<FieldSpec> fields;
  std::vector<StringSpec> strings;
  /// More file attributes of the kind (written by DatasetWriter, in this order).
  std::vector<std::pair<std::string, std::string>> text_attributes;
  std::vector<std::pair<std::string, std::vector<double>>> number_attributes;
  /// Values per sample of field `k`.
  std::size_t sample_size(std::size_t k) const;
  /// One line per field: "name  type  [N x ...]  description".
  std::string text() const;
};

/// The schema of `kpde generate` with kind mms. float64: grids and points in float64
/// (else float32; masks are uint8, coefficients float64 always).
DatasetSchema mms_schema(const MmsSettings& s, bool float64);
/// The schema of kind darcy (attribute geometry = the geometry's name).
DatasetSchema darcy_schema(const DarcySettings& s, bool float64);
/// The schema of kind antiderivative (grid = sensors; x on [0, 1]).
DatasetSchema antiderivative_schema(const AntiderivativeSettings& s, bool float64);
/// The schema of kind fisher (grid = points; attributes x [P], t [T], diffusion).
DatasetSchema fisher_schema(const FisherSettings& s, bool float64);

/// A sample as flat arrays in schema order (values[k] for fields[k], texts[k] for
/// strings[k]).
struct SampleRecord {
  std::vector<std::vector<double>> values;
  std::vector<std::string> texts;
};
SampleRecord to_record(const MmsSample& sample);
SampleRecord to_record(const DarcySample& sample);
SampleRecord to_record(const AntiderivativeSample& sample);
SampleRecord to_record(const FisherSample& sample);
/// Byte serialisation of a record (for sending between MPI ranks) and back.
std::vector<char> pack(const SampleRecord& record);
SampleRecord unpack(const char* bytes, std::size_t size);

/// A sample in the form the file stores it, made by encode() on the rank that generated
/// the sample (the costly part of writing: conversion to the file types, the shuffle and
/// deflate filters), so that the writing rank only places bytes.
struct EncodedSample {
  /// Per field: a per-sample field's stored chunk (io::filter_chunk of its values in the
  /// file type), or a scalar field's one value in the file type (unfiltered: scalars
  /// share chunks of many samples, which the writer filters).
  std::vector<std::vector<unsigned char>> chunks;
  std::vector<unsigned> masks;     ///< per field: the chunk's filter mask (0: every filter applied)
  std::vector<std::string> texts;  ///< the string fields
};
/// Encodes a record for a file of `schema` compressed at gzip_level (the level
/// DatasetWriter was made with). Thread-safe (no HDF5 call). Throws kpde::Error when the
/// record does not match the schema.
EncodedSample encode(const SampleRecord& record, const DatasetSchema& schema, int gzip_level);
/// Byte serialisation of an encoded sample (for sending between MPI ranks) and back.
std::vector<char> pack(const EncodedSample& sample);
EncodedSample unpack_encoded(const char* bytes, std::size_t size);

/// Writes a dataset file of n_samples samples, either with write() (records, any order of
/// ranges) or with append() (encoded samples in index order: the stored bytes do not
/// depend on how the samples were grouped, so a file is byte for byte the same whatever
/// number of MPI ranks made it). Nothing appears under `path` until close().
class DatasetWriter {
 public:
  /// Creates the datasets (zero-filled, chunked, compressed at gzip_level 0-9) and the
  /// schema attributes. Throws InputError when the directory is not writable.
  DatasetWriter(const std::string& path, const DatasetSchema& schema, long n_samples, int gzip_level);
  /// Writes samples first .. first + records.size() - 1. Throws kpde::Error when a
  /// record does not match the schema.
  void write(long first, const std::vector<SampleRecord>& records);
  /// Writes the next sample (0, 1, ... in order) from encode(record, schema, gzip_level)
  /// with direct chunk writes; scalar and string fields are buffered until their chunk is
  /// complete. Throws kpde::Error past n_samples or when the sample does not match.
  void append(const EncodedSample& sample);
  /// The gzip level the chunks are stored with (0 when HDF5 lacks deflate): encode()'s.
  int gzip_level() const { return gzip_; }
  /// The file, e.g. for more attributes.
  io::H5File& file() { return file_; }
  /// Completes the file (writing buffered chunks) and renames it to its final name.
  void close();

 private:
  void flush_buffers(long last);
  io::H5File file_;
  DatasetSchema schema_;
  long n_;
  int gzip_ = 0;
  long next_ = 0;  // samples append()ed so far
  std::vector<std::size_t> rows_;                     // per field: rows per chunk (0: not chunked)
  std::vector<std::vector<unsigned char>> scalars_;   // per scalar field: its current chunk
  std::size_t string_rows_ = 1;                       // rows per chunk of the string fields
  std::vector<std::vector<std::string>> texts_;       // per string field: its current chunk
};

/// Read access to a dataset file written by DatasetWriter.
class DatasetReader {
 public:
  /// Opens and checks `path`: format attribute, version, kind, and that every field of
  /// the kind's schema exists with shape [n_samples, ...]. Throws InputError naming
  /// the file and what is wrong.
  explicit DatasetReader(const std::string& path);
  long n_samples() const { return n_; }
  int grid() const { return grid_; }
  const std::string& kind() const { return kind_; }
  const std::string& path() const { return file_.path(); }
  const io::H5File& file() const { return file_; }
  /// Whether field `name` (numeric or string) exists.
  bool has(const std::string& name) const;
  /// Per-sample shape of numeric field `name`.
  io::Shape sample_shape(const std::string& name) const;
  /// Samples first .. first + count - 1 of field `name`, [count][sample shape]
  /// row-major, as double (uint8 masks and float32 fields are converted).
  std::vector<double> read(const std::string& name, long first, long count = 1) const;
  /// As read(), as float.
  std::vector<float> read_float(const std::string& name, long first, long count = 1) const;
  /// The samples `indices` (any order, repeats allowed) of field `name`, gathered into
  /// [indices.size()][sample shape]. Throws InputError on an index out of range.
  std::vector<double> batch(const std::string& name, const std::vector<long>& indices) const;
  /// Entries first .. first + count - 1 of string field `name`.
  std::vector<std::string> strings(const std::string& name, long first, long count = 1) const;
  /// Sample `index` of an mms dataset as the generator made it (within the stored
  /// precision). Throws InputError for another kind.
  MmsSample mms_sample(long index) const;
  /// Sample `index` of a darcy dataset (a file made before the `mask` field existed
  /// gives a mask of ones: those were all squares).
  DarcySample darcy_sample(long index) const;

 private:
  void check_index(long first, long count) const;
  io::H5File file_;
  std::string kind_;
  long n_ = 0;
  int grid_ = 0;
};

/// Shuffled mini-batches of [0, n): epoch e visits a permutation drawn from
/// Rng(mix_seed(seed, e)); the last batch of an epoch is shorter unless drop_last.
class BatchSampler {
 public:
  BatchSampler(long n, long batch_size, std::uint64_t seed, bool drop_last = false);
  /// The next batch (starting a new epoch when the current one is used up).
  std::vector<long> next();
  long epoch() const { return epoch_; }
  /// Batches drawn since construction or the last replay.
  long drawn() const { return drawn_; }
  /// Starts again and draws `count` batches (a resumed run's state); returns the last
  /// of them (empty when count is 0).
  std::vector<long> replay(long count);

 private:
  void shuffle();
  long n_, batch_;
  std::uint64_t seed_;
  bool drop_last_;
  long epoch_ = -1, drawn_ = 0;
  std::size_t pos_ = 0;
  std::vector<long> order_;
};

}  // namespace kpde::data
