#include "mesh/geometry.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "core/error.hpp"
#include "mesh/sobol.hpp"

namespace kpde::mesh {

namespace {

std::string box_text(const Point& lo, const Point& hi, int dim) {
  std::ostringstream s;
  for (int i = 0; i < dim; ++i) s << (i ? "x[" : "[") << lo[i] << "," << hi[i] << "]";
  return s.str();
}

std::string join_list(const std::vector<std::string>& items) {
  std::string s;
  for (std::size_t i = 0; i < items.size(); ++i)
    s += (i ? (i + 1 == items.size() ? " and " : ", ") : "") + items[i];
  return s;
}

/// Runs f(i) for i in [0, n): a Kokkos host parallel_for from kParallelMin points on,
/// a plain loop below (a parallel region costs more than a few thousand sdf calls).
constexpr int kParallelMin = 4096;
template <class F>
void for_points(const char* label, int n, const F& f) {
  if (n < kParallelMin) {
    for (int i = 0; i < n; ++i) f(i);
    return;
  }
  Kokkos::parallel_for(label, Kokkos::RangePolicy<HostExec>(0, n), f);
  Kokkos::fence();
}

}  // namespace

Geometry::Geometry(const Shape& root, const GeometryOptions& options)
    : root_(root), dim_(root.dim()) {
  if (options.n_volume_samples < 1 || options.n_boundary_cells < 1)
    throw InputError("geometry: n_volume_samples and n_boundary_cells must be >= 1");
  max_depth_ = compile(root_, 1);
  // part table
  std::map<std::string, int> seen;
  for (int l = 0; l < static_cast<int>(leaves_.size()); ++l) {
    Leaf& leaf = leaves_[l];
    leaf.part_base = static_cast<int>(parts_.size());
    for (int k = 0; k < leaf.primitive->n_parts(); ++k) {
      const std::string name = leaf.primitive->part_name(k);
      auto it = seen.find(name);
      if (it != seen.end()) {
        const Primitive& other = *leaves_[parts_[it->second].leaf].primitive;
        throw InputError("geometry: the boundary part name '" + name + "' is used twice (by " +
                         other.describe() + " and " + leaf.primitive->describe() +
                         "); give every shape its own name" +
                         (leaf.primitive->name().empty() ? " (a second box needs a name)" : ""));
      }
      seen[name] = static_cast<int>(parts_.size());
      Part p;
      p.leaf = l;
      p.local = k;
      parts_.push_back(p);
      names_.push_back(name);
    }
  }
  // bounding box
  shape_bounds(root_, &lo_, &hi_);
  double d2 = 0;
  for (int i = 0; i < dim_; ++i) {
    if (!(lo_[i] < hi_[i]))
      throw InputError("geometry: the domain is empty: " + root_.describe() +
                       " has an empty bounding box (the shapes do not overlap)");
    d2 += (hi_[i] - lo_[i]) * (hi_[i] - lo_[i]);
  }
  scale_ = std::sqrt(d2);
  check_not_empty(options);
  measure_parts(options);
}

int Geometry::compile(const Shape& s, int polarity) {
  if (s.op() == Shape::Op::primitive) {
    Leaf leaf;
    leaf.primitive = s.primitive();
    leaf.polarity = polarity;
    leaves_.push_back(leaf);
    program_.push_back({Shape::Op::primitive, static_cast<int>(leaves_.size()) - 1});
    return 1;
  }
  const int da = compile(s.operand(0), polarity);
  const int db = compile(s.operand(1), s.op() == Shape::Op::subtract ? -polarity : polarity);
  program_.push_back({s.op(), -1});
  return std::max(da, db + 1);
}

void Geometry::shape_bounds(const Shape& s, Point* lo, Point* hi) const {
  if (s.op() == Shape::Op::primitive) {
    s.primitive()->bounds(lo, hi);
    return;
  }
  Point alo, ahi, blo, bhi;
  shape_bounds(s.operand(0), &alo, &ahi);
  if (s.op() == Shape::Op::subtract) {
    *lo = alo, *hi = ahi;
    return;
  }
  shape_bounds(s.operand(1), &blo, &bhi);
  for (int i = 0; i < 3; ++i) {
    if (s.op() == Shape::Op::unite) {
      (*lo)[i] = std::min(alo[i], blo[i]);
      (*hi)[i] = std::max(ahi[i], bhi[i]);
    } else {
      (*lo)[i] = std::max(alo[i], blo[i]);
      (*hi)[i] = std::min(ahi[i], bhi[i]);
    }
  }
}

Geometry::Eval Geometry::evaluate(const Point& x) const {
  Eval small[32];
  std::vector<Eval> big;
  Eval* st = small;
  if (max_depth_ > 32) {
    big.resize(max_depth_);
    st = big.data();
  }
  int top = 0;
  for (const Instr& in : program_) {
    if (in.op == Shape::Op::primitive) {
      st[top++] = {leaves_[in.leaf].primitive->sdf(x), in.leaf};
      continue;
    }
    Eval b = st[--top];
    Eval& a = st[top - 1];
    switch (in.op) {
      case Shape::Op::unite:
        if (b.value < a.value) a = b;
        break;
      case Shape::Op::intersect:
        if (b.value > a.value) a = b;
        break;
      case Shape::Op::subtract:
        b.value = -b.value;
        if (b.value > a.value) a = b;
        break;
      default: break;
    }
  }
  return st[0];
}

void Geometry::check_not_empty(const GeometryOptions& options) {
  const int n = options.n_volume_samples;
  SobolSequence sobol(dim_);
  sobol.skip(1);
  int count = 0;
  double u[3];
  for (int i = 0; i < n; ++i) {  // serial: cheaper than a parallel region at this size
    sobol.next(u);
    Point x{0, 0, 0};
    for (int k = 0; k < dim_; ++k) x[k] = lo_[k] + u[k] * (hi_[k] - lo_[k]);
    count += sdf(x) < 0;
  }
  double vol = 1;
  for (int k = 0; k < dim_; ++k) vol *= hi_[k] - lo_[k];
  measure_ = vol * count / n;
  if (count > 0) return;
  std::vector<std::string> holes, solids;
  for (const Leaf& l : leaves_)
    (l.polarity < 0 ? holes : solids).push_back(l.primitive->describe());
  const std::string where = box_text(lo_, hi_, dim_);
  if (!holes.empty())
    throw InputError("geometry: the domain is empty: the hole" +
                     std::string(holes.size() > 1 ? "s " : " ") + join_list(holes) +
                     (holes.size() > 1 ? " cover" : " covers") + " all of " +
                     join_list(solids) + " (no interior point among " + std::to_string(n) +
                     " samples of the bounding box " + where + ")");
  throw InputError("geometry: the domain is empty: " + root_.describe() +
                   " has no interior point among " + std::to_string(n) + " samples of " + where);
}

void Geometry::measure_parts(const GeometryOptions& options) {
  for (int id = 0; id < n_parts(); ++id) {
    Part& part = parts_[id];
    const Primitive& prim = *leaves_[part.leaf].primitive;
    const int p = prim.param_dim();
    const int m = p == 1 ? options.n_boundary_cells
                         : std::max(1, static_cast<int>(std::lround(
                                           std::sqrt(double(options.n_boundary_cells)))));
    part.cells_per_axis = m;
    const int n_cells = p == 1 ? m : m * m;
    std::vector<char> ok(n_cells, 0);
    int n_ok = 0;
    for (int c = 0; c < n_cells; ++c) {
      double u[2] = {(c % m + 0.5) / m, p == 2 ? (c / m + 0.5) / m : 0.0};
      Point x, n;
      ok[c] = part_point(id, u, &x, &n);
      n_ok += ok[c];
    }
    part.length = prim.part_measure(part.local) * n_ok / n_cells;
    std::vector<char> cand(n_cells, 0);
    for (int c = 0; c < n_cells; ++c) {
      if (!ok[c]) continue;
      if (p == 1) {
        for (int dc = -1; dc <= 1; ++dc) cand[(c + dc + m) % m] = 1;
      } else {
        const int ci = c % m, cj = c / m;
        for (int dj = -1; dj <= 1; ++dj)
          for (int di = -1; di <= 1; ++di)
            cand[((cj + dj + m) % m) * m + (ci + di + m) % m] = 1;
      }
    }
    for (int c = 0; c < n_cells; ++c)
      if (cand[c]) part.candidates.push_back(c);
    if (n_ok == 0 && !prim.name().empty() && !options.allow_unused_parts)
      throw InputError("geometry: boundary part '" + names_[id] +
                       "' has zero length on the domain boundary: " + prim.describe() +
                       " lies outside the domain, inside another hole, or is swallowed by a "
                       "union, so it changes nothing");
  }
}

const std::string& Geometry::part_name(int id) const {
  KPDE_ASSERT(id >= 0 && id < n_parts(), "Geometry::part_name: id out of range");
  return names_[id];
}

int Geometry::find_part(const std::string& name) const {
  for (int i = 0; i < n_parts(); ++i)
    if (names_[i] == name) return i;
  return -1;
}

int Geometry::part_id(const std::string& name) const {
  const int id = find_part(name);
  if (id < 0) {
    std::string known;
    for (int i = 0; i < n_parts(); ++i) known += (i ? ", " : "") + names_[i];
    throw InputError("geometry: there is no boundary part '" + name + "' (the parts are: " +
                     known + ")");
  }
  if (parts_[id].length <= 0)
    throw InputError("geometry: boundary part '" + name +
                     "' has zero length on the domain boundary (other shapes cover it)");
  return id;
}

double Geometry::part_length(int id) const {
  KPDE_ASSERT(id >= 0 && id < n_parts(), "Geometry::part_length: id out of range");
  return parts_[id].length;
}

double Geometry::estimate_measure(int n_samples) const {
  if (n_samples < 1) throw InputError("geometry: estimate_measure needs n_samples >= 1");
  SobolSequence sobol(dim_);
  sobol.skip(1);
  long count = 0;
  double u[3];
  for (int i = 0; i < n_samples; ++i) {
    sobol.next(u);
    Point x{0, 0, 0};
    for (int k = 0; k < dim_; ++k) x[k] = lo_[k] + u[k] * (hi_[k] - lo_[k]);
    count += inside(x);
  }
  double vol = 1;
  for (int k = 0; k < dim_; ++k) vol *= hi_[k] - lo_[k];
  return vol * double(count) / n_samples;
}

double Geometry::sdf(const Point& x) const { return evaluate(x).value; }

Point Geometry::normal(const Point& x) const {
  const Eval e = evaluate(x);
  const Leaf& leaf = leaves_[e.leaf];
  Point g = leaf.primitive->gradient(x, nullptr);
  for (double& v : g) v *= leaf.polarity;
  return g;
}

int Geometry::closest_part(const Point& x) const {
  const Eval e = evaluate(x);
  const Leaf& leaf = leaves_[e.leaf];
  int local = 0;
  leaf.primitive->gradient(x, &local);
  return leaf.part_base + local;
}

void Geometry::sdf(const Mat<const double>& x, const Vec<double>& out) const {
  KPDE_ASSERT(static_cast<int>(x.extent(1)) == dim_ && out.extent(0) == x.extent(0),
              "Geometry::sdf: x must be [n][dim] and out [n]");
  const Geometry* self = this;
  for_points("kpde::mesh::sdf", static_cast<int>(x.extent(0)),
             [=](int i) { out(i) = self->sdf(row_point(x, i)); });
}

void Geometry::normals(const Mat<const double>& x, const Mat<double>& out) const {
  KPDE_ASSERT(static_cast<int>(x.extent(1)) == dim_ && out.extent(0) == x.extent(0) &&
                  out.extent(1) == x.extent(1),
              "Geometry::normals: x and out must be [n][dim]");
  const Geometry* self = this;
  const int d = dim_;
  for_points("kpde::mesh::normals", static_cast<int>(x.extent(0)), [=](int i) {
    const Point n = self->normal(row_point(x, i));
    for (int k = 0; k < d; ++k) out(i, k) = n[k];
  });
}

void Geometry::closest_parts(const Mat<const double>& x, const Vec<int>& out) const {
  KPDE_ASSERT(static_cast<int>(x.extent(1)) == dim_ && out.extent(0) == x.extent(0),
              "Geometry::closest_parts: x must be [n][dim] and out [n]");
  const Geometry* self = this;
  for_points("kpde::mesh::closest_parts", static_cast<int>(x.extent(0)),
             [=](int i) { out(i) = self->closest_part(row_point(x, i)); });
}

int Geometry::param_dim(int id) const {
  return leaves_[parts_[id].leaf].primitive->param_dim();
}

int Geometry::cells_per_axis(int id) const { return parts_[id].cells_per_axis; }

const std::vector<int>& Geometry::candidate_cells(int id) const { return parts_[id].candidates; }

bool Geometry::part_point(int id, const double* u, Point* x, Point* normal) const {
  const Part& part = parts_[id];
  const Leaf& leaf = leaves_[part.leaf];
  Point n;
  *x = leaf.primitive->part_point(part.local, u, &n);
  for (double& v : n) v *= leaf.polarity;
  *normal = n;
  return on_boundary(id, *x, n);
}

bool Geometry::on_boundary(int id, const Point& x, const Point& n) const {
  const Eval e = evaluate(x);
  if (!(std::abs(e.value) <= 1e-10 * scale_)) return false;
  if (e.leaf != parts_[id].leaf) return false;
  const double h = 1e-7 * scale_;
  Point xp = x, xm = x;
  for (int k = 0; k < dim_; ++k) xp[k] += h * n[k], xm[k] -= h * n[k];
  return sdf(xp) > 0 && sdf(xm) < 0;
}

}  // namespace kpde::mesh
