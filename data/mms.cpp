#include "data/mms.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "mesh/geometry.hpp"
#include "mesh/raster.hpp"
#include "mesh/sampling.hpp"
#include "mesh/shape.hpp"
#include "pde/expression.hpp"

namespace kpde::data {

namespace {

constexpr double kPi = 3.141592653589793238462643383;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kPre = 33;  // nodes per axis of the pre-check grid

std::string num(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

double uniform(Rng& rng, double lo, double hi) { return lo + (hi - lo) * rng.uniform(); }
int uniform_int(Rng& rng, int lo, int hi) {  // inclusive
  return lo + static_cast<int>(rng.uniform() * (hi - lo + 1));
}

/// psi(arg) as text for psi index k of {identity, sin, cos, tanh, sigmoid, 1/(1+s^2)}.
std::string psi(int k, const std::string& arg) {
  switch (k) {
    case 0: return "(" + arg + ")";
    case 1: return "sin(" + arg + ")";
    case 2: return "cos(" + arg + ")";
    case 3: return "tanh(" + arg + ")";
    case 4: return "sigmoid(" + arg + ")";
    default: return "1/(1 + (" + arg + ")^2)";
  }
}

/// Reasons a draw is rejected (index into MmsStats counters).
enum Reject { ok = 0, r_value, r_std, r_source, r_derivative, r_nonfinite, r_geometry };
const char* reject_name(int r) {
  static const char* names[] = {"", "|u| > max_value", "std(u) < min_std", "|f| > max_source",
                                "a derivative > max_derivative", "a non-finite value",
                                "holes could not be placed"};
  return names[r];
}

struct Conditions {
  std::vector<char> dirichlet, neumann;  // per part id
};

/// Values checked by the rejection rules at one point.
struct PointJet {
  double u, ux, uy, uxx, uyy, uxy, f;
};

/// PointJets at points xy ([m][2]), blocked (Expression::eval_jet2_many), in parallel
/// over chunks of points on the host threads.
std::vector<PointJet> point_jets(const pde::Expression& e, const std::vector<double>& xy,
                                 const std::array<double, 6>& c) {
  const std::size_t m = xy.size() / 2;
  std::vector<double> raw(6 * m);
  constexpr std::size_t kChunk = 1024;
  const std::size_t chunks = (m + kChunk - 1) / kChunk;
  auto run = [&](std::size_t k) {
    const std::size_t p0 = k * kChunk, len = std::min(kChunk, m - p0);
    e.eval_jet2_many(len, xy.data() + 2 * p0, 2, 0, 1, raw.data() + 6 * p0);
  };
  if (chunks > 1)
    Kokkos::parallel_for("kpde::mms_jets", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, chunks),
                         [&](const std::size_t k) { run(k); });
  else if (chunks == 1)
    run(0);
  std::vector<PointJet> out(m);
  for (std::size_t p = 0; p < m; ++p) {
    const double* r = raw.data() + 6 * p;
    PointJet& q = out[p];
    q = PointJet{r[0], r[1], r[2], r[3], r[5], r[4], 0};
    q.f = c[0] * q.u + c[1] * q.ux + c[2] * q.uy + c[3] * q.uxx + c[4] * q.uyy + c[5] * q.uxy;
  }
  return out;
}

/// Rejection rules at one point (without the std rule).
int check(const PointJet& p, const MmsSettings& s, bool with_source) {
  const double all[7] = {p.u, p.ux, p.uy, p.uxx, p.uyy, p.uxy, p.f};
  for (double v : all)
    if (!std::isfinite(v)) return r_nonfinite;
  if (std::abs(p.u) > s.max_value) return r_value;
  for (int k = 1; k < 6; ++k)
    if (std::abs(all[k]) > s.max_derivative) return r_derivative;
  if (with_source && std::abs(p.f) > s.max_source) return r_source;
  return ok;
}

struct Hole {
  HoleKind kind;
  double cx, cy, size;
  mesh::Shape shape;
  std::string text;
};

/// Draws holes (kinds, sizes, positions) disjoint inside [-0.9,0.9]^2; false when a
/// hole finds no place in 100 tries.
bool draw_holes(Rng& rng, const MmsSettings& s, std::vector<Hole>* holes) {
  const int count = uniform_int(rng, s.holes_min, s.holes_max);
  for (int h = 0; h < count; ++h) {
    const HoleKind kind = s.hole_kinds[static_cast<std::size_t>(uniform_int(rng, 0, static_cast<int>(s.hole_kinds.size()) - 1))];
    const double r = uniform(rng, s.hole_size_min, s.hole_size_max);
    double cx = 0, cy = 0;
    bool placed = false;
    for (int t = 0; t < 100 && !placed; ++t) {
      cx = uniform(rng, -0.9 + r, 0.9 - r);
      cy = uniform(rng, -0.9 + r, 0.9 - r);
      placed = true;
      for (const auto& o : *holes)
        if (std::hypot(cx - o.cx, cy - o.cy) < r + o.size + 0.05) placed = false;
    }
    if (!placed) return false;
    const std::string name = "hole" + std::to_string(h);
    std::ostringstream text;
    text << to_string(kind) << " '" << name << "'";
    std::unique_ptr<mesh::Shape> shape;
    if (kind == HoleKind::disk) {
      shape = std::make_unique<mesh::Shape>(mesh::disk(name, cx, cy, r));
      text << " centre (" << num(cx) << ", " << num(cy) << ") radius " << num(r);
    } else if (kind == HoleKind::rectangle) {
      const double t = uniform(rng, kPi / 8, 3 * kPi / 8);
      const double hx = r * std::cos(t), hy = r * std::sin(t);
      shape = std::make_unique<mesh::Shape>(mesh::rectangle(name, cx - hx, cy - hy, cx + hx, cy + hy));
      text << " [" << num(cx - hx) << ", " << num(cx + hx) << "] x [" << num(cy - hy) << ", " << num(cy + hy) << "]";
    } else {
      // triangle: 3 vertices, polygon: 5-8 vertices on a star around the centre
      const int k = kind == HoleKind::triangle ? 3 : uniform_int(rng, 5, 8);
      std::vector<mesh::Vertex> v;
      for (int tries = 0; tries < 100; ++tries) {
        v.clear();
        const double phase = uniform(rng, 0, 2 * kPi);
        for (int i = 0; i < k; ++i) {
          const double ang = phase + 2 * kPi * (i + uniform(rng, -0.3, 0.3)) / k;
          const double rad = kind == HoleKind::triangle ? r : uniform(rng, 0.5 * r, r);
          v.push_back({cx + rad * std::cos(ang), cy + rad * std::sin(ang)});
        }
        double area = 0;
        for (int i = 0; i < k; ++i) {
          const auto& a = v[static_cast<std::size_t>(i)];
          const auto& b = v[static_cast<std::size_t>((i + 1) % k)];
          area += a[0] * b[1] - a[1] * b[0];
        }
        if (std::abs(area) / 2 > 0.3 * r * r) break;
      }
      shape = std::make_unique<mesh::Shape>(kind == HoleKind::triangle ? mesh::triangle(name, v[0], v[1], v[2])
                                                                         : mesh::polygon(name, v));
      text << " vertices";
      for (const auto& p : v) text << " (" << num(p[0]) << ", " << num(p[1]) << ")";
    }
    holes->push_back(Hole{kind, cx, cy, r, *shape, text.str()});
  }
  return true;
}

/// Dirichlet / Neumann / both on one part by the relative odds of the settings.
void draw_condition(Rng& rng, const MmsSettings& s, Conditions& c, int part) {
  const double t = rng.uniform() * (s.p_dirichlet + s.p_neumann + s.p_both);
  const bool d = t < s.p_dirichlet, n = t >= s.p_dirichlet && t < s.p_dirichlet + s.p_neumann;
  c.dirichlet[static_cast<std::size_t>(part)] = d || !n;
  c.neumann[static_cast<std::size_t>(part)] = n || !d;
}

std::string operator_text(const std::array<double, 6>& c) {
  static const char* names[6] = {"u", "u_x", "u_y", "u_xx", "u_yy", "u_xy"};
  std::string s;
  for (int k = 0; k < 6; ++k) {
    if (c[static_cast<std::size_t>(k)] == 0) continue;
    if (!s.empty()) s += " + ";
    s += num(c[static_cast<std::size_t>(k)]) + "*" + names[k];
  }
  return s.empty() ? "0" : s;
}

}  // namespace

const char* to_string(OperatorClass c) {
  switch (c) {
    case OperatorClass::elliptic: return "elliptic";
    case OperatorClass::parabolic: return "parabolic";
    case OperatorClass::hyperbolic: return "hyperbolic";
    case OperatorClass::first_order: return "first_order";
  }
  return "?";
}

OperatorClass parse_operator_class(const std::string& name) {
  const std::string n = to_lower(name);
  if (n == "elliptic") return OperatorClass::elliptic;
  if (n == "parabolic") return OperatorClass::parabolic;
  if (n == "hyperbolic") return OperatorClass::hyperbolic;
  if (n == "first_order") return OperatorClass::first_order;
  throw InputError("unknown operator class '" + name + "' (expected elliptic, parabolic, hyperbolic or first_order)");
}

const char* to_string(HoleKind k) {
  switch (k) {
    case HoleKind::disk: return "disk";
    case HoleKind::rectangle: return "rectangle";
    case HoleKind::triangle: return "triangle";
    case HoleKind::polygon: return "polygon";
  }
  return "?";
}

HoleKind parse_hole_kind(const std::string& name) {
  const std::string n = to_lower(name);
  if (n == "disk") return HoleKind::disk;
  if (n == "rectangle") return HoleKind::rectangle;
  if (n == "triangle") return HoleKind::triangle;
  if (n == "polygon") return HoleKind::polygon;
  throw InputError("unknown hole kind '" + name + "' (expected disk, rectangle, triangle or polygon)");
}

void MmsSettings::validate() const {
  auto range = [](const char* what, double lo, double hi) {
    if (!(lo <= hi)) throw InputError(std::string(what) + ": the minimum exceeds the maximum");
  };
  if (grid < 8 || grid > 4096) throw InputError("grid: expected 8 to 4096 nodes per axis, got " + std::to_string(grid));
  if (updates_min < 1 || updates_max > 64) throw InputError("updates: expected counts in 1..64");
  range("updates", updates_min, updates_max);
  if (boundary_updates_min < 1 || boundary_updates_max > 64) throw InputError("boundary_updates: expected counts in 1..64");
  range("boundary_updates", boundary_updates_min, boundary_updates_max);
  if (terms_min < 1 || terms_max > 5) throw InputError("terms: expected counts in 1..5 (of u, u_x, u_y, u_xx, u_yy)");
  range("terms", terms_min, terms_max);
  if (!(coefficient_range > 0)) throw InputError("coefficient_range: expected > 0");
  if (!(ab_range >= 0) || !(cde_range >= 0)) throw InputError("ab_range, cde_range: expected >= 0");
  if (!(ab_zero_probability >= 0 && ab_zero_probability <= 1)) throw InputError("ab_zero_probability: expected in [0, 1]");
  if (classes.empty()) throw InputError("classes: name at least one operator class");
  if (holes_min < 0 || holes_max > 8) throw InputError("holes.count: expected counts in 0..8");
  range("holes.count", holes_min, holes_max);
  if (holes_max > 0 && hole_kinds.empty()) throw InputError("holes.kinds: name at least one hole kind");
  if (!(hole_size_min > 0)) throw InputError("holes.size: the minimum must be > 0");
  range("holes.size", hole_size_min, hole_size_max);
  if (holes_max > 0 && !(hole_size_max < 0.9))
    throw InputError("holes.size: a hole of size " + num(hole_size_max) +
                     " does not fit inside [-0.9,0.9]^2 and would leave no domain around it (expected sizes < 0.9)");
  if (!(p_dirichlet >= 0 && p_neumann >= 0 && p_both >= 0) || !(p_dirichlet + p_neumann + p_both > 0))
    throw InputError("conditions: the odds of dirichlet, neumann and both must be >= 0 and not all 0");
  if (!(physics_only_fraction >= 0 && physics_only_fraction <= 1)) throw InputError("physics_only_fraction: expected in [0, 1]");
  if (!(source_range >= 0)) throw InputError("source_range: expected >= 0");
  if (!(max_value > 0 && min_std >= 0 && max_source > 0 && max_derivative > 0))
    throw InputError("reject: the limits must be positive");
  if (max_attempts < 1) throw InputError("max_attempts: expected >= 1");
  if (n_interior < 0 || n_boundary < 0 || n_interior > 1000000 || n_boundary > 1000000)
    throw InputError("points: expected 0..1000000 interior and boundary points");
  // Can any draw satisfy the classes? Terms each class needs at least:
  // elliptic u_xx + u_yy, parabolic u_xx + u_y, hyperbolic u_xx + u_yy, first order u_x or u_y.
  bool possible = false, elliptic = false;
  for (OperatorClass c : classes) {
    const int need = c == OperatorClass::first_order ? 1 : 2;
    if (terms_max >= need) possible = true;
    if (c == OperatorClass::elliptic && terms_max >= 2) elliptic = true;
  }
  if (!possible)
    throw InputError("classes and terms: no operator with at most " + std::to_string(terms_max) +
                     " term(s) is of the requested classes (elliptic, parabolic and hyperbolic operators need 2 terms)");
  if (holes_min > 0 && !elliptic)
    throw InputError("holes.count: holes need elliptic problems (time problems live on the plain space-time box), "
                     "but the classes allow none with these terms");
  if (holes_min > 0) {
    // the smallest holes must fit disjointly into [-0.9,0.9]^2: a crude area bound
    const double need = holes_min * kPi * (hole_size_min + 0.025) * (hole_size_min + 0.025);
    if (need > 1.8 * 1.8 * 0.6)
      throw InputError("holes: " + std::to_string(holes_min) + " disjoint holes of size >= " + num(hole_size_min) +
                       " do not fit inside [-0.9,0.9]^2");
  }
}

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  auto sm = [](std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  return sm(sm(sm(seed) ^ a) ^ (b * 0x632be59bd9b4e019ULL + 0x1234567ULL));
}

std::string random_solution(Rng& rng, int updates_min, int updates_max, const MmsSettings& s) {
  std::string u = "0";
  const int n = uniform_int(rng, updates_min, updates_max);
  for (int k = 0; k < n; ++k) {
    const int p = uniform_int(rng, 0, 5);
    const double a = rng.uniform() < s.ab_zero_probability ? 0.0 : uniform(rng, -s.ab_range, s.ab_range);
    const double b = rng.uniform() < s.ab_zero_probability ? 0.0 : uniform(rng, -s.ab_range, s.ab_range);
    const double c = uniform(rng, -s.cde_range, s.cde_range);
    const double d = uniform(rng, -s.cde_range, s.cde_range);
    const double e = uniform(rng, -s.cde_range, s.cde_range);
    const int rule = uniform_int(rng, 0, 2);
    if (rule == 2) {  // compose: d psi(a u + c) + e
      u = num(d) + "*" + psi(p, num(a) + "*(" + u + ") + " + num(c)) + " + " + num(e);
    } else {
      std::string arg;
      if (a != 0) arg += num(a) + "*x + ";
      if (b != 0) arg += num(b) + "*y + ";
      arg += num(c);
      const std::string term = num(d) + "*" + psi(p, arg);
      if (rule == 0)
        u = "(" + u + ") + " + term + " + " + num(e);
      else
        u = "(" + u + ")*(" + term + " + " + num(e) + ")";
    }
  }
  return u;
}

OperatorClass random_operator(Rng& rng, const MmsSettings& s, std::array<double, 6>* coefficients) {
  for (int draw = 0; draw < 1000; ++draw) {
    std::array<double, 6> c{};
    const int k = uniform_int(rng, s.terms_min, s.terms_max);
    int order[5] = {0, 1, 2, 3, 4};
    for (int i = 0; i < k; ++i) {  // partial Fisher-Yates: k distinct terms
      const int j = uniform_int(rng, i, 4);
      std::swap(order[i], order[j]);
      double v = 0;
      while (v == 0) v = uniform(rng, -s.coefficient_range, s.coefficient_range);
      c[static_cast<std::size_t>(order[i])] = v;
    }
    const bool xx = c[3] != 0, yy = c[4] != 0;
    auto swap_xy = [&] {
      std::swap(c[1], c[2]);
      std::swap(c[3], c[4]);
    };
    OperatorClass cls;
    if (xx && yy) {
      cls = c[3] * c[4] > 0 ? OperatorClass::elliptic : OperatorClass::hyperbolic;
    } else if (xx || yy) {
      if (yy) swap_xy();
      if (c[2] == 0) continue;                    // u_xx (+ u_x, u): no time derivative
      if (c[2] * c[3] > 0) c[2] = -c[2];          // forward in time: u_y = kappa u_xx, kappa > 0
      cls = OperatorClass::parabolic;
    } else {
      if (c[2] == 0) swap_xy();
      if (c[2] == 0) continue;                    // u alone
      if (c[2] < 0)
        for (auto& v : c) v = -v;                 // inflow through y = -1
      cls = OperatorClass::first_order;
    }
    if (std::find(s.classes.begin(), s.classes.end(), cls) == s.classes.end()) continue;
    *coefficients = c;
    return cls;
  }
  throw InputError("no operator of the requested classes in 1000 draws (check classes and terms)");
}

MmsSample generate_mms_sample(const MmsSettings& s, std::uint64_t seed, std::uint64_t index, MmsStats* stats) {
  const int n = s.grid;
  long counts[7] = {0, 0, 0, 0, 0, 0, 0};
  int last = ok;
  // physics-only or manufactured is decided once per index (not per attempt), so the
  // share of physics-only samples is physics_only_fraction whatever the rejections
  Rng kind_rng(mix_seed(seed, index, 0xfeedULL));
  const bool physics_only = kind_rng.uniform() < s.physics_only_fraction;
  for (int attempt = 1; attempt <= s.max_attempts; ++attempt) {
    Rng rng(mix_seed(seed, index, static_cast<std::uint64_t>(attempt)));
    MmsSample out;
    out.op_class = random_operator(rng, s, &out.coefficients);
    const auto& c = out.coefficients;
    out.has_solution = !physics_only;
    const std::string g_text = physics_only ? random_solution(rng, s.boundary_updates_min, s.boundary_updates_max, s)
                                            : random_solution(rng, s.updates_min, s.updates_max, s);
    out.source_constant = physics_only ? uniform(rng, -s.source_range, s.source_range) : kNaN;
    const pde::Expression g = pde::Expression::parse(g_text, {"x", "y"});

    // geometry
    std::vector<Hole> holes;
    mesh::Shape shape = mesh::box({-1, -1}, {1, 1});
    if (out.op_class == OperatorClass::elliptic) {
      if (!draw_holes(rng, s, &holes)) {
        last = r_geometry;
        ++counts[r_geometry];
        continue;
      }
      for (const auto& h : holes) shape = shape - h.shape;
    }
    out.geometry = "box [-1,1]^2";
    for (const auto& h : holes) out.geometry += " - " + h.text;

    // cheap pre-check on a coarse grid before building the geometry's tables; only
    // nodes surely in Omega (outside every hole's circumscribed circle) reject
    {
      std::vector<double> xy;
      for (int i = 0; i < kPre; ++i)
        for (int j = 0; j < kPre; ++j) {
          const double x = -1 + 2.0 * j / (kPre - 1), y = 1 - 2.0 * i / (kPre - 1);
          bool in_hole = false;
          for (const auto& h : holes) in_hole |= std::hypot(x - h.cx, y - h.cy) <= h.size;
          if (!in_hole) xy.insert(xy.end(), {x, y});
        }
      int bad = ok;
      for (const PointJet& p : point_jets(g, xy, c))
        if (bad == ok) bad = check(p, s, !physics_only);
      if (bad != ok) {
        last = bad;
        ++counts[bad];
        continue;
      }
    }
    mesh::GeometryOptions gopt;
    gopt.n_volume_samples = 4096;
    gopt.n_boundary_cells = 1024;
    const mesh::Geometry geom(shape, gopt);
    const int n_parts = geom.n_parts();
    const int left = geom.find_part("left"), right = geom.find_part("right"),
              bottom = geom.find_part("bottom"), top = geom.find_part("top");

    // conditions per part
    Conditions cond{std::vector<char>(static_cast<std::size_t>(n_parts), 0),
                    std::vector<char>(static_cast<std::size_t>(n_parts), 0)};
    if (out.op_class == OperatorClass::elliptic) {
      for (int p = 0; p < n_parts; ++p) draw_condition(rng, s, cond, p);
      if (std::none_of(cond.dirichlet.begin(), cond.dirichlet.end(), [](char v) { return v != 0; }))
        cond.dirichlet[static_cast<std::size_t>(uniform_int(rng, 0, n_parts - 1))] = 1;
    } else {
      cond.dirichlet[static_cast<std::size_t>(bottom)] = 1;
      if (out.op_class == OperatorClass::hyperbolic) cond.neumann[static_cast<std::size_t>(bottom)] = 1;
      if (out.op_class == OperatorClass::first_order) {
        if (c[1] > 0) cond.dirichlet[static_cast<std::size_t>(left)] = 1;
        if (c[1] < 0) cond.dirichlet[static_cast<std::size_t>(right)] = 1;
      } else {
        draw_condition(rng, s, cond, left);
        draw_condition(rng, s, cond, right);
      }
    }
    (void)top;
    for (int p = 0; p < n_parts; ++p) {
      const auto sp = static_cast<std::size_t>(p);
      if (!cond.dirichlet[sp] && !cond.neumann[sp]) continue;
      if (!out.conditions.empty()) out.conditions += "; ";
      out.conditions += geom.part_name(p) + ": " +
                        (cond.dirichlet[sp] && cond.neumann[sp] ? "dirichlet+neumann"
                                                                : cond.dirichlet[sp] ? "dirichlet" : "neumann");
    }

    // grid channels
    const mesh::Grid grid = mesh::Grid::hypino(n);
    const Mat<double> mask = mesh::domain_mask(geom, grid);
    const Mat<int> bands = mesh::boundary_bands(geom, grid, s.band_half_width);
    const std::size_t nn = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    out.n = n;
    out.domain_mask.assign(nn, 0);
    out.dirichlet_mask.assign(nn, 0);
    out.neumann_mask.assign(nn, 0);
    out.dirichlet_values.assign(nn, 0);
    out.neumann_values.assign(nn, 0);
    out.source.assign(nn, 0);
    out.normals.assign(2 * nn, 0);
    const double fill = physics_only ? kNaN : 0.0;
    for (auto* v : {&out.u, &out.u_x, &out.u_y, &out.u_xx, &out.u_yy, &out.u_xy}) v->assign(nn, fill);
    // jets at the nodes in the closure of Omega and on conditioned boundary bands
    std::vector<std::size_t> nodes;
    std::vector<double> xy;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        const int part = bands(i, j);
        const bool on = part >= 0 && (cond.dirichlet[static_cast<std::size_t>(part)] ||
                                      cond.neumann[static_cast<std::size_t>(part)]);
        if (mask(i, j) > 0 || on) {
          nodes.push_back(static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j));
          xy.insert(xy.end(), {grid.x(j), grid.y(i)});
        }
      }
    const std::vector<PointJet> jets = point_jets(g, xy, c);
    int bad = ok;
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      const std::size_t q = nodes[k];
      const int i = static_cast<int>(q / static_cast<std::size_t>(n)), j = static_cast<int>(q % static_cast<std::size_t>(n));
      const bool in = mask(i, j) > 0;
      const int part = bands(i, j);
      const bool on = part >= 0 && (cond.dirichlet[static_cast<std::size_t>(part)] ||
                                    cond.neumann[static_cast<std::size_t>(part)]);
      const PointJet& p = jets[k];
      const int r = physics_only ? (on ? check(p, s, false) : ok) : check(p, s, in);
      if (r != ok) {
        bad = r;
        break;
      }
      if (in) {
        out.domain_mask[q] = 1;
        out.source[q] = physics_only ? out.source_constant : p.f;
        if (!physics_only) {
          out.u[q] = p.u;
          out.u_x[q] = p.ux;
          out.u_y[q] = p.uy;
          out.u_xx[q] = p.uxx;
          out.u_yy[q] = p.uyy;
          out.u_xy[q] = p.uxy;
        }
      }
      if (on) {
        const mesh::Point nr = geom.normal({xy[2 * k], xy[2 * k + 1], 0});
        out.normals[2 * q] = nr[0];
        out.normals[2 * q + 1] = nr[1];
        if (cond.dirichlet[static_cast<std::size_t>(part)]) {
          out.dirichlet_mask[q] = 1;
          out.dirichlet_values[q] = p.u;
        }
        if (cond.neumann[static_cast<std::size_t>(part)]) {
          out.neumann_mask[q] = 1;
          out.neumann_values[q] = nr[0] * p.ux + nr[1] * p.uy;
        }
      }
    }
    if (bad == ok && !physics_only) {
      double sum = 0, sum2 = 0, cnt = 0;
      for (std::size_t q = 0; q < nn; ++q)
        if (out.domain_mask[q] > 0) {
          sum += out.u[q];
          sum2 += out.u[q] * out.u[q];
          cnt += 1;
        }
      const double mean = sum / std::max(cnt, 1.0);
      const double var = std::max(0.0, sum2 / std::max(cnt, 1.0) - mean * mean);
      if (std::sqrt(var) < s.min_std) bad = r_std;
    }
    if (bad != ok) {
      last = bad;
      ++counts[bad];
      continue;
    }

    // training points
    const std::uint64_t pseed = mix_seed(seed, index, 0x9017ULL + static_cast<std::uint64_t>(attempt));
    if (s.n_interior > 0) {
      mesh::InteriorOptions io;
      io.method = mesh::InteriorMethod::uniform;
      io.seed = pseed;
      const Mat<double> xi = mesh::sample_interior(geom, s.n_interior, io);
      out.interior_points.resize(2 * static_cast<std::size_t>(s.n_interior));
      out.interior_source.resize(static_cast<std::size_t>(s.n_interior));
      out.interior_solution.resize(static_cast<std::size_t>(s.n_interior));
      for (int p = 0; p < s.n_interior; ++p) {
        out.interior_points[2 * static_cast<std::size_t>(p)] = xi(p, 0);
        out.interior_points[2 * static_cast<std::size_t>(p) + 1] = xi(p, 1);
      }
      const std::vector<PointJet> pjs = point_jets(g, out.interior_points, c);
      for (int p = 0; p < s.n_interior; ++p) {
        const auto sp = static_cast<std::size_t>(p);
        const PointJet& pj = pjs[sp];
        out.interior_source[sp] = physics_only ? out.source_constant : pj.f;
        out.interior_solution[sp] = physics_only ? kNaN : pj.u;
        if (!physics_only && check(pj, s, true) != ok) bad = check(pj, s, true);
      }
    }
    if (s.n_boundary > 0) {
      std::vector<int> dparts, nparts;
      double ld = 0, ln = 0;
      for (int p = 0; p < n_parts; ++p) {
        if (geom.part_length(p) <= 0) continue;
        if (cond.dirichlet[static_cast<std::size_t>(p)]) dparts.push_back(p), ld += geom.part_length(p);
        if (cond.neumann[static_cast<std::size_t>(p)]) nparts.push_back(p), ln += geom.part_length(p);
      }
      const int nd = nparts.empty() ? s.n_boundary : static_cast<int>(std::lround(s.n_boundary * ld / (ld + ln)));
      const int nneu = s.n_boundary - nd;
      out.boundary_points.reserve(2 * static_cast<std::size_t>(s.n_boundary));
      for (int kind = 0; kind < 2; ++kind) {
        const int count = kind == 0 ? nd : nneu;
        if (count == 0) continue;
        const mesh::BoundarySamples b = mesh::sample_boundary(geom, count, pseed + 1 + static_cast<std::uint64_t>(kind),
                                                              kind == 0 ? dparts : nparts);
        const std::vector<double> xy(b.x.data(), b.x.data() + 2 * static_cast<std::size_t>(count));
        const std::vector<PointJet> pjs = point_jets(g, xy, c);
        for (int p = 0; p < count; ++p) {
          const PointJet& pj = pjs[static_cast<std::size_t>(p)];
          if (check(pj, s, false) != ok) bad = check(pj, s, false);
          out.boundary_points.push_back(xy[2 * static_cast<std::size_t>(p)]);
          out.boundary_points.push_back(xy[2 * static_cast<std::size_t>(p) + 1]);
          out.boundary_normals.push_back(b.normal(p, 0));
          out.boundary_normals.push_back(b.normal(p, 1));
          out.boundary_kind.push_back(kind);
          out.boundary_values.push_back(kind == 0 ? pj.u : b.normal(p, 0) * pj.ux + b.normal(p, 1) * pj.uy);
        }
      }
    }
    if (bad != ok) {
      last = bad;
      ++counts[bad];
      continue;
    }

    out.solution = physics_only ? "" : g_text;
    out.boundary_function = g_text;
    out.operator_text = operator_text(c);
    out.attempts = attempt;
    out.last_rejection = reject_name(last);
    if (stats) {
      MmsStats mine;
      mine.attempts = attempt;
      mine.accepted = 1;
      mine.rejected_value = counts[r_value];
      mine.rejected_std = counts[r_std];
      mine.rejected_source = counts[r_source];
      mine.rejected_derivative = counts[r_derivative];
      mine.rejected_nonfinite = counts[r_nonfinite];
      mine.rejected_geometry = counts[r_geometry];
      *stats += mine;
    }
    return out;
  }
  std::ostringstream m;
  m << "sample " << index << ": every one of " << s.max_attempts << " draws was rejected (";
  bool first = true;
  for (int r = 1; r < 7; ++r)
    if (counts[r]) {
      m << (first ? "" : ", ") << reject_name(r) << ": " << counts[r];
      first = false;
    }
  m << "); loosen the reject limits or the ranges of the draws";
  throw InputError(m.str());
}

}  // namespace kpde::data
