#include "data/dataset.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <sstream>

#include "core/error.hpp"
#include "core/rng.hpp"

namespace kpde::data {

namespace {

using DType = io::H5File::DType;

const char* type_name(DType t) {
  switch (t) {
    case DType::float64: return "float64";
    case DType::float32: return "float32";
    case DType::int32: return "int32";
    case DType::uint8: return "uint8";
  }
  return "?";
}

constexpr const char* kLayout =
    "pixel (i, j) of an [n x n] grid at x = x_lo + (x_hi - x_lo) j/(n-1), y = y_hi - (y_hi - y_lo) i/(n-1): "
    "row 0 at y = y_hi (HyPINO's convention), column 0 at x = x_lo";

/// Numeric fields of an MMS sample in schema order (pointers into the sample).
std::vector<const std::vector<double>*> mms_arrays(const MmsSample& s) {
  return {&s.domain_mask,     &s.dirichlet_mask,   &s.neumann_mask,      &s.dirichlet_values, &s.neumann_values,
          &s.source,          &s.normals,          &s.u,                 &s.u_x,              &s.u_y,
          &s.u_xx,            &s.u_yy,             &s.u_xy,              &s.interior_points,  &s.interior_source,
          &s.interior_solution, &s.boundary_points, &s.boundary_normals, &s.boundary_kind,    &s.boundary_values};
}
std::vector<std::vector<double>*> mms_arrays(MmsSample& s) {
  std::vector<std::vector<double>*> out;
  for (auto* p : mms_arrays(static_cast<const MmsSample&>(s))) out.push_back(const_cast<std::vector<double>*>(p));
  return out;
}
constexpr int kMmsScalars = 5;  // coefficients, operator_class, has_solution, source_constant, attempts

}  // namespace

std::size_t DatasetSchema::sample_size(std::size_t k) const {
  std::size_t s = 1;
  for (auto d : fields[k].shape) s *= d;
  return s;
}

std::string DatasetSchema::text() const {
  std::ostringstream o;
  for (const auto& f : fields) {
    o << f.name << "  " << type_name(f.type) << "  [N";
    for (auto d : f.shape) o << " x " << d;
    o << "]  " << f.description << "\n";
  }
  for (const auto& s : strings) o << s.name << "  string  [N]  " << s.description << "\n";
  return o.str();
}

DatasetSchema mms_schema(const MmsSettings& s, bool float64) {
  const DType ft = float64 ? DType::float64 : DType::float32;
  const std::size_t n = static_cast<std::size_t>(s.grid), P = static_cast<std::size_t>(s.n_interior),
                    Q = static_cast<std::size_t>(s.n_boundary);
  DatasetSchema d;
  d.kind = "mms";
  d.grid = s.grid;
  d.fields = {
      {"coefficients", DType::float64, {6}, "operator coefficients (c_u, c_ux, c_uy, c_uxx, c_uyy, c_uxy) of L[u] = f"},
      {"operator_class", DType::int32, {}, "0 elliptic, 1 parabolic, 2 hyperbolic, 3 first order (y is time unless elliptic)"},
      {"has_solution", DType::uint8, {}, "1: manufactured (solution fields hold u), 0: physics-only (solution fields NaN)"},
      {"source_constant", DType::float64, {}, "physics-only: the constant source f; NaN for manufactured samples"},
      {"attempts", DType::int32, {}, "draws the generator needed for this sample (1 = first draw accepted)"},
      {"domain_mask", DType::uint8, {n, n}, "1 at grid nodes in the closure of the domain"},
      {"dirichlet_mask", DType::uint8, {n, n}, "1 at boundary-band nodes of parts with a Dirichlet condition"},
      {"neumann_mask", DType::uint8, {n, n}, "1 at boundary-band nodes of parts with a Neumann condition"},
      {"dirichlet_values", ft, {n, n}, "u (or g) at Dirichlet-mask nodes, 0 elsewhere"},
      {"neumann_values", ft, {n, n}, "n . grad u (or g) at Neumann-mask nodes (n the outward normal there), 0 elsewhere"},
      {"source", ft, {n, n}, "f = L[u] at domain nodes (exact jets), 0 outside"},
      {"normals", ft, {n, n, 2}, "outward unit normal (n_x, n_y) of the closest boundary part at conditioned band nodes, 0 elsewhere"},
      {"solution", ft, {n, n}, "u at domain nodes, 0 outside, NaN if unknown"},
      {"u_x", ft, {n, n}, "du/dx (as solution)"},
      {"u_y", ft, {n, n}, "du/dy (as solution)"},
      {"u_xx", ft, {n, n}, "d2u/dx2 (as solution)"},
      {"u_yy", ft, {n, n}, "d2u/dy2 (as solution)"},
      {"u_xy", ft, {n, n}, "d2u/dxdy (as solution)"},
      {"interior_points", DType::float64, {P, 2}, "training points (x, y), uniform in the open domain"},
      {"interior_source", DType::float64, {P}, "f at interior_points"},
      {"interior_solution", DType::float64, {P}, "u at interior_points (NaN if unknown)"},
      {"boundary_points", DType::float64, {Q, 2}, "training points on the conditioned boundary parts (Dirichlet ones first)"},
      {"boundary_normals", DType::float64, {Q, 2}, "outward unit normals at boundary_points"},
      {"boundary_kind", DType::uint8, {Q}, "0: Dirichlet point (value u), 1: Neumann point (value n . grad u)"},
      {"boundary_values", DType::float64, {Q}, "the condition's data at boundary_points"},
  };
  d.strings = {
      {"solution_expression", "u(x, y) as a kpde expression (docs/expressions.md); empty if unknown"},
      {"boundary_function", "the function whose traces are the boundary data (= solution_expression if known)"},
      {"operator", "L[u] as text, e.g. 1.2*u_xx + 0.7*u_yy"},
      {"geometry", "the domain: the box [-1,1]^2 minus the holes, with their parameters"},
      {"conditions", "the condition kinds per boundary part"},
  };
  return d;
}

DatasetSchema darcy_schema(const DarcySettings& s, bool float64) {
  const DType ft = float64 ? DType::float64 : DType::float32;
  const std::size_t n = static_cast<std::size_t>(s.grid);
  DatasetSchema d;
  d.kind = "darcy";
  d.grid = s.grid;
  d.x_lo = 0, d.x_hi = 1, d.y_lo = 0, d.y_hi = 1;
  d.fields = {
      {"field", ft, {n, n}, "the Gaussian random field g at the nodes"},
      {"permeability", ft, {n, n}, "a = a_plus where g > 0, a_minus elsewhere"},
      {"solution", ft, {n, n}, "u solving -div(a grad u) = source at the interior nodes of the mask, 0 at the other nodes (reference solver)"},
      {"mask", DType::uint8, {n, n}, "1 at the nodes of the domain (geometry " + darcy_geometry_name(s.geometry) + ")"},
      {"iterations", DType::int32, {}, "Krylov iterations of the reference solve"},
  };
  d.text_attributes = {{"geometry", darcy_geometry_name(s.geometry)}};
  return d;
}

DatasetSchema antiderivative_schema(const AntiderivativeSettings& s, bool float64) {
  const DType ft = float64 ? DType::float64 : DType::float32;
  DatasetSchema d;
  d.kind = "antiderivative";
  d.grid = s.sensors;
  d.x_lo = 0, d.x_hi = 1, d.y_lo = 0, d.y_hi = 0;
  d.fields = {
      {"u", ft, {static_cast<std::size_t>(s.sensors)},
       "the input function at the sensors x_i = i/(m-1) (a Gaussian random field, length scale " +
           std::to_string(s.length_scale) + ")"},
      {"s", ft, {static_cast<std::size_t>(s.points)},
       "s(y_j) = int_0^y_j u, y_j = j/(P-1) (s' = u, s(0) = 0)"},
  };
  return d;
}

DatasetSchema fisher_schema(const FisherSettings& s, bool float64) {
  const DType ft = float64 ? DType::float64 : DType::float32;
  const std::size_t P = static_cast<std::size_t>(s.points), T = static_cast<std::size_t>(s.times);
  DatasetSchema d;
  d.kind = "fisher";
  d.grid = s.points;
  d.x_lo = 0, d.x_hi = 1, d.y_lo = 0, d.y_hi = 1;
  d.layout = "u[j][i] at x_i = i/(P-1) (attribute x), t_j = j/(T-1) (attribute t): row 0 at t = 0 (u0)";
  d.fields = {
      {"coefficients", DType::float64, {4}, "(c1, c2, c3, c4) of R(u) = c1 u + c2 u^2 + c3 u^3 + c4 u^4"},
      {"task", DType::int32, {}, "reaction form - 1: 0 a(u - u^2), 1 a(u - u^3), 2 a u(1-u)e^{beta(u-1)} to second order"},
      {"a", DType::float64, {}, "the rate a"},
      {"beta", DType::float64, {}, "beta of form 3; NaN for forms 1 and 2"},
      {"u0", ft, {P}, "the initial condition at x_i"},
      {"u", ft, {T, P}, "u(x_i, t_j) of u_t = D u_xx + R(u), u_x = 0 at x = 0, 1 (row 0 = u0)"},
  };
  std::vector<double> x(P), t(T);
  for (std::size_t i = 0; i < P; ++i) x[i] = i + 1 == P ? 1.0 : static_cast<double>(i) / static_cast<double>(P - 1);
  for (std::size_t j = 0; j < T; ++j) t[j] = j + 1 == T ? 1.0 : static_cast<double>(j) / static_cast<double>(T - 1);
  d.number_attributes = {{"x", x}, {"t", t}, {"diffusion", {s.diffusion}}};
  return d;
}

SampleRecord to_record(const FisherSample& s) {
  SampleRecord r;
  r.values = {std::vector<double>(s.coefficients.begin(), s.coefficients.end()),
              {static_cast<double>(s.form - 1)},
              {s.a},
              {s.beta},
              s.u0,
              s.u};
  return r;
}

SampleRecord to_record(const AntiderivativeSample& s) {
  SampleRecord r;
  r.values = {s.u, s.s};
  return r;
}

SampleRecord to_record(const MmsSample& s) {
  SampleRecord r;
  r.values.push_back(std::vector<double>(s.coefficients.begin(), s.coefficients.end()));
  r.values.push_back({static_cast<double>(static_cast<int>(s.op_class))});
  r.values.push_back({s.has_solution ? 1.0 : 0.0});
  r.values.push_back({s.source_constant});
  r.values.push_back({static_cast<double>(s.attempts)});
  for (const auto* a : mms_arrays(s)) r.values.push_back(*a);
  r.texts = {s.solution, s.boundary_function, s.operator_text, s.geometry, s.conditions};
  return r;
}

SampleRecord to_record(const DarcySample& s) {
  SampleRecord r;
  r.values = {s.field, s.permeability, s.solution, s.mask, {static_cast<double>(s.iterations)}};
  return r;
}

std::vector<char> pack(const SampleRecord& r) {
  std::vector<char> out;
  auto put = [&out](const void* p, std::size_t n) {
    const char* c = static_cast<const char*>(p);
    out.insert(out.end(), c, c + n);
  };
  const std::uint64_t nv = r.values.size(), nt = r.texts.size();
  put(&nv, 8);
  for (const auto& v : r.values) {
    const std::uint64_t len = v.size();
    put(&len, 8);
    put(v.data(), 8 * v.size());
  }
  put(&nt, 8);
  for (const auto& t : r.texts) {
    const std::uint64_t len = t.size();
    put(&len, 8);
    put(t.data(), t.size());
  }
  return out;
}

SampleRecord unpack(const char* bytes, std::size_t size) {
  std::size_t pos = 0;
  auto get = [&](void* p, std::size_t n) {
    if (pos + n > size) throw Error("unpack: truncated sample record");
    if (n == 0) return;  // p may be the null data() of an empty vector
    std::memcpy(p, bytes + pos, n);
    pos += n;
  };
  SampleRecord r;
  std::uint64_t nv = 0, nt = 0, len = 0;
  get(&nv, 8);
  r.values.resize(nv);
  for (auto& v : r.values) {
    get(&len, 8);
    v.resize(len);
    get(v.data(), 8 * len);
  }
  get(&nt, 8);
  r.texts.resize(nt);
  for (auto& t : r.texts) {
    get(&len, 8);
    t.resize(len);
    get(t.data(), len);
  }
  return r;
}

EncodedSample encode(const SampleRecord& record, const DatasetSchema& schema, int gzip_level) {
  if (record.values.size() != schema.fields.size() || record.texts.size() != schema.strings.size())
    throw Error("encode: a sample record does not match the '" + schema.kind + "' schema");
  EncodedSample e;
  e.chunks.resize(schema.fields.size());
  e.masks.assign(schema.fields.size(), 0u);
  for (std::size_t k = 0; k < schema.fields.size(); ++k) {
    const FieldSpec& f = schema.fields[k];
    const std::size_t size = schema.sample_size(k), width = io::dtype_size(f.type);
    if (record.values[k].size() != size)
      throw Error("encode: field '" + f.name + "' has " + std::to_string(record.values[k].size()) + " values, expected " +
                  std::to_string(size));
    std::vector<unsigned char> raw(size * width);
    io::encode_values(f.type, record.values[k].data(), size, raw.data());
    if (f.shape.empty() || size == 0)
      e.chunks[k] = std::move(raw);
    else
      e.chunks[k] = io::filter_chunk(raw, width, gzip_level, &e.masks[k]);
  }
  e.texts = record.texts;
  return e;
}

std::vector<char> pack(const EncodedSample& e) {
  std::vector<char> out;
  auto put = [&out](const void* p, std::size_t n) {
    const char* c = static_cast<const char*>(p);
    out.insert(out.end(), c, c + n);
  };
  std::size_t total = 16;
  for (const auto& c : e.chunks) total += 12 + c.size();
  for (const auto& t : e.texts) total += 8 + t.size();
  out.reserve(total);
  const std::uint64_t nc = e.chunks.size(), nt = e.texts.size();
  put(&nc, 8);
  for (std::size_t k = 0; k < e.chunks.size(); ++k) {
    const std::uint32_t mask = k < e.masks.size() ? e.masks[k] : 0u;
    const std::uint64_t len = e.chunks[k].size();
    put(&mask, 4);
    put(&len, 8);
    put(e.chunks[k].data(), e.chunks[k].size());
  }
  put(&nt, 8);
  for (const auto& t : e.texts) {
    const std::uint64_t len = t.size();
    put(&len, 8);
    put(t.data(), t.size());
  }
  return out;
}

EncodedSample unpack_encoded(const char* bytes, std::size_t size) {
  std::size_t pos = 0;
  auto get = [&](void* p, std::size_t n) {
    if (n > size - pos) throw Error("unpack: truncated encoded sample");
    if (n == 0) return;
    std::memcpy(p, bytes + pos, n);
    pos += n;
  };
  EncodedSample e;
  std::uint64_t nc = 0, nt = 0, len = 0;
  get(&nc, 8);
  if (nc > size) throw Error("unpack: bad encoded sample");
  e.chunks.resize(nc);
  e.masks.resize(nc);
  for (std::size_t k = 0; k < nc; ++k) {
    std::uint32_t mask = 0;
    get(&mask, 4);
    e.masks[k] = mask;
    get(&len, 8);
    if (len > size - pos) throw Error("unpack: truncated encoded sample");
    e.chunks[k].resize(len);
    get(e.chunks[k].data(), len);
  }
  get(&nt, 8);
  if (nt > size) throw Error("unpack: bad encoded sample");
  e.texts.resize(nt);
  for (auto& t : e.texts) {
    get(&len, 8);
    if (len > size - pos) throw Error("unpack: truncated encoded sample");
    t.resize(len);
    get(t.data(), len);
  }
  return e;
}

DatasetWriter::DatasetWriter(const std::string& path, const DatasetSchema& schema, long n_samples, int gzip_level)
    : file_(io::H5File::create(path)), schema_(schema), n_(n_samples),
      gzip_(gzip_level > 0 && io::deflate_available() ? std::min(gzip_level, 9) : 0) {
  for (const auto& f : schema_.fields) {
    io::Shape shape{static_cast<std::size_t>(n_samples)};
    shape.insert(shape.end(), f.shape.begin(), f.shape.end());
    io::Shape chunk(shape);
    chunk[0] = f.shape.empty() ? std::min<std::size_t>(shape[0], 4096) : 1;
    bool empty = false;
    for (auto d : shape) empty |= d == 0;
    file_.create_dataset(f.name, f.type, shape, empty ? io::Shape{} : chunk, gzip_level);
    file_.set_attribute(f.name, "description", f.description);
    std::ostringstream s;
    s << "[N";
    for (auto d : f.shape) s << " x " << d;
    s << "]";
    file_.set_attribute(f.name, "shape", s.str());
  }
  for (const auto& sf : schema_.strings) {
    file_.create_strings(sf.name, static_cast<std::size_t>(n_samples));
    file_.set_attribute(sf.name, "description", sf.description);
  }
  for (std::size_t k = 0; k < schema_.fields.size(); ++k) {
    rows_.push_back(file_.chunk_rows(schema_.fields[k].name));
    scalars_.emplace_back(schema_.fields[k].shape.empty() ? rows_.back() * io::dtype_size(schema_.fields[k].type) : 0, 0);
  }
  if (!schema_.strings.empty()) string_rows_ = std::max<std::size_t>(1, file_.chunk_rows(schema_.strings[0].name));
  texts_.resize(schema_.strings.size());
  file_.set_attribute("/", "format", "kpde-dataset");
  file_.set_attribute("/", "format_version", 1.0);
  file_.set_attribute("/", "kind", schema_.kind);
  file_.set_attribute("/", "n_samples", static_cast<double>(n_samples));
  file_.set_attribute("/", "grid", static_cast<double>(schema_.grid));
  file_.set_attribute("/", "x_lo", schema_.x_lo);
  file_.set_attribute("/", "x_hi", schema_.x_hi);
  file_.set_attribute("/", "y_lo", schema_.y_lo);
  file_.set_attribute("/", "y_hi", schema_.y_hi);
  file_.set_attribute("/", "layout", schema_.layout.empty() ? std::string(kLayout) : schema_.layout);
  file_.set_attribute("/", "schema", schema_.text());
  for (const auto& [name, value] : schema_.text_attributes) file_.set_attribute("/", name, value);
  for (const auto& [name, values] : schema_.number_attributes) file_.set_attribute("/", name, values);
}

void DatasetWriter::write(long first, const std::vector<SampleRecord>& records) {
  if (records.empty()) return;
  if (first < 0 || first + static_cast<long>(records.size()) > n_) throw Error("DatasetWriter: samples out of range");
  const std::size_t count = records.size();
  for (std::size_t k = 0; k < schema_.fields.size(); ++k) {
    const std::size_t size = schema_.sample_size(k);
    std::vector<double> buf(count * size);
    for (std::size_t r = 0; r < count; ++r) {
      if (records[r].values.size() != schema_.fields.size() || records[r].values[k].size() != size)
        throw Error("DatasetWriter: field '" + schema_.fields[k].name + "' of sample " + std::to_string(first + static_cast<long>(r)) +
                    " has the wrong size");
      std::copy(records[r].values[k].begin(), records[r].values[k].end(), buf.begin() + static_cast<long>(r * size));
    }
    file_.write_rows(schema_.fields[k].name, static_cast<std::size_t>(first), count, buf.data());
  }
  for (std::size_t k = 0; k < schema_.strings.size(); ++k) {
    std::vector<std::string> t(count);
    for (std::size_t r = 0; r < count; ++r) t[r] = records[r].texts.at(k);
    file_.write_string_rows(schema_.strings[k].name, static_cast<std::size_t>(first), t);
  }
}

void DatasetWriter::append(const EncodedSample& e) {
  if (next_ >= n_) throw Error("DatasetWriter: more than " + std::to_string(n_) + " samples appended");
  if (e.chunks.size() != schema_.fields.size() || e.masks.size() != e.chunks.size() ||
      e.texts.size() != schema_.strings.size())
    throw Error("DatasetWriter: encoded sample " + std::to_string(next_) + " does not match the schema");
  const long i = next_;
  for (std::size_t k = 0; k < schema_.fields.size(); ++k) {
    const FieldSpec& f = schema_.fields[k];
    if (rows_[k] == 0) continue;  // an empty field: nothing stored
    if (!f.shape.empty()) {
      file_.write_chunk(f.name, static_cast<std::size_t>(i), e.chunks[k], e.masks[k]);
      continue;
    }
    const std::size_t width = io::dtype_size(f.type);
    if (e.chunks[k].size() != width)
      throw Error("DatasetWriter: encoded field '" + f.name + "' of sample " + std::to_string(i) + " has the wrong size");
    std::memcpy(scalars_[k].data() + (static_cast<std::size_t>(i) % rows_[k]) * width, e.chunks[k].data(), width);
  }
  for (std::size_t k = 0; k < texts_.size(); ++k) texts_[k].push_back(e.texts[k]);
  ++next_;
  flush_buffers(i);
}

// Writes the buffered chunks of the scalar and string fields that sample `last`
// completes (or all of them when last = n - 1, or at close()).
void DatasetWriter::flush_buffers(long last) {
  const auto at_end = [&](std::size_t rows) {
    return last + 1 == n_ || static_cast<std::size_t>(last + 1) % rows == 0;
  };
  const std::size_t i = static_cast<std::size_t>(last);
  for (std::size_t k = 0; k < schema_.fields.size(); ++k) {
    const FieldSpec& f = schema_.fields[k];
    if (!f.shape.empty() || rows_[k] == 0 || !at_end(rows_[k])) continue;
    // a partial last chunk is stored whole with zeros (the fill value) after the end
    unsigned mask = 0;
    const auto bytes = io::filter_chunk(scalars_[k], io::dtype_size(f.type), gzip_, &mask);
    file_.write_chunk(f.name, i - i % rows_[k], bytes, mask);
    std::fill(scalars_[k].begin(), scalars_[k].end(), 0);
  }
  if (!texts_.empty() && at_end(string_rows_) && !texts_[0].empty()) {
    const std::size_t first = i + 1 - texts_[0].size();
    for (std::size_t k = 0; k < texts_.size(); ++k) {
      file_.write_string_rows(schema_.strings[k].name, first, texts_[k]);
      texts_[k].clear();
    }
  }
}

void DatasetWriter::close() {
  // samples append()ed short of n: store what the buffers hold
  if (next_ > 0 && next_ < n_) {
    const long keep = n_;
    n_ = next_;
    flush_buffers(next_ - 1);
    n_ = keep;
  }
  file_.close();
}

// ---- reader

DatasetReader::DatasetReader(const std::string& path) : file_(io::H5File::open(path)) {
  const std::string where = "dataset file '" + path + "'";
  if (!file_.has_attribute("/", "format") || file_.string_attribute("/", "format") != "kpde-dataset")
    throw InputError(where + " is not a kpde dataset (no attribute format = kpde-dataset; make one with kpde generate)");
  const double version = file_.number_attribute("/", "format_version");
  if (version != 1) throw InputError(where + ": format_version " + std::to_string(version) + " is not supported (expected 1)");
  kind_ = file_.string_attribute("/", "kind");
  const double n = file_.number_attribute("/", "n_samples"), g = file_.number_attribute("/", "grid");
  if (!(n >= 0 && n < 1e12 && n == static_cast<double>(static_cast<long>(n))) || !(g >= 2 && g <= 65536))
    throw InputError(where + ": bad n_samples or grid attribute");
  n_ = static_cast<long>(n);
  grid_ = static_cast<int>(g);
  DatasetSchema expected;
  if (kind_ == "mms") {
    MmsSettings s;
    s.grid = grid_;
    s.n_interior = file_.exists("interior_points") ? static_cast<int>(file_.shape("interior_points").at(1)) : 0;
    s.n_boundary = file_.exists("boundary_points") ? static_cast<int>(file_.shape("boundary_points").at(1)) : 0;
    expected = mms_schema(s, false);
  } else if (kind_ == "darcy") {
    DarcySettings s;
    s.grid = grid_;
    expected = darcy_schema(s, false);
    if (!file_.exists("mask"))  // made before geometries existed (all squares)
      expected.fields.erase(std::remove_if(expected.fields.begin(), expected.fields.end(),
                                           [](const FieldSpec& f) { return f.name == "mask"; }),
                            expected.fields.end());
  } else if (kind_ == "antiderivative") {
    AntiderivativeSettings s;
    s.sensors = grid_;
    s.points = file_.exists("s") && file_.shape("s").size() == 2 ? static_cast<int>(file_.shape("s")[1]) : 0;
    expected = antiderivative_schema(s, false);
  } else if (kind_ == "fisher") {
    FisherSettings s;
    s.points = grid_;
    s.times = file_.exists("u") && file_.shape("u").size() == 3 ? static_cast<int>(file_.shape("u")[1]) : 0;
    expected = fisher_schema(s, false);
  } else {
    throw InputError(where + ": unknown kind '" + kind_ + "' (expected mms, darcy, antiderivative or fisher)");
  }
  for (const auto& f : expected.fields) {
    io::Shape shape{static_cast<std::size_t>(n_)};
    shape.insert(shape.end(), f.shape.begin(), f.shape.end());
    if (!file_.exists(f.name)) throw InputError(where + ": dataset '" + f.name + "' is missing");
    const io::Shape actual = file_.shape(f.name);
    if (actual != shape)
      throw InputError(where + ": dataset '" + f.name + "' has shape " + io::shape_string(actual) + ", expected " +
                       io::shape_string(shape));
  }
  for (const auto& s : expected.strings)
    if (!file_.exists(s.name)) throw InputError(where + ": dataset '" + s.name + "' is missing");
}

bool DatasetReader::has(const std::string& name) const { return file_.exists(name); }

io::Shape DatasetReader::sample_shape(const std::string& name) const {
  io::Shape s = file_.shape(name);
  s.erase(s.begin());
  return s;
}

void DatasetReader::check_index(long first, long count) const {
  if (first < 0 || count < 0 || first + count > n_)
    throw InputError("dataset file '" + path() + "': samples " + std::to_string(first) + ".." +
                     std::to_string(first + count - 1) + " are out of range (it has " + std::to_string(n_) + ")");
}

std::vector<double> DatasetReader::read(const std::string& name, long first, long count) const {
  check_index(first, count);
  return file_.read_rows(name, static_cast<std::size_t>(first), static_cast<std::size_t>(count));
}

std::vector<float> DatasetReader::read_float(const std::string& name, long first, long count) const {
  check_index(first, count);
  return file_.read_rows_float(name, static_cast<std::size_t>(first), static_cast<std::size_t>(count));
}

std::vector<double> DatasetReader::batch(const std::string& name, const std::vector<long>& indices) const {
  std::size_t size = 1;
  for (auto d : sample_shape(name)) size *= d;
  std::vector<double> out(indices.size() * size);
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const std::vector<double> one = read(name, indices[k], 1);
    std::copy(one.begin(), one.end(), out.begin() + static_cast<long>(k * size));
  }
  return out;
}

std::vector<std::string> DatasetReader::strings(const std::string& name, long first, long count) const {
  check_index(first, count);
  return file_.read_strings(name, static_cast<std::size_t>(first), static_cast<std::size_t>(count));
}

MmsSample DatasetReader::mms_sample(long index) const {
  if (kind_ != "mms") throw InputError("dataset file '" + path() + "' holds " + kind_ + " samples, not mms");
  MmsSample s;
  s.n = grid_;
  const auto c = read("coefficients", index);
  std::copy(c.begin(), c.end(), s.coefficients.begin());
  s.op_class = static_cast<OperatorClass>(static_cast<int>(read("operator_class", index)[0]));
  s.has_solution = read("has_solution", index)[0] != 0;
  s.source_constant = read("source_constant", index)[0];
  s.attempts = static_cast<int>(read("attempts", index)[0]);
  MmsSettings dummy;
  dummy.grid = grid_;
  dummy.n_interior = static_cast<int>(file_.shape("interior_points").at(1));
  dummy.n_boundary = static_cast<int>(file_.shape("boundary_points").at(1));
  const DatasetSchema schema = mms_schema(dummy, false);
  const auto arrays = mms_arrays(s);
  for (std::size_t k = 0; k < arrays.size(); ++k) *arrays[k] = read(schema.fields[k + kMmsScalars].name, index);
  s.solution = strings("solution_expression", index)[0];
  s.boundary_function = strings("boundary_function", index)[0];
  s.operator_text = strings("operator", index)[0];
  s.geometry = strings("geometry", index)[0];
  s.conditions = strings("conditions", index)[0];
  return s;
}

DarcySample DatasetReader::darcy_sample(long index) const {
  if (kind_ != "darcy") throw InputError("dataset file '" + path() + "' holds " + kind_ + " samples, not darcy");
  DarcySample s;
  s.n = grid_;
  s.field = read("field", index);
  s.permeability = read("permeability", index);
  s.solution = read("solution", index);
  s.mask = has("mask") ? read("mask", index) : std::vector<double>(s.solution.size(), 1.0);
  s.iterations = static_cast<int>(read("iterations", index)[0]);
  return s;
}

// ---- batches

BatchSampler::BatchSampler(long n, long batch_size, std::uint64_t seed, bool drop_last)
    : n_(n), batch_(batch_size), seed_(seed), drop_last_(drop_last) {
  if (n < 1 || batch_size < 1) throw InputError("BatchSampler: need n >= 1 and batch_size >= 1");
  if (drop_last && batch_size > n) throw InputError("BatchSampler: batch_size exceeds the number of samples");
}

void BatchSampler::shuffle() {
  ++epoch_;
  order_.resize(static_cast<std::size_t>(n_));
  std::iota(order_.begin(), order_.end(), 0L);
  Rng rng(mix_seed(seed_, static_cast<std::uint64_t>(epoch_), 0xba7cULL));
  for (std::size_t i = order_.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng.uniform() * static_cast<double>(i));
    std::swap(order_[i - 1], order_[std::min(j, i - 1)]);
  }
  pos_ = 0;
}

std::vector<long> BatchSampler::next() {
  const std::size_t need = static_cast<std::size_t>(batch_);
  if (epoch_ < 0 || pos_ >= order_.size() || (drop_last_ && order_.size() - pos_ < need)) shuffle();
  const std::size_t end = std::min(order_.size(), pos_ + need);
  std::vector<long> out(order_.begin() + static_cast<long>(pos_), order_.begin() + static_cast<long>(end));
  pos_ = end;
  ++drawn_;
  return out;
}

std::vector<long> BatchSampler::replay(long count) {
  epoch_ = -1, pos_ = 0, drawn_ = 0;
  std::vector<long> last;
  while (drawn_ < count) last = next();
  return last;
}

}  // namespace kpde::data
