#include "mesh/primitive.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace kpde::mesh {

namespace {

constexpr double kTwoPi = 6.283185307179586476925;
const char* const kSideNames[6] = {"left", "right", "bottom", "top", "front", "back"};


double cross(const Vertex& o, const Vertex& a, const Vertex& b) {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

int sign_of(double v) { return (v > 0) - (v < 0); }

bool on_segment(const Vertex& a, const Vertex& b, const Vertex& p) {
  return std::min(a[0], b[0]) <= p[0] && p[0] <= std::max(a[0], b[0]) &&
         std::min(a[1], b[1]) <= p[1] && p[1] <= std::max(a[1], b[1]);
}

/// Closed segments ab and cd share at least one point (exact orientation signs).
bool segments_touch(const Vertex& a, const Vertex& b, const Vertex& c, const Vertex& d) {
  const int o1 = sign_of(cross(a, b, c)), o2 = sign_of(cross(a, b, d));
  const int o3 = sign_of(cross(c, d, a)), o4 = sign_of(cross(c, d, b));
  if (o1 * o2 < 0 && o3 * o4 < 0) return true;
  if (o1 == 0 && on_segment(a, b, c)) return true;
  if (o2 == 0 && on_segment(a, b, d)) return true;
  if (o3 == 0 && on_segment(c, d, a)) return true;
  if (o4 == 0 && on_segment(c, d, b)) return true;
  return false;
}

}  // namespace

// ---------------------------------------------------------------- Box

Box::Box(std::vector<double> lo, std::vector<double> hi, std::string name, std::string kind)
    : dim_(static_cast<int>(lo.size())), name_(std::move(name)), kind_(std::move(kind)) {
  const std::string what = name_.empty() ? kind_ : kind_ + " '" + name_ + "'";
  if (lo.size() != hi.size())
    throw InputError("geometry: " + what + ": lo has " + std::to_string(lo.size()) +
                     " coordinates but hi has " + std::to_string(hi.size()));
  if (dim_ < 1 || dim_ > 3)
    throw InputError("geometry: " + what + ": a box has 1 to 3 dimensions, got " +
                     std::to_string(dim_));
  for (int i = 0; i < dim_; ++i) {
    if (!std::isfinite(lo[i]) || !std::isfinite(hi[i]))
      throw InputError("geometry: " + what + ": corner coordinates must be finite");
    if (!(lo[i] < hi[i]))
      throw InputError("geometry: " + what + ": needs lo < hi on every axis, axis " +
                       std::to_string(i) + " has lo = " + format_number(lo[i]) + ", hi = " + format_number(hi[i]));
    lo_[i] = lo[i];
    hi_[i] = hi[i];
  }
}

std::string Box::describe() const {
  std::string s = name_.empty() ? "the " + kind_ + " [" : kind_ + " '" + name_ + "' [";
  for (int i = 0; i < dim_; ++i)
    s += (i ? "]x[" : "") + format_number(lo_[i]) + "," + format_number(hi_[i]);
  return s + "]";
}

double Box::sdf(const Point& x) const {
  double out2 = 0, qmax = -HUGE_VAL;
  for (int i = 0; i < dim_; ++i) {
    const double c = 0.5 * (lo_[i] + hi_[i]), h = 0.5 * (hi_[i] - lo_[i]);
    const double q = std::abs(x[i] - c) - h;
    if (q > 0) out2 += q * q;
    qmax = std::max(qmax, q);
  }
  return std::sqrt(out2) + std::min(qmax, 0.0);
}

Point Box::gradient(const Point& x, int* local_part) const {
  Point g{0, 0, 0};
  double q[3] = {0, 0, 0}, out2 = 0;
  int kmax = 0;
  for (int i = 0; i < dim_; ++i) {
    const double c = 0.5 * (lo_[i] + hi_[i]), h = 0.5 * (hi_[i] - lo_[i]);
    q[i] = std::abs(x[i] - c) - h;
    if (q[i] > 0) out2 += q[i] * q[i];
    if (q[i] > q[kmax]) kmax = i;
  }
  auto side_sign = [&](int i) {
    return x[i] >= 0.5 * (lo_[i] + hi_[i]) ? 1.0 : -1.0;
  };
  if (out2 > 0) {
    const double n = std::sqrt(out2);
    for (int i = 0; i < dim_; ++i)
      if (q[i] > 0) g[i] = side_sign(i) * q[i] / n;
  } else {
    g[kmax] = side_sign(kmax);
  }
  if (local_part)
    *local_part = name_.empty() ? 2 * kmax + (side_sign(kmax) > 0 ? 1 : 0) : 0;
  return g;
}

std::string Box::part_name(int k) const { return name_.empty() ? kSideNames[k] : name_; }

double Box::side_measure(int s) const {
  double m = 1;
  for (int i = 0; i < dim_; ++i)
    if (i != s / 2) m *= hi_[i] - lo_[i];
  return m;
}

double Box::part_measure(int k) const {
  if (!name_.empty()) {
    double m = 0;
    for (int s = 0; s < 2 * dim_; ++s) m += side_measure(s);
    return m;
  }
  return side_measure(k);
}

Point Box::side_point(int s, const double* u, Point* normal) const {
  const int axis = s / 2;
  Point p{0, 0, 0};
  int j = 0;
  for (int i = 0; i < dim_; ++i) {
    if (i == axis) {
      p[i] = (s % 2) ? hi_[i] : lo_[i];
    } else {
      p[i] = lo_[i] + u[j] * (hi_[i] - lo_[i]);
      ++j;
    }
  }
  if (normal) {
    *normal = Point{0, 0, 0};
    (*normal)[axis] = (s % 2) ? 1.0 : -1.0;
  }
  return p;
}

Point Box::part_point(int k, const double* u, Point* normal) const {
  if (name_.empty()) return side_point(k, u, normal);
  // one part made of all sides: u[0] picks the side by measure and is rescaled.
  const double total = part_measure(0);
  double acc = 0;
  int s = 0;
  for (; s < 2 * dim_ - 1; ++s) {
    const double m = side_measure(s) / total;
    if (u[0] < acc + m) break;
    acc += m;
  }
  double v[2] = {0, 0};
  const double m = side_measure(s) / total;
  v[0] = std::clamp((u[0] - acc) / m, 0.0, 1.0);
  if (dim_ == 3) v[1] = u[1];
  return side_point(s, v, normal);
}

void Box::bounds(Point* lo, Point* hi) const {
  *lo = lo_;
  *hi = hi_;
}

// ---------------------------------------------------------------- Disk

Disk::Disk(std::string name, double cx, double cy, double r)
    : name_(std::move(name)), cx_(cx), cy_(cy), r_(r) {
  if (name_.empty()) throw InputError("geometry: a disk needs a name (its boundary part)");
  if (!std::isfinite(cx) || !std::isfinite(cy) || !std::isfinite(r))
    throw InputError("geometry: disk '" + name_ + "': centre and radius must be finite");
  if (!(r > 0))
    throw InputError("geometry: disk '" + name_ + "': the radius must be > 0, got " + format_number(r));
}

std::string Disk::describe() const { return "disk '" + name_ + "'"; }

double Disk::sdf(const Point& x) const { return std::hypot(x[0] - cx_, x[1] - cy_) - r_; }

Point Disk::gradient(const Point& x, int* local_part) const {
  if (local_part) *local_part = 0;
  const double dx = x[0] - cx_, dy = x[1] - cy_, n = std::hypot(dx, dy);
  if (n == 0) return Point{1, 0, 0};
  return Point{dx / n, dy / n, 0};
}

double Disk::part_measure(int) const { return kTwoPi * r_; }

Point Disk::part_point(int, const double* u, Point* normal) const {
  const double t = kTwoPi * u[0], c = std::cos(t), s = std::sin(t);
  if (normal) *normal = Point{c, s, 0};
  return Point{cx_ + r_ * c, cy_ + r_ * s, 0};
}

void Disk::bounds(Point* lo, Point* hi) const {
  *lo = Point{cx_ - r_, cy_ - r_, 0};
  *hi = Point{cx_ + r_, cy_ + r_, 0};
}

// ---------------------------------------------------------------- Polygon

Polygon::Polygon(std::string name, std::vector<Vertex> v, std::string kind)
    : name_(std::move(name)), kind_(std::move(kind)), v_(std::move(v)) {
  if (name_.empty())
    throw InputError("geometry: a " + kind_ + " needs a name (its boundary part)");
  const std::string what = "geometry: " + describe() + ": ";
  if (v_.size() >= 2 && v_.front() == v_.back()) v_.pop_back();
  const std::size_t n = v_.size();
  if (n < 3)
    throw InputError(what + "needs at least 3 vertices, got " + std::to_string(n));
  double xmin = HUGE_VAL, xmax = -HUGE_VAL, ymin = HUGE_VAL, ymax = -HUGE_VAL;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v_[i][0]) || !std::isfinite(v_[i][1]))
      throw InputError(what + "vertex " + std::to_string(i) + " is not finite");
    xmin = std::min(xmin, v_[i][0]), xmax = std::max(xmax, v_[i][0]);
    ymin = std::min(ymin, v_[i][1]), ymax = std::max(ymax, v_[i][1]);
  }
  for (std::size_t i = 0; i < n; ++i)
    if (v_[i] == v_[(i + 1) % n])
      throw InputError(what + "vertices " + std::to_string(i) + " and " +
                       std::to_string((i + 1) % n) + " coincide");
  const double diam2 = (xmax - xmin) * (xmax - xmin) + (ymax - ymin) * (ymax - ymin);
  {
    std::size_t far = 1;  // the vertex farthest from vertex 0
    double best = 0;
    for (std::size_t i = 1; i < n; ++i) {
      const double dx = v_[i][0] - v_[0][0], dy = v_[i][1] - v_[0][1];
      if (dx * dx + dy * dy > best) best = dx * dx + dy * dy, far = i;
    }
    bool collinear = true;
    for (std::size_t i = 1; i < n && collinear; ++i)
      collinear = std::abs(cross(v_[0], v_[far], v_[i])) <= 1e-12 * diam2;
    if (collinear) throw InputError(what + "has zero area (its vertices lie on one line)");
  }
  // self-intersection: non-adjacent edges must not touch; adjacent ones must not fold back
  auto edge_name = [&](std::size_t i) {
    return "edge " + std::to_string(i) + " (vertex " + std::to_string(i) + " to " +
           std::to_string((i + 1) % n) + ")";
  };
  for (std::size_t i = 0; i < n; ++i) {
    const Vertex &a = v_[i], &b = v_[(i + 1) % n], &c = v_[(i + 2) % n];
    if (cross(a, b, c) == 0 &&
        (c[0] - b[0]) * (a[0] - b[0]) + (c[1] - b[1]) * (a[1] - b[1]) > 0)
      throw InputError(what + "is self-intersecting: " + edge_name(i) + " and " +
                       edge_name((i + 1) % n) + " overlap");
    for (std::size_t j = i + 2; j < n; ++j) {
      if (i == 0 && j == n - 1) continue;  // adjacent through vertex 0
      if (segments_touch(a, b, v_[j], v_[(j + 1) % n]))
        throw InputError(what + "is self-intersecting: " + edge_name(i) + " and " +
                         edge_name(j) + " cross");
    }
  }
  double a2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Vertex& p = v_[i];
    const Vertex& q = v_[(i + 1) % n];
    a2 += p[0] * q[1] - q[0] * p[1];
  }
  input_area_ = 0.5 * a2;
  if (!(std::abs(input_area_) > 1e-12 * diam2))
    throw InputError(what + "has zero area");
  if (input_area_ < 0) std::reverse(v_.begin(), v_.end());
  cumulative_.assign(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const Vertex& p = v_[i];
    const Vertex& q = v_[(i + 1) % n];
    cumulative_[i + 1] = cumulative_[i] + std::hypot(q[0] - p[0], q[1] - p[1]);
  }
}

std::string Polygon::describe() const { return kind_ + " '" + name_ + "'"; }

double Polygon::sdf(const Point& x) const {
  const std::size_t n = v_.size();
  double d2 = HUGE_VAL;
  bool inside = false;
  for (std::size_t i = 0, j = n - 1; i < n; j = i++) {
    const double ex = v_[j][0] - v_[i][0], ey = v_[j][1] - v_[i][1];
    const double wx = x[0] - v_[i][0], wy = x[1] - v_[i][1];
    const double t = std::clamp((wx * ex + wy * ey) / (ex * ex + ey * ey), 0.0, 1.0);
    const double bx = wx - ex * t, by = wy - ey * t;
    d2 = std::min(d2, bx * bx + by * by);
    // crossing number of the ray to +x
    const bool c1 = x[1] >= v_[i][1], c2 = x[1] < v_[j][1], c3 = ex * wy > ey * wx;
    if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) inside = !inside;
  }
  const double d = std::sqrt(d2);
  return inside ? -d : d;
}

Point Polygon::gradient(const Point& x, int* local_part) const {
  if (local_part) *local_part = 0;
  const std::size_t n = v_.size();
  double best = HUGE_VAL, best_t = 0;
  std::size_t bi = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Vertex& a = v_[i];
    const Vertex& b = v_[(i + 1) % n];
    const double ex = b[0] - a[0], ey = b[1] - a[1];
    const double wx = x[0] - a[0], wy = x[1] - a[1];
    const double t = std::clamp((wx * ex + wy * ey) / (ex * ex + ey * ey), 0.0, 1.0);
    const double bx = wx - ex * t, by = wy - ey * t, d2 = bx * bx + by * by;
    if (d2 < best) best = d2, best_t = t, bi = i;
  }
  const Vertex& a = v_[bi];
  const Vertex& b = v_[(bi + 1) % n];
  const double ex = b[0] - a[0], ey = b[1] - a[1], len = std::hypot(ex, ey);
  const Point edge_normal{ey / len, -ex / len, 0};  // outward for counter-clockwise order
  if (best_t > 0 && best_t < 1) return edge_normal;
  const Vertex& c = best_t <= 0 ? a : b;
  const double dx = x[0] - c[0], dy = x[1] - c[1], d = std::hypot(dx, dy);
  if (!(d > 1e-12 * cumulative_.back())) return edge_normal;
  const double s = sdf(x) < 0 ? -1.0 : 1.0;
  return Point{s * dx / d, s * dy / d, 0};
}

Point Polygon::part_point(int, const double* u, Point* normal) const {
  const double s = std::clamp(u[0], 0.0, 1.0) * cumulative_.back();
  const std::size_t n = v_.size();
  std::size_t i = std::upper_bound(cumulative_.begin(), cumulative_.end(), s) -
                  cumulative_.begin();
  i = std::min(std::max<std::size_t>(i, 1), n) - 1;
  const Vertex& a = v_[i];
  const Vertex& b = v_[(i + 1) % n];
  const double len = cumulative_[i + 1] - cumulative_[i];
  const double t = std::clamp((s - cumulative_[i]) / len, 0.0, 1.0);
  if (normal) *normal = Point{(b[1] - a[1]) / len, -(b[0] - a[0]) / len, 0};
  return Point{a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), 0};
}

void Polygon::bounds(Point* lo, Point* hi) const {
  *lo = Point{HUGE_VAL, HUGE_VAL, 0};
  *hi = Point{-HUGE_VAL, -HUGE_VAL, 0};
  for (const Vertex& p : v_)
    for (int i = 0; i < 2; ++i) (*lo)[i] = std::min((*lo)[i], p[i]), (*hi)[i] = std::max((*hi)[i], p[i]);
}

}  // namespace kpde::mesh
