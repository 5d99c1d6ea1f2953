#include "io/hdf5.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <type_traits>

#include "core/error.hpp"
#include "io/atomic_file.hpp"

namespace kpde::io {

static_assert(sizeof(hid_t) == sizeof(std::int64_t), "hid_t is 64-bit since HDF5 1.10");

namespace {

/// Owns one hid_t and closes it with the matching H5*close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() {
    if (id_ >= 0) closer_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  Closer closer_;
};

void silence_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

std::string normalise(const std::string& name) {
  std::string n = name;
  while (!n.empty() && n.front() == '/') n.erase(n.begin());
  return n;
}

std::string object_path(const std::string& name) {
  const std::string n = normalise(name);
  return n.empty() ? std::string("/") : n;
}

herr_t collect_datasets(hid_t group, const char* name, const H5L_info_t* /*info*/,
                        void* data) {
  hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
  if (obj < 0) return 0;
  if (H5Iget_type(obj) == H5I_DATASET) static_cast<std::vector<std::string>*>(data)->push_back(name);
  H5Oclose(obj);
  return 0;
}

}  // namespace

std::string shape_string(const Shape& shape) {
  std::ostringstream s;
  s << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? " x " : "") << shape[i];
  s << ']';
  return s.str();
}

H5File H5File::create(const std::string& path) {
  silence_hdf5();
  H5File f;
  f.path_ = path;
  f.atomic_ = std::make_unique<AtomicFile>(path);
  f.id_ = H5Fcreate(f.atomic_->path_for_writing().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT,
                    H5P_DEFAULT);
  if (f.id_ < 0) throw InputError("cannot create HDF5 file '" + path + "'");
  return f;
}

H5File H5File::open(const std::string& path) {
  silence_hdf5();
  if (::access(path.c_str(), R_OK) != 0)
    throw InputError("HDF5 file '" + path + "' does not exist or is not readable");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError("'" + path + "' is not an HDF5 file");
  H5File f;
  f.path_ = path;
  f.id_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f.id_ < 0) throw InputError("cannot open HDF5 file '" + path + "' (damaged or truncated?)");
  return f;
}

H5File::H5File(H5File&& other) noexcept
    : id_(other.id_), path_(std::move(other.path_)), atomic_(std::move(other.atomic_)) {
  other.id_ = -1;
}

H5File& H5File::operator=(H5File&& other) noexcept {
  if (this != &other) {
    release();
    id_ = other.id_;
    path_ = std::move(other.path_);
    atomic_ = std::move(other.atomic_);
    other.id_ = -1;
  }
  return *this;
}

H5File::~H5File() { release(); }

void H5File::release() noexcept {
  // A created file that was not close()d is discarded. Empty it first: closing flushes
  // metadata, which on a full disk fails and leaves HDF5 with a half-closed file that
  // crashes its own shutdown at exit; with the data blocks freed the flush fits.
  if (id_ >= 0 && atomic_) (void)::truncate(atomic_->path_for_writing().c_str(), 0);
  if (id_ >= 0) H5Fclose(id_);
  id_ = -1;
  atomic_.reset();  // removes an uncommitted temporary file
}

void H5File::close() {
  if (id_ < 0) return;
  const herr_t status = H5Fclose(id_);
  id_ = -1;
  if (status < 0) {
    atomic_.reset();
    throw Error("cannot close HDF5 file '" + path_ + "'");
  }
  if (atomic_) {
    atomic_->commit();
    atomic_.reset();
  }
}

void H5File::make_room(const std::string& n) {
  const auto slash = n.find_last_of('/');
  if (slash != std::string::npos) create_group(n.substr(0, slash));
  if (exists(n)) H5Ldelete(id_, n.c_str(), H5P_DEFAULT);
}

std::string H5File::where(const std::string& name) const {
  return "HDF5 file '" + path_ + "', dataset '" + normalise(name) + "'";
}

bool H5File::exists(const std::string& name) const {
  const std::string n = normalise(name);
  if (n.empty()) return true;
  std::size_t pos = 0;
  while (true) {
    const std::size_t next = n.find('/', pos);
    const std::string prefix = n.substr(0, next);
    if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) return true;
    pos = next + 1;
  }
}

void H5File::create_group(const std::string& group) {
  const std::string n = normalise(group);
  if (n.empty()) return;
  std::size_t pos = 0;
  while (true) {
    const std::size_t next = n.find('/', pos);
    const std::string prefix = n.substr(0, next);
    if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) {
      Handle g(H5Gcreate2(id_, prefix.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
      if (!g.ok())
        throw Error("cannot create group '" + prefix + "' in HDF5 file '" + path_ + "'");
    }
    if (next == std::string::npos) return;
    pos = next + 1;
  }
}

void H5File::write(const std::string& name, const std::vector<double>& data,
                   const Shape& shape, int gzip_level, std::size_t chunk_threshold) {
  const std::string n = normalise(name);
  if (shape.empty() || shape.size() > 3)
    throw Error(where(n) + ": rank " + std::to_string(shape.size()) + " not in 1-3");
  std::size_t count = 1;
  for (auto d : shape) count *= d;
  if (count != data.size())
    throw Error(where(n) + ": shape " + shape_string(shape) + " does not match " +
                std::to_string(data.size()) + " values");
  make_room(n);

  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (shape.size() >= 2 && gzip_level > 0 && count >= chunk_threshold && count > 0 &&
      H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
    // chunks of about 64k values: whole trailing rows, capped in the leading dimension
    std::vector<hsize_t> chunk(dims);
    hsize_t inner = 1;
    for (std::size_t i = 1; i < chunk.size(); ++i) inner *= chunk[i];
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(chunk[0], 65536 / std::max<hsize_t>(inner, 1)));
    H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(dcpl.get(), static_cast<unsigned>(std::min(gzip_level, 9)));
  }
  Handle dset(H5Dcreate2(id_, n.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, dcpl.get(),
                         H5P_DEFAULT),
              H5Dclose);
  if (!dset.ok()) throw Error("cannot create " + where(n));
  if (count > 0 &&
      H5Dwrite(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    throw Error("cannot write " + where(n));
}

namespace {

hid_t file_type(H5File::DType t) {
  switch (t) {
    case H5File::DType::float64: return H5T_IEEE_F64LE;
    case H5File::DType::float32: return H5T_IEEE_F32LE;
    case H5File::DType::int32: return H5T_STD_I32LE;
    case H5File::DType::uint8: return H5T_STD_U8LE;
  }
  return H5T_IEEE_F64LE;
}

/// The file and memory dataspaces of rows [first, first + count) along axis 0 of an
/// open dataset; *row_size gets the values per row. Returns false when out of range.
bool row_spaces(hid_t dset, std::size_t first, std::size_t count, hid_t* file_space,
                hid_t* mem_space, std::size_t* row_size) {
  const hid_t space = H5Dget_space(dset);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 1) {
    H5Sclose(space);
    return false;
  }
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  if (first > dims[0] || count > dims[0] - first) {
    H5Sclose(space);
    return false;
  }
  std::vector<hsize_t> start(dims.size(), 0), cnt(dims);
  start[0] = first;
  cnt[0] = count;
  std::size_t row = 1;
  for (std::size_t i = 1; i < dims.size(); ++i) row *= dims[i];
  *row_size = row;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
  *file_space = space;
  *mem_space = H5Screate_simple(rank, cnt.data(), nullptr);
  return true;
}

}  // namespace

void H5File::create_dataset(const std::string& name, DType type, const Shape& shape,
                            const Shape& chunk, int gzip_level) {
  const std::string n = normalise(name);
  if (shape.empty() || shape.size() > 4)
    throw Error(where(n) + ": rank " + std::to_string(shape.size()) + " not in 1-4");
  if (!chunk.empty() && chunk.size() != shape.size())
    throw Error(where(n) + ": chunk rank differs from the dataset's");
  make_room(n);
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(dcpl.get(), 0);  // no clock in the file: the same data gives the same bytes
  std::size_t count = 1;
  for (auto d : shape) count *= d;
  if (!chunk.empty() && count > 0) {
    std::vector<hsize_t> c(chunk.size());
    for (std::size_t i = 0; i < chunk.size(); ++i)
      c[i] = std::max<hsize_t>(1, std::min<hsize_t>(chunk[i], std::max<hsize_t>(dims[i], 1)));
    H5Pset_chunk(dcpl.get(), static_cast<int>(c.size()), c.data());
    if (gzip_level > 0 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
      H5Pset_shuffle(dcpl.get());
      H5Pset_deflate(dcpl.get(), static_cast<unsigned>(std::min(gzip_level, 9)));
    }
  }
  Handle dset(H5Dcreate2(id_, n.c_str(), file_type(type), space.get(), H5P_DEFAULT, dcpl.get(),
                         H5P_DEFAULT),
              H5Dclose);
  if (!dset.ok()) throw Error("cannot create " + where(n));
}

void H5File::write_rows(const std::string& name, std::size_t first, std::size_t count,
                        const double* data) {
  const std::string n = normalise(name);
  Handle dset(H5Dopen2(id_, n.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw Error(where(n) + " does not exist");
  hid_t fs = -1, ms = -1;
  std::size_t row = 0;
  if (!row_spaces(dset.get(), first, count, &fs, &ms, &row))
    throw Error(where(n) + ": rows " + std::to_string(first) + ".." + std::to_string(first + count) +
                " are out of range");
  Handle file_space(fs, H5Sclose), mem_space(ms, H5Sclose);
  if (count > 0 && row > 0 &&
      H5Dwrite(dset.get(), H5T_NATIVE_DOUBLE, mem_space.get(), file_space.get(), H5P_DEFAULT, data) < 0)
    throw Error("cannot write " + where(n));
}

namespace {

/// The chunk dimensions of an open dataset (empty when it is not chunked).
std::vector<hsize_t> chunk_dims(hid_t dset) {
  Handle dcpl(H5Dget_create_plist(dset), H5Pclose);
  if (!dcpl.ok() || H5Pget_layout(dcpl.get()) != H5D_CHUNKED) return {};
  const int rank = H5Pget_chunk(dcpl.get(), 0, nullptr);
  if (rank < 1) return {};
  std::vector<hsize_t> c(static_cast<std::size_t>(rank));
  H5Pget_chunk(dcpl.get(), rank, c.data());
  return c;
}

std::vector<hsize_t> dataset_dims(hid_t dset) {
  Handle space(H5Dget_space(dset), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

}  // namespace

void H5File::write_chunk(const std::string& name, std::size_t first, const std::vector<unsigned char>& bytes,
                         unsigned filter_mask) {
  const std::string n = normalise(name);
  Handle dset(H5Dopen2(id_, n.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw Error(where(n) + " does not exist");
  const std::vector<hsize_t> chunk = chunk_dims(dset.get()), dims = dataset_dims(dset.get());
  if (chunk.empty() || chunk.size() != dims.size()) throw Error(where(n) + " is not chunked");
  for (std::size_t i = 1; i < dims.size(); ++i)
    if (chunk[i] != dims[i]) throw Error(where(n) + ": its chunks do not span axis " + std::to_string(i));
  if (first >= dims[0] || first % chunk[0] != 0)
    throw Error(where(n) + ": no chunk starts at row " + std::to_string(first));
  std::vector<hsize_t> offset(dims.size(), 0);
  offset[0] = first;
  if (H5Dwrite_chunk(dset.get(), H5P_DEFAULT, filter_mask, offset.data(), bytes.size(), bytes.data()) < 0)
    throw Error("cannot write a chunk of " + where(n));
}

std::vector<unsigned char> H5File::read_chunk(const std::string& name, std::size_t row, unsigned* filter_mask) const {
  const std::string n = normalise(name);
  if (!exists(n)) throw InputError(where(n) + " does not exist");
  Handle dset(H5Dopen2(id_, n.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw InputError(where(n) + " is not a dataset");
  const std::vector<hsize_t> chunk = chunk_dims(dset.get()), dims = dataset_dims(dset.get());
  if (chunk.empty() || dims.empty() || row >= dims[0]) throw InputError(where(n) + ": no chunk at row " + std::to_string(row));
  std::vector<hsize_t> offset(dims.size(), 0);
  offset[0] = row - row % chunk[0];
  hsize_t size = 0;
  if (H5Dget_chunk_storage_size(dset.get(), offset.data(), &size) < 0)
    throw InputError(where(n) + ": cannot find the chunk at row " + std::to_string(row));
  std::vector<unsigned char> out(static_cast<std::size_t>(size));
  uint32_t mask = 0;
  if (size > 0 && H5Dread_chunk(dset.get(), H5P_DEFAULT, offset.data(), &mask, out.data()) < 0)
    throw InputError("cannot read a chunk of " + where(n));
  if (filter_mask) *filter_mask = mask;
  return out;
}

std::size_t H5File::chunk_rows(const std::string& name) const {
  const std::string n = normalise(name);
  if (!exists(n)) throw InputError(where(n) + " does not exist");
  Handle dset(H5Dopen2(id_, n.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw InputError(where(n) + " is not a dataset");
  const std::vector<hsize_t> chunk = chunk_dims(dset.get());
  return chunk.empty() ? 0 : static_cast<std::size_t>(chunk[0]);
}

std::size_t dtype_size(H5File::DType type) {
  switch (type) {
    case H5File::DType::float64: return 8;
    case H5File::DType::float32: return 4;
    case H5File::DType::int32: return 4;
    case H5File::DType::uint8: return 1;
  }
  return 8;
}

namespace {

/// HDF5's hard conversion of a double to an integer type: clamped to [lo, hi],
/// truncated towards zero (NaN: 0).
template <class T>
T to_integer(double v) {
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::min()),
                   hi = static_cast<double>(std::numeric_limits<T>::max());
  if (std::isnan(v)) return 0;
  if (v > hi) return std::numeric_limits<T>::max();
  if (v < lo) return std::numeric_limits<T>::min();
  return static_cast<T>(v);
}

template <class T>
void put_le(T v, unsigned char* out) {
  static_assert(std::is_trivially_copyable<T>::value, "");
  unsigned char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  std::reverse(b, b + sizeof(T));
#endif
  std::memcpy(out, b, sizeof(T));
}

}  // namespace

void encode_values(H5File::DType type, const double* values, std::size_t n, unsigned char* out) {
  switch (type) {
    case H5File::DType::float64:
      for (std::size_t i = 0; i < n; ++i) put_le(values[i], out + 8 * i);
      return;
    case H5File::DType::float32: {
      constexpr double fmax = static_cast<double>(std::numeric_limits<float>::max());
      for (std::size_t i = 0; i < n; ++i) {
        const double v = values[i];
        // HDF5's H5T_CONV_Ff: beyond the float range is +-infinity, else the C cast
        const float f = v > fmax    ? std::numeric_limits<float>::infinity()
                        : v < -fmax ? -std::numeric_limits<float>::infinity()
                                    : static_cast<float>(v);
        put_le(f, out + 4 * i);
      }
      return;
    }
    case H5File::DType::int32:
      for (std::size_t i = 0; i < n; ++i) put_le(to_integer<std::int32_t>(values[i]), out + 4 * i);
      return;
    case H5File::DType::uint8:
      for (std::size_t i = 0; i < n; ++i) out[i] = to_integer<std::uint8_t>(values[i]);
      return;
  }
}

bool deflate_available() { return H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0; }

std::vector<unsigned char> filter_chunk(const std::vector<unsigned char>& raw, std::size_t element_size,
                                        int gzip_level, unsigned* mask) {
  if (mask) *mask = 0;
  if (gzip_level <= 0) return raw;
  // filter 0: shuffle (H5Z_FILTER_SHUFFLE: byte k of every element together; a no-op
  // for 1-byte elements or a single element)
  std::vector<unsigned char> shuffled;
  const std::vector<unsigned char>* src = &raw;
  const std::size_t count = element_size ? raw.size() / element_size : 0;
  if (element_size > 1 && count > 1) {
    shuffled.resize(raw.size());
    for (std::size_t b = 0; b < element_size; ++b) {
      unsigned char* dst = shuffled.data() + b * count;
      const unsigned char* s = raw.data() + b;
      for (std::size_t i = 0; i < count; ++i) dst[i] = s[i * element_size];
    }
    const std::size_t tail = raw.size() - count * element_size;  // copied as is
    std::memcpy(shuffled.data() + count * element_size, raw.data() + count * element_size, tail);
    src = &shuffled;
  }
  // filter 1: deflate, into HDF5's output bound (H5Z_DEFLATE_SIZE_ADJUST)
  uLongf out_size = static_cast<uLongf>(std::ceil(static_cast<double>(src->size()) * 1.001) + 12);
  std::vector<unsigned char> out(static_cast<std::size_t>(out_size));
  const int status = compress2(out.data(), &out_size, src->data(), static_cast<uLong>(src->size()), std::min(gzip_level, 9));
  if (status == Z_BUF_ERROR) {  // the optional filter is skipped for this chunk
    if (mask) *mask = 1u << 1;
    return src == &raw ? raw : shuffled;
  }
  if (status != Z_OK) throw Error("filter_chunk: zlib compress2 failed (" + std::to_string(status) + ")");
  out.resize(static_cast<std::size_t>(out_size));
  return out;
}

namespace {
template <class T>
std::vector<T> read_rows_as(hid_t file, const std::string& n, const std::string& where, std::size_t first,
                            std::size_t count, hid_t mem_type) {
  if (H5Lexists(file, n.c_str(), H5P_DEFAULT) <= 0) throw InputError(where + " does not exist");
  Handle dset(H5Dopen2(file, n.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw InputError(where + " is not a dataset");
  hid_t fs = -1, ms = -1;
  std::size_t row = 0;
  if (!row_spaces(dset.get(), first, count, &fs, &ms, &row))
    throw InputError(where + ": rows " + std::to_string(first) + ".." + std::to_string(first + count) +
                     " are out of range");
  Handle file_space(fs, H5Sclose), mem_space(ms, H5Sclose);
  std::vector<T> out(count * row);
  if (!out.empty() && H5Dread(dset.get(), mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, out.data()) < 0)
    throw InputError("cannot read " + where + " as numbers");
  return out;
}
}  // namespace

std::vector<double> H5File::read_rows(const std::string& name, std::size_t first, std::size_t count) const {
  const std::string n = normalise(name);
  return read_rows_as<double>(id_, n, where(n), first, count, H5T_NATIVE_DOUBLE);
}

std::vector<float> H5File::read_rows_float(const std::string& name, std::size_t first, std::size_t count) const {
  const std::string n = normalise(name);
  return read_rows_as<float>(id_, n, where(n), first, count, H5T_NATIVE_FLOAT);
}

void H5File::create_strings(const std::string& name, std::size_t count) {
  const std::string n = normalise(name);
  make_room(n);
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  hsize_t dims[1] = {count};
  Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(dcpl.get(), 0);
  if (count > 0) {
    hsize_t chunk[1] = {std::min<hsize_t>(count, 256)};
    H5Pset_chunk(dcpl.get(), 1, chunk);
    if (count > 64 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) H5Pset_deflate(dcpl.get(), 4);
  }
  Handle dset(H5Dcreate2(id_, n.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
              H5Dclose);
  if (!dset.ok()) throw Error("cannot create " + where(n));
}

void H5File::write_string_rows(const std::string& name, std::size_t first,
                               const std::vector<std::string>& values) {
  const std::string n = normalise(name);
  Handle dset(H5Dopen2(id_, n.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw Error(where(n) + " does not exist");
  hid_t fs = -1, ms = -1;
  std::size_t row = 0;
  if (!row_spaces(dset.get(), first, values.size(), &fs, &ms, &row))
    throw Error(where(n) + ": entries out of range");
  Handle file_space(fs, H5Sclose), mem_space(ms, H5Sclose);
  std::vector<const char*> ptrs(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) ptrs[i] = values[i].c_str();
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  if (!values.empty() &&
      H5Dwrite(dset.get(), type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, ptrs.data()) < 0)
    throw Error("cannot write " + where(n));
}

void H5File::write_strings(const std::string& name, const std::vector<std::string>& values) {
  create_strings(name, values.size());
  write_string_rows(name, 0, values);
}

std::vector<std::string> H5File::read_strings(const std::string& name, std::size_t first,
                                              std::size_t count) const {
  const std::string n = normalise(name);
  if (!exists(n)) throw InputError(where(n) + " does not exist");
  Handle dset(H5Dopen2(id_, n.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw InputError(where(n) + " is not a dataset");
  Handle ftype(H5Dget_type(dset.get()), H5Tclose);
  if (H5Tget_class(ftype.get()) != H5T_STRING) throw InputError(where(n) + " does not hold strings");
  hid_t fs = -1, ms = -1;
  std::size_t row = 0;
  if (!row_spaces(dset.get(), first, count, &fs, &ms, &row))
    throw InputError(where(n) + ": entries " + std::to_string(first) + ".." + std::to_string(first + count) +
                     " are out of range");
  Handle file_space(fs, H5Sclose), mem_space(ms, H5Sclose);
  std::vector<std::string> out(count);
  if (count == 0) return out;
  if (H5Tis_variable_str(ftype.get()) > 0) {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5Tget_cset(ftype.get()));  // no ASCII <-> UTF-8 conversion path
    std::vector<char*> ptrs(count, nullptr);
    if (H5Dread(dset.get(), type.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, ptrs.data()) < 0)
      throw InputError("cannot read " + where(n) + " as strings");
    for (std::size_t i = 0; i < count; ++i) out[i] = ptrs[i] ? ptrs[i] : "";
    H5Dvlen_reclaim(type.get(), mem_space.get(), H5P_DEFAULT, ptrs.data());
  } else {
    const std::size_t size = H5Tget_size(ftype.get());
    std::string buf(size * count, '\0');
    if (H5Dread(dset.get(), ftype.get(), mem_space.get(), file_space.get(), H5P_DEFAULT, buf.data()) < 0)
      throw InputError("cannot read " + where(n) + " as strings");
    for (std::size_t i = 0; i < count; ++i) {
      std::string s = buf.substr(i * size, size);
      out[i] = s.substr(0, std::min(s.find('\0'), s.size()));
    }
  }
  return out;
}

Shape H5File::shape(const std::string& name) const {
  const std::string n = normalise(name);
  if (!exists(n)) throw InputError(where(n) + " does not exist");
  Handle dset(H5Dopen2(id_, n.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw InputError(where(n) + " is not a dataset");
  Handle space(H5Dget_space(dset.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw InputError("cannot read the shape of " + where(n));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return Shape(dims.begin(), dims.end());
}

std::vector<double> H5File::read(const std::string& name, Shape* shape_out) const {
  const std::string n = normalise(name);
  const Shape s = shape(n);
  std::size_t count = 1;
  for (auto d : s) count *= d;
  std::vector<double> data(count);
  Handle dset(H5Dopen2(id_, n.c_str(), H5P_DEFAULT), H5Dclose);
  if (count > 0 &&
      H5Dread(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    throw InputError("cannot read " + where(n) + " as float64");
  if (shape_out) *shape_out = s;
  return data;
}

std::vector<double> H5File::read_checked(const std::string& name, const Shape& expected) const {
  const Shape actual = shape(name);
  if (actual != expected)
    throw InputError(where(name) + ": expected shape " + shape_string(expected) + ", found " +
                     shape_string(actual));
  return read(name);
}

std::vector<std::string> H5File::list_datasets(const std::string& group) const {
  const std::string g = object_path(group);
  std::vector<std::string> names;
  if (g != "/" && !exists(g)) return names;
  Handle grp(H5Gopen2(id_, g.c_str(), H5P_DEFAULT), H5Gclose);
  if (!grp.ok()) throw InputError("HDF5 file '" + path_ + "': '" + g + "' is not a group");
  H5Lvisit(grp.get(), H5_INDEX_NAME, H5_ITER_INC, collect_datasets, &names);
  if (g != "/")
    for (auto& nm : names) nm = g + "/" + nm;
  std::sort(names.begin(), names.end());
  return names;
}

bool H5File::has_attribute(const std::string& object, const std::string& attr) const {
  const std::string o = object_path(object);
  if (o != "/" && !exists(o)) return false;
  return H5Aexists_by_name(id_, o.c_str(), attr.c_str(), H5P_DEFAULT) > 0;
}

void H5File::set_attribute(const std::string& object, const std::string& attr,
                           const std::string& value) {
  const std::string o = object_path(object);
  if (o != "/" && !exists(o)) throw Error("HDF5 file '" + path_ + "': no object '" + o + "'");
  if (has_attribute(o, attr)) H5Adelete_by_name(id_, o.c_str(), attr.c_str(), H5P_DEFAULT);
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), std::max<std::size_t>(value.size(), 1));
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a(H5Acreate_by_name(id_, o.c_str(), attr.c_str(), type.get(), space.get(), H5P_DEFAULT,
                             H5P_DEFAULT, H5P_DEFAULT),
           H5Aclose);
  std::string buf = value.empty() ? std::string(1, '\0') : value;
  if (!a.ok() || H5Awrite(a.get(), type.get(), buf.data()) < 0)
    throw Error("cannot write attribute '" + attr + "' of '" + o + "' in '" + path_ + "'");
}

void H5File::set_attribute(const std::string& object, const std::string& attr, double value) {
  const std::string o = object_path(object);
  if (o != "/" && !exists(o)) throw Error("HDF5 file '" + path_ + "': no object '" + o + "'");
  if (has_attribute(o, attr)) H5Adelete_by_name(id_, o.c_str(), attr.c_str(), H5P_DEFAULT);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a(H5Acreate_by_name(id_, o.c_str(), attr.c_str(), H5T_IEEE_F64LE, space.get(),
                             H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
           H5Aclose);
  if (!a.ok() || H5Awrite(a.get(), H5T_NATIVE_DOUBLE, &value) < 0)
    throw Error("cannot write attribute '" + attr + "' of '" + o + "' in '" + path_ + "'");
}

void H5File::set_attribute(const std::string& object, const std::string& attr, const std::vector<double>& values) {
  const std::string o = object_path(object);
  if (o != "/" && !exists(o)) throw Error("HDF5 file '" + path_ + "': no object '" + o + "'");
  if (values.empty()) throw Error("HDF5 file '" + path_ + "': attribute '" + attr + "' would be empty");
  if (has_attribute(o, attr)) H5Adelete_by_name(id_, o.c_str(), attr.c_str(), H5P_DEFAULT);
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Handle a(H5Acreate_by_name(id_, o.c_str(), attr.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT),
           H5Aclose);
  if (!a.ok() || H5Awrite(a.get(), H5T_NATIVE_DOUBLE, values.data()) < 0)
    throw Error("cannot write attribute '" + attr + "' of '" + o + "' in '" + path_ + "'");
}

std::string H5File::string_attribute(const std::string& object, const std::string& attr) const {
  const std::string o = object_path(object);
  if (!has_attribute(o, attr))
    throw InputError("HDF5 file '" + path_ + "': '" + o + "' has no attribute '" + attr + "'");
  Handle a(H5Aopen_by_name(id_, o.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(a.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING)
    throw InputError("HDF5 file '" + path_ + "': attribute '" + attr + "' of '" + o +
                     "' is not a string");
  if (H5Tis_variable_str(type.get()) > 0) {
    char* s = nullptr;
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));  // UTF-8 strings (h5py's) need a UTF-8 memory type
    if (H5Aread(a.get(), mem.get(), &s) < 0 || !s)
      throw InputError("cannot read attribute '" + attr + "' in '" + path_ + "'");
    std::string out(s);
    H5free_memory(s);
    return out;
  }
  const std::size_t size = H5Tget_size(type.get());
  std::string buf(size, '\0');
  if (H5Aread(a.get(), type.get(), buf.data()) < 0)
    throw InputError("cannot read attribute '" + attr + "' in '" + path_ + "'");
  buf.resize(std::min(buf.find('\0'), buf.size()));
  return buf;
}

std::vector<double> H5File::numbers_attribute(const std::string& object, const std::string& attr) const {
  const std::string o = object_path(object);
  if (!has_attribute(o, attr))
    throw InputError("HDF5 file '" + path_ + "': '" + o + "' has no attribute '" + attr + "'");
  Handle a(H5Aopen_by_name(id_, o.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(a.get()), H5Tclose);
  Handle space(H5Aget_space(a.get()), H5Sclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<double> v(n > 0 ? static_cast<std::size_t>(n) : 0);
  if ((cls != H5T_FLOAT && cls != H5T_INTEGER) || n < 1 || H5Aread(a.get(), H5T_NATIVE_DOUBLE, v.data()) < 0)
    throw InputError("HDF5 file '" + path_ + "': attribute '" + attr + "' of '" + o + "' is not a number");
  return v;
}

double H5File::number_attribute(const std::string& object, const std::string& attr) const {
  const std::vector<double> v = numbers_attribute(object, attr);
  if (v.size() != 1)
    throw InputError("HDF5 file '" + path_ + "': attribute '" + attr + "' of '" + object_path(object) +
                     "' holds " + std::to_string(v.size()) + " numbers; expected one");
  return v[0];
}

}  // namespace kpde::io
