#include "io/hdf5.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

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
  if (f.id_ < 0) throw InputError("cannot open HDF5 file '" + path + "'");
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
  const auto slash = n.find_last_of('/');
  if (slash != std::string::npos) create_group(n.substr(0, slash));
  if (exists(n)) H5Ldelete(id_, n.c_str(), H5P_DEFAULT);

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

double H5File::number_attribute(const std::string& object, const std::string& attr) const {
  const std::string o = object_path(object);
  if (!has_attribute(o, attr))
    throw InputError("HDF5 file '" + path_ + "': '" + o + "' has no attribute '" + attr + "'");
  Handle a(H5Aopen_by_name(id_, o.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(a.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  double v = 0;
  if ((cls != H5T_FLOAT && cls != H5T_INTEGER) || H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0)
    throw InputError("HDF5 file '" + path_ + "': attribute '" + attr + "' of '" + o +
                     "' is not a number");
  return v;
}

}  // namespace kpde::io
