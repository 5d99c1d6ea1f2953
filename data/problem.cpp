#include "data/problem.hpp"

#include "data/burgers.hpp"
#include "data/table.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "core/strings.hpp"
#include "data/burgers.hpp"
#include "data/table.hpp"
#include "io/hdf5.hpp"
#include "mesh/shape.hpp"

namespace kpde::data {

namespace {

const char* kAxis[3] = {"x", "y", "z"};
const char* kLoSide[3] = {"left", "bottom", "front"};
const char* kHiSide[3] = {"right", "top", "back"};

}  // namespace

std::string Derivative::name(const std::string& field) const {
  if (order == 0) return field;
  if (order == 1) return field + "_" + kAxis[i];
  return field + "_" + kAxis[i] + kAxis[j];
}

namespace {
/// The config key of a linear coefficient: c_u, c_ux, c_uxy (the derivative's name
/// without its underscore).
std::string coefficient_key(const Derivative& d) {
  std::string key = "c_" + d.name();
  key.erase(std::remove(key.begin() + 2, key.end(), '_'), key.end());
  return key;
}
}  // namespace

std::vector<Derivative> all_derivatives(int dim) {
  std::vector<Derivative> out{{0, -1, -1}};
  for (int i = 0; i < dim; ++i) out.push_back({1, i, -1});
  for (int i = 0; i < dim; ++i) out.push_back({2, i, i});
  for (int i = 0; i < dim; ++i)
    for (int j = i + 1; j < dim; ++j) out.push_back({2, i, j});
  return out;
}

std::vector<std::string> coordinate_names(int dim) {
  std::vector<std::string> out;
  for (int i = 0; i < dim; ++i) out.push_back(kAxis[i]);
  return out;
}

std::vector<std::string> Problem::system_variables() const {
  std::vector<std::string> out;
  const auto all = all_derivatives(dim);
  for (const auto& f : fields)
    for (const auto& d : all) out.push_back(d.name(f));
  for (const auto& x : coordinate_names(dim)) out.push_back(x);
  return out;
}

std::vector<Derivative> Problem::operator_derivatives() const {
  std::vector<Derivative> out;
  if (is_system()) {  // the union over the fields and equations
    const auto all = all_derivatives(dim);
    for (std::size_t k = 0; k < all.size(); ++k)
      for (std::size_t f = 0; f < fields.size(); ++f)
        if (std::any_of(equations.begin(), equations.end(), [&](const Equation& e) {
              return e.residual->depends_on(static_cast<int>(f * all.size() + k));
            })) {
          out.push_back(all[k]);
          break;
        }
    return out;
  }
  if (!nonlinear) {
    for (const auto& t : linear_terms())
      if (std::find(out.begin(), out.end(), t.derivative) == out.end()) out.push_back(t.derivative);
    return out;
  }
  const auto all = all_derivatives(dim);
  for (std::size_t k = 0; k < all.size(); ++k)
    if (residual->depends_on(static_cast<int>(k))) out.push_back(all[k]);
  return out;
}

std::vector<LinearTerm> Problem::linear_terms() const {
  std::vector<LinearTerm> out = terms;
  if (!diffusion) return out;
  for (int i = 0; i < dim; ++i) {
    if (i == time_axis) continue;
    out.push_back({{2, i, i}, Field::derived(*diffusion, -1, -1.0)});
    if (!diffusion->is_constant()) out.push_back({{1, i, -1}, Field::derived(*diffusion, i, -1.0)});
  }
  return out;
}

const Field* Problem::coefficient(const Derivative& d) const {
  for (const auto& t : terms)
    if (t.derivative == d) return &t.coefficient;
  return nullptr;
}

bool Problem::constant_coefficients() const {
  const auto all = linear_terms();
  return std::all_of(all.begin(), all.end(), [](const LinearTerm& t) { return t.coefficient.is_constant(); });
}

std::vector<int> Problem::constrained_parts() const {
  std::set<int> s;
  for (const auto& c : conditions) s.insert(c.part);
  return {s.begin(), s.end()};
}

std::string Problem::describe() const {
  std::ostringstream s;
  s << dim << "-D";
  if (time_axis >= 0) s << " (" << kAxis[time_axis] << " is time)";
  if (is_system()) {
    s << ", " << fields.size() << (fields.size() == 1 ? " field (" : " fields (") << join(fields, ", ") << "), "
      << equations.size() << (equations.size() == 1 ? " equation" : " equations");
  } else if (nonlinear) {
    s << ", nonlinear: " << residual->text();
  } else {
    s << ", linear:";
    for (const auto& t : terms) s << " " << t.coefficient.describe() << "*" << t.derivative.name();
    if (diffusion) s << " -div((" << diffusion->describe() << ") grad u)";
  }
  // conditions holds one entry per (config entry, boundary part): count both
  std::set<std::string> entries, initial;
  std::set<int> parts;
  for (const auto& c : conditions) {
    (c.initial ? initial : entries).insert(c.where);
    if (!c.initial) parts.insert(c.part);
  }
  s << ", " << entries.size() << (entries.size() == 1 ? " boundary condition" : " boundary conditions") << " on "
    << parts.size() << (parts.size() == 1 ? " boundary part" : " boundary parts");
  if (!initial.empty()) s << ", " << initial.size() << (initial.size() == 1 ? " initial condition" : " initial conditions");
  return s.str();
}

namespace {

/// Loader state: the document, the problem's dimension and named constants.
struct Loader {
  const config::Document& doc;
  int dim = 2;
  std::map<std::string, double> constants;
  mesh::Point lo{}, hi{};

  pde::Expression parse(const config::Node& n, const std::vector<std::string>& vars) const {
    return pde::Expression::parse(n.as_string(), vars, constants, n.where());
  }

  std::shared_ptr<const GridData> read_grid(const config::Node& n, const std::string& dataset_key) const {
    const std::string file = n.at("hdf5").as_path();
    const config::Node ds = n.at(dataset_key);
    const std::string name = ds.as_string();
    if (dim != 2) n.fail("grid data needs a 2-D problem");
    auto grid = std::make_shared<GridData>();
    io::Shape shape;
    std::unique_ptr<io::H5File> f;
    f = n.at("hdf5").check([&] { return std::make_unique<io::H5File>(io::H5File::open(file)); });
    grid->values = ds.check([&] { return f->read(name, &shape); });
    if (shape.size() != 2 || shape[0] < 2 || shape[1] < 2)
      ds.fail("dataset '" + name + "' in " + file + " has shape " + io::shape_string(shape) +
              ", expected a 2-D grid [ny x nx] with ny, nx >= 2");
    grid->ny = static_cast<int>(shape[0]);
    grid->nx = static_cast<int>(shape[1]);
    grid->origin = file + ":" + name;
    const std::string layout = n.get_choice("layout", "hypino", {"hypino", "kpde"});
    grid->top_row_first = layout == "hypino";
    std::vector<double> box_lo{lo[0], lo[1]}, box_hi{hi[0], hi[1]};
    if (auto b = n.find("box")) {
      if (!b->is_list() || b->size() != 2) b->fail("expected [[x_lo, x_hi], [y_lo, y_hi]]");
      for (int k = 0; k < 2; ++k) {
        const auto r = (*b)[k].as_doubles();
        if (r.size() != 2 || !(r[0] < r[1])) (*b)[k].fail("expected [lo, hi] with lo < hi");
        box_lo[k] = r[0], box_hi[k] = r[1];
      }
    }
    grid->x_lo = box_lo[0], grid->x_hi = box_hi[0], grid->y_lo = box_lo[1], grid->y_hi = box_hi[1];
    for (double v : grid->values)
      if (!std::isfinite(v)) ds.fail("dataset '" + name + "' in " + file + " has non-finite values");
    return grid;
  }

  /// A field: a number or expression text, or {hdf5: file, dataset: name, ...}.
  Field field(const config::Node& n) const {
    if (n.is_map()) return Field::grid(read_grid(n, "dataset"));
    if (!n.is_scalar()) n.fail("expected a number, an expression or {hdf5: file, dataset: name}");
    return Field::expression(parse(n, coordinate_names(dim)));
  }

  std::vector<double> point(const config::Node& n, std::size_t size) const {
    const auto v = n.as_doubles();
    if (v.size() != size) n.fail("expected " + std::to_string(size) + " coordinates");
    return v;
  }

  mesh::Shape shape(const config::Node& n) const {
    if (!n.is_map()) n.fail("expected a shape {type: disk|rectangle|triangle|polygon|box, name: ..., ...}");
    const std::string type = n.get_choice("type", {"disk", "rectangle", "triangle", "polygon", "box"});
    const std::string name = n.get_string("name");
    if (name.empty()) n.at("name").fail("a shape needs a non-empty name (its boundary part)");
    try {
      if (type == "box") {
        const auto lo_ = point(n.at("lo"), dim), hi_ = point(n.at("hi"), dim);
        return mesh::box(lo_, hi_, name);
      }
      if (dim != 2) n.fail("a " + type + " needs a 2-D problem");
      if (type == "disk") {
        const auto c = point(n.at("center"), 2);
        return mesh::disk(name, c[0], c[1], n.get_double("radius"));
      }
      if (type == "rectangle") {
        const auto a = point(n.at("lo"), 2), b = point(n.at("hi"), 2);
        return mesh::rectangle(name, a[0], a[1], b[0], b[1]);
      }
      const config::Node vs = n.at("vertices");
      std::vector<mesh::Vertex> verts;
      for (std::size_t i = 0; i < vs.size(); ++i) {
        const auto p = point(vs[i], 2);
        verts.push_back({p[0], p[1]});
      }
      if (type == "triangle") {
        if (verts.size() != 3) vs.fail("a triangle needs exactly 3 vertices");
        return mesh::triangle(name, verts[0], verts[1], verts[2]);
      }
      return mesh::polygon(name, verts);
    } catch (const InputError& e) {
      const std::string msg = e.what();
      if (msg.find(doc.file()) != std::string::npos || msg.rfind("--set", 0) == 0) throw;
      n.fail(msg);
    }
  }
};

mesh::BoundaryKind parse_kind(const std::string& s) {
  if (s == "dirichlet") return mesh::BoundaryKind::dirichlet;
  if (s == "neumann") return mesh::BoundaryKind::neumann;
  return mesh::BoundaryKind::robin;
}



/// operator: {c_u: .., c_uxx: ..} or {residual: expression} (a scalar problem).
void load_operator(const config::Node& section, const Loader& L, Problem& p) {
  const config::Node op = section.at("operator");
  if (!op.is_map()) op.fail("expected a map of coefficients (c_u, c_uxx, ...) or {residual: expression}");
  const auto derivs = all_derivatives(p.dim);
  for (const auto& d : derivs) p.residual_variables.push_back(d.name());
  for (const auto& x : coordinate_names(p.dim)) p.residual_variables.push_back(x);
  if (op.has("residual")) {
    p.nonlinear = true;
    const config::Node r = op.at("residual");
    p.residual = std::make_shared<const pde::Expression>(L.parse(r, p.residual_variables));
    bool any = false;
    for (std::size_t k = 0; k < derivs.size(); ++k) any = any || p.residual->depends_on(static_cast<int>(k));
    if (!any) r.fail("the residual does not depend on u or its derivatives");
    for (const auto& d : derivs) {
      const std::string key = coefficient_key(d);
      if (op.has(key)) op.at(key).fail("give either a residual or coefficients, not both");
    }
    if (op.has("diffusion")) op.at("diffusion").fail("give either a residual or coefficients, not both");
  } else {
    for (const auto& d : derivs) {
      if (auto c = op.find(coefficient_key(d))) {
        Field f = L.field(*c);
        if (f.is_zero()) continue;
        p.terms.push_back({d, f});
      }
    }
    if (auto a = op.find("diffusion")) {  // -div(a grad u)
      Field f = L.field(*a);
      if (f.kind() == Field::Kind::grid && p.dim != 2) a->fail("grid data needs a 2-D problem");
      if (!f.is_zero()) p.diffusion = f;
    }
    if (p.terms.empty() && !p.diffusion)
      op.fail("the operator has no nonzero coefficient (expected c_u, c_ux, c_uxx, ..., diffusion or residual)");
  }
}

int field_index(const Problem& p, const std::string& name) {
  const auto it = std::find(p.fields.begin(), p.fields.end(), name);
  return it == p.fields.end() ? -1 : static_cast<int>(it - p.fields.begin());
}

/// The `field:` of a boundary or initial entry: required in a system of several fields,
/// optional with one, refused in a scalar problem.
int condition_field(const config::Node& b, const Problem& p) {
  const auto f = b.find("field");
  if (!p.is_system()) {
    if (f) f->fail("field: belongs to a system (declare its unknowns with fields: [u, v, ...])");
    return 0;
  }
  if (!f) {
    if (p.fields.size() == 1) return 0;
    b.fail("a condition of a system needs field: (one of " + join(p.fields, ", ") + ")");
  }
  const int k = field_index(p, f->as_string());
  if (k < 0) f->fail("'" + f->as_string() + "' is not a field (the fields are " + join(p.fields, ", ") + ")");
  return k;
}

/// fields: [u, v, p] and residuals: {name: expression, ...} (a system).
void load_system(const config::Node& fl, const config::Node& section, const Loader& L, Problem& p) {
  if (auto op = section.find("operator")) op->fail("a system (fields:) states its equations under residuals:, not operator:");
  if (!fl.is_list() || fl.size() < 1 || fl.size() > 8) fl.fail("expected a list of 1 to 8 unknowns, e.g. [u, v, p]");
  p.fields = fl.as_strings();
  for (std::size_t k = 0; k < p.fields.size(); ++k) {
    const std::string& f = p.fields[k];
    const bool ident = !f.empty() && std::isalpha(static_cast<unsigned char>(f[0])) &&
                       std::all_of(f.begin(), f.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
    if (!ident) fl[k].fail("a field name is letters and digits, starting with a letter (no '_': u_x is u's derivative)");
    for (const auto& x : coordinate_names(3))
      if (f == x || f == "t") fl[k].fail("'" + f + "' names an axis, not an unknown");
    if (L.constants.count(f)) fl[k].fail("'" + f + "' is also a constant");
    if (std::count(p.fields.begin(), p.fields.end(), f) > 1) fl[k].fail("the field '" + f + "' is listed twice");
  }
  p.nonlinear = true;  // no coefficient form: every equation goes through its expression
  p.field_exact.assign(p.fields.size(), std::nullopt);
  p.residual_variables = p.system_variables();
  fl.check([&] { return pde::Expression::parse("0", p.residual_variables); });  // names a parser accepts
  const config::Node rs = section.at("residuals");
  if (!rs.is_map() || rs.keys().empty()) rs.fail("expected a map of named residuals, e.g. {continuity: u_x + v_y}");
  const int per_field = static_cast<int>(all_derivatives(p.dim).size());
  std::vector<bool> used(p.fields.size(), false);
  for (const auto& name : rs.keys()) {
    const config::Node r = rs.at(name);
    if (name == "dirichlet" || name == "neumann")
      r.fail("'" + name + "' names a boundary loss term; call the residual something else");
    Equation e;
    e.name = name;
    e.where = r.where();
    if (!r.is_scalar()) r.fail("expected an expression over the fields, their derivatives and " + join(coordinate_names(p.dim), ", "));
    e.residual = std::make_shared<const pde::Expression>(L.parse(r, p.residual_variables));
    bool any = false;
    for (std::size_t f = 0; f < p.fields.size(); ++f)
      for (int k = 0; k < per_field; ++k)
        if (e.residual->depends_on(static_cast<int>(f) * per_field + k)) any = used[f] = true;
    if (!any) r.fail("the residual does not depend on any field (" + join(p.fields, ", ") + ")");
    p.equations.push_back(e);
  }
  for (std::size_t f = 0; f < p.fields.size(); ++f)
    if (!used[f]) fl[f].fail("the field '" + p.fields[f] + "' appears in no residual");
}
}  // namespace

namespace {

/// A table of reference points (data/table.hpp: CSV, text or HDF5) with one column per axis
/// (x, y, z; t for a time axis), each point inside the domain's box: the table, and the
/// points [n][dim] into *points.
Table reference_table(const config::Node& r, const Problem& p, std::vector<double>* points) {
  const config::Node f = r.at("points");
  const std::string path = f.as_path();
  std::vector<std::string> columns;
  if (r.has("columns")) columns = r.at("columns").as_strings();
  Table t;
  try {
    t = read_table(path, columns);
  } catch (const InputError& e) {
    f.fail(e.what());
  }
  const std::size_t n = t.n_rows();
  points->assign(n * p.dim, 0.0);
  for (int a = 0; a < p.dim; ++a) {
    const std::string axis(1, "xyz"[a]);
    const std::vector<double>* c = data::coordinate_column(t, axis, a == p.time_axis);
    if (!c)
      f.fail(path + ": no column '" + axis + (a == p.time_axis ? "' or 't'" : "'") + " (the columns are " +
             join(t.names, ", ") + ")");
    const double lo = p.geometry->lo()[a], hi = p.geometry->hi()[a], tol = 1e-9 * (hi - lo);
    for (std::size_t k = 0; k < n; ++k) {
      if ((*c)[k] < lo - tol || (*c)[k] > hi + tol)
        f.fail(path + ": point " + std::to_string(k + 1) + " has " + axis + " = " + format_number((*c)[k]) +
               ", outside the domain's box [" + format_number(lo) + ", " + format_number(hi) + "]");
      (*points)[k * p.dim + a] = (*c)[k];
    }
  }
  return t;
}

/// reference: {points: FILE, columns: [x, y, u]}: a table with the coordinates and u.
PointReference load_point_reference(const config::Node& r, const Problem& p) {
  PointReference ref;
  const Table t = reference_table(r, p, &ref.points);
  ref.origin = r.at("points").as_string();
  const std::vector<double>* u = t.find("u");
  if (!u) r.at("points").fail(ref.origin + ": no column 'u' (the columns are " + join(t.names, ", ") + ")");
  ref.u = *u;
  return ref;
}

/// A system's reference: {points: FILE, columns: [...]} or a list of them; each table has
/// the coordinates and a column for one or more fields.
std::vector<FieldPointReference> load_field_points(const config::Node& r, const Problem& p) {
  std::vector<config::Node> items;
  if (r.is_list())
    for (std::size_t i = 0; i < r.size(); ++i) items.push_back(r[i]);
  else
    items.push_back(r);
  std::vector<FieldPointReference> out;
  for (const config::Node& item : items) {
    if (!item.is_map() || !item.has("points"))
      item.fail("a system's reference is a table of points, {points: file, columns: [x, y, <fields>]}, or a list of "
                "them (its exact solution goes under exact:)");
    FieldPointReference ref;
    const Table t = reference_table(item, p, &ref.points);
    ref.origin = item.at("points").as_string();
    for (std::size_t f = 0; f < p.fields.size(); ++f)
      if (const std::vector<double>* v = t.find(p.fields[f])) ref.values.push_back({static_cast<int>(f), *v});
    if (ref.values.empty())
      item.at("points").fail(ref.origin + ": no column named after a field (" + join(p.fields, ", ") +
                             "; the columns are " + join(t.names, ", ") + ")");
    out.push_back(std::move(ref));
  }
  return out;
}

/// reference: {burgers: NU}: the Cole-Hopf solution of u_t + u u_x = nu u_xx on
/// [-1, 1] x [0, 1] (time axis y), u(x, 0) = -sin(pi x), u(+-1, t) = 0 (data/burgers.hpp).
NamedReference burgers_reference(const config::Node& r, const Problem& p) {
  const config::Node b = r.at("burgers");
  const double nu = b.as_double();
  if (!(nu > 0) || !std::isfinite(nu)) b.fail("the viscosity nu must be > 0, got " + b.as_string());
  const int nodes = static_cast<int>(r.get_long_min("nodes", 4001, 3, 10000000));
  const auto& lo = p.geometry->lo();
  const auto& hi = p.geometry->hi();
  if (p.dim != 2 || p.time_axis != 1 || lo[0] != -1 || hi[0] != 1 || lo[1] != 0 || hi[1] != 1)
    b.fail("the Burgers reference is the solution on x in [-1, 1], t in [0, 1] (domain box [[-1, 1], [0, 1]] "
           "with time_axis: y)");
  NamedReference ref;
  ref.description = "the Cole-Hopf solution of viscous Burgers (nu = " + format_number(nu) + ", " +
                    std::to_string(nodes) + " quadrature nodes)";
  ref.values = [nu, nodes](const Mat<const double>& x, double* u) {
    Kokkos::parallel_for("kpde::data::burgers_reference", Kokkos::RangePolicy<HostExec>(0, x.extent(0)),
                         [=](std::size_t k) { u[k] = burgers_cole_hopf(x(k, 0), x(k, 1), nu, nodes); });
    Kokkos::fence();
  };
  return ref;
}

}  // namespace

Problem load_problem(config::Node section, const config::Document& doc) {
  Problem p;
  Loader L{doc, 2, {}, {}, {}};
  p.name = section.get_string("name", "problem");

  // ---- constants (named parameters of every expression)
  if (auto c = section.find("constants")) {
    if (!c->is_map()) c->fail("expected a map name: number");
    for (const auto& k : c->keys()) L.constants[k] = c->get_double(k);
  }

  // ---- domain
  const config::Node dom = section.at("domain");
  const config::Node boxn = dom.at("box");
  if (!boxn.is_list() || boxn.size() < 1 || boxn.size() > 3)
    boxn.fail("expected a list of 1 to 3 ranges [lo, hi], e.g. [[-1, 1], [-1, 1]]");
  p.dim = static_cast<int>(boxn.size());
  L.dim = p.dim;
  std::vector<double> lo(p.dim), hi(p.dim);
  for (int k = 0; k < p.dim; ++k) {
    const auto r = boxn[k].as_doubles();
    if (r.size() != 2 || !(r[0] < r[1])) boxn[k].fail("expected a range [lo, hi] with lo < hi");
    lo[k] = r[0], hi[k] = r[1];
    L.lo[k] = r[0], L.hi[k] = r[1];
  }
  if (auto t = dom.find("time_axis")) {
    const std::string a = to_lower(t->as_string());
    p.time_axis = a == "x" ? 0 : a == "y" ? 1 : a == "z" ? 2 : -2;
    if (p.time_axis == -2 || p.time_axis >= p.dim)
      t->fail("expected one of the problem's axes (" + [&] {
        std::string s;
        for (int k = 0; k < p.dim; ++k) s += (k ? ", " : "") + std::string(kAxis[k]);
        return s;
      }() + ")");
  }
  mesh::Shape shape = mesh::box(lo, hi);
  if (auto add = dom.find("add")) {
    for (std::size_t i = 0; i < add->size(); ++i) shape = mesh::unite(shape, L.shape((*add)[i]));
  }
  if (auto holes = dom.find("holes")) {
    for (std::size_t i = 0; i < holes->size(); ++i) shape = mesh::subtract(shape, L.shape((*holes)[i]));
  }
  p.geometry = dom.check([&] { return std::make_shared<const mesh::Geometry>(shape); });
  const mesh::Geometry& geo = *p.geometry;

  // ---- a system: its fields and equations (instead of operator and source)
  if (auto fl = section.find("fields")) {
    load_system(*fl, section, L, p);
  } else {
    if (auto r = section.find("residuals")) r->fail("residuals: belongs to a system; declare its unknowns with fields: [u, v, ...]");
    load_operator(section, L, p);
  }

  // ---- source, exact
  if (auto s = section.find("source")) {
    if (p.is_system()) s->fail("a system has no source: write it into its residuals");
    p.source = L.field(*s);
  }
  if (auto e = section.find("exact")) {
    if (p.is_system()) {
      if (!e->is_map()) e->fail("expected the exact solution per field, e.g. {" + p.fields[0] + ": expression}");
      for (const auto& k : e->keys()) {
        const int f = field_index(p, k);
        if (f < 0) e->at(k).fail("'" + k + "' is not a field (the fields are " + join(p.fields, ", ") + ")");
        p.field_exact[f] = L.field(e->at(k));
        if (!p.field_exact[f]->has_derivatives()) e->at(k).fail("the exact solution must be an expression");
      }
    } else {
      p.exact = L.field(*e);
      if (!p.exact->has_derivatives()) e->fail("the exact solution must be an expression");
    }
  }

  // ---- boundary conditions
  std::map<int, std::set<std::string>> named;  // per field: the parts named explicitly
  const auto bnode = section.find("boundary");
  std::vector<std::pair<config::Node, std::vector<std::string>>> entries;
  if (bnode) {
    for (std::size_t i = 0; i < bnode->size(); ++i) {
      const config::Node b = (*bnode)[i];
      if (!b.is_map()) b.fail("expected {parts: [...], type: dirichlet|neumann|robin, value: ...}");
      std::vector<std::string> parts;
      if (b.has("part") && b.has("parts")) b.fail("give either part or parts, not both");
      if (auto one = b.find("part")) parts = {one->as_string()};
      else parts = b.at("parts").as_strings();
      if (parts.empty()) b.at("parts").fail("the list of parts is empty");
      for (const auto& name : parts)
        if (name != "all") named[condition_field(b, p)].insert(name);
      entries.push_back({b, parts});
    }
  }
  for (const auto& [b, parts] : entries) {
    const std::string type = b.get_choice("type", {"dirichlet", "neumann", "robin"});
    Condition c;
    c.kind = parse_kind(type);
    c.value = L.field(b.at("value"));
    c.weight = b.get_double_above("weight", 1.0, 0.0);
    if (c.kind == mesh::BoundaryKind::robin) {
      c.alpha = b.get_double("alpha");
      c.beta = b.get_double("beta");
      if (c.alpha == 0 && c.beta == 0) b.fail("robin: alpha and beta are both 0");
    }
    c.where = b.where();
    c.field = condition_field(b, p);
    std::vector<std::string> targets;
    for (const auto& name : parts) {
      if (name == "all") {
        for (int id = 0; id < geo.n_parts(); ++id)
          if (!named[c.field].count(geo.part_name(id)) && geo.part_length(id) > 0) targets.push_back(geo.part_name(id));
      } else {
        targets.push_back(name);
      }
    }
    for (const auto& name : targets) {
      Condition ci = c;
      ci.part = (b.has("part") ? b.at("part") : b.at("parts")).check([&] { return geo.part_id(name); });
      ci.part_name = name;
      for (const auto& other : p.conditions)
        if (other.part == ci.part && other.kind == ci.kind && other.field == ci.field)
          b.fail("part '" + name + "' already has a " + type + " condition" +
                 (p.is_system() ? " on " + p.fields[ci.field] : std::string()) + " (" + other.where + ")");
      p.conditions.push_back(ci);
    }
  }

  // ---- initial data (time problems): {value, rate, weight} (with field: for a system; a
  // list of them for several fields)
  if (auto init = section.find("initial")) {
    if (p.time_axis < 0) init->fail("initial data needs a time axis (domain.time_axis)");
    const std::string side = kLoSide[p.time_axis];
    const int part = geo.find_part(side);
    if (part < 0) init->fail("the domain has no part '" + side + "' (the initial line)");
    std::vector<config::Node> items;
    if (init->is_list() && p.is_system())
      for (std::size_t i = 0; i < init->size(); ++i) items.push_back((*init)[i]);
    else
      items.push_back(*init);
    for (const config::Node& in : items) {
      if (!in.is_map()) in.fail("expected {value: expression" + std::string(p.is_system() ? ", field: name" : "") + ", rate: .., weight: ..}");
      const int field = condition_field(in, p);
      for (const auto& other : p.conditions)
        if (other.part == part && other.field == field)
          in.fail("the initial line '" + side + "' also has " + (other.initial ? "an initial" : "a boundary") + " condition" +
                  (p.is_system() ? " on " + p.fields[field] : std::string()) + " (" + other.where + ")");
      const config::Node v = in.at("value");
      Condition c;
      c.part = part, c.part_name = side, c.initial = true, c.where = v.where(), c.field = field;
      c.kind = mesh::BoundaryKind::dirichlet;
      c.value = L.field(v);
      c.weight = in.get_double_above("weight", 1.0, 0.0);
      p.conditions.push_back(c);
      if (auto r = in.find("rate")) {
        if (!r->is_scalar()) r->fail("the initial rate must be a number or an expression");
        Condition cr = c;
        cr.where = r->where();
        cr.kind = mesh::BoundaryKind::neumann;  // du/dn = -u_t on the initial line (n = -e_t)
        const pde::Expression e = L.parse(*r, coordinate_names(p.dim));
        cr.value = Field::expression(pde::Expression::parse("-(" + e.text() + ")", coordinate_names(p.dim),
                                                            L.constants, r->where()));
        p.conditions.push_back(cr);
      }
    }
  }

  // ---- every part of the boundary needs a condition (except the final time side)
  std::vector<std::string> missing;
  for (int id = 0; id < geo.n_parts(); ++id) {
    if (geo.part_length(id) <= 0) continue;
    const std::string& name = geo.part_name(id);
    if (p.time_axis >= 0 && name == kHiSide[p.time_axis]) continue;
    const bool has = std::any_of(p.conditions.begin(), p.conditions.end(), [&](const Condition& c) { return c.part == id; });
    if (!has) missing.push_back(name);
  }
  if (!missing.empty()) {
    const std::string s = join(missing, ", ");
    (bnode ? *bnode : section).fail("no boundary condition on the part(s) " + s +
                                    (p.time_axis >= 0 ? " (the initial line takes `initial:`)" : "") +
                                    " (use `parts: all` for the rest)");
  }

  // ---- pins: a field's value at a point (systems)
  if (auto pins = section.find("pins")) {
    if (!p.is_system()) pins->fail("pins: belong to a system (fields:)");
    if (!pins->is_list()) pins->fail("expected a list of {field: name, at: [x, y], value: number}");
    for (std::size_t i = 0; i < pins->size(); ++i) {
      const config::Node n = (*pins)[i];
      if (!n.is_map()) n.fail("expected {field: name, at: [x, y], value: number}");
      Pin pin;
      pin.field = condition_field(n, p);
      const auto at = L.point(n.at("at"), p.dim);
      for (int a = 0; a < p.dim; ++a) pin.x[a] = at[a];
      if (geo.sdf(pin.x) > 1e-9 * geo.scale()) n.at("at").fail("the point is outside the domain");
      pin.value = n.get_double("value");
      pin.weight = n.get_double_above("weight", 1.0, 0.0);
      pin.where = n.where();
      p.pins.push_back(pin);
    }
  }

  // ---- a system: every unknown needs a condition somewhere (else it is determined up to
  // a constant or worse)
  for (std::size_t f = 0; f < p.fields.size(); ++f)
    if (std::none_of(p.conditions.begin(), p.conditions.end(), [&](const Condition& c) { return c.field == static_cast<int>(f); }) &&
        std::none_of(p.pins.begin(), p.pins.end(), [&](const Pin& c) { return c.field == static_cast<int>(f); }))
      section.at("fields")[f].fail("the field '" + p.fields[f] + "' has no boundary or initial condition (give it one, "
                                   "e.g. a Dirichlet value on one part, with field: " + p.fields[f] +
                                   ", or pin its value at a point: pins: [{field: " + p.fields[f] +
                                   ", at: [x, y], value: 0}])");

  // ---- reference
  if (auto r = section.find("reference"); r && p.is_system()) {
    p.field_points = load_field_points(*r, p);
  } else if (auto r = section.find("reference")) {
    const std::string forms =
        "expected petsc, {hdf5: file, dataset: name, mask: name} (a grid), {points: file} (scattered points) or "
        "{burgers: nu} (the Cole-Hopf solution)";
    if (r->is_scalar()) {
      const std::string s = to_lower(r->as_string());
      if (s != "petsc") r->fail(forms);
      p.reference_solver = s;
    } else if (!r->is_map()) {
      r->fail(forms);
    } else if (r->has("points")) {
      p.point_reference = load_point_reference(*r, p);
    } else if (r->has("burgers")) {
      p.named_reference = burgers_reference(*r, p);
    } else if (!r->has("hdf5")) {
      r->fail(forms);
    } else {
      GridReference g;
      g.solution = L.read_grid(*r, "dataset");
      if (r->has("mask")) {
        g.mask = L.read_grid(*r, "mask");
        if (g.mask->nx != g.solution->nx || g.mask->ny != g.solution->ny)
          r->at("mask").fail("the mask is [" + std::to_string(g.mask->ny) + " x " + std::to_string(g.mask->nx) +
                             "] but the solution is [" + std::to_string(g.solution->ny) + " x " +
                             std::to_string(g.solution->nx) + "]");
      }
      p.reference = g;
    }
  }
  return p;
}

}  // namespace kpde::data
