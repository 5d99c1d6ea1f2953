#include "data/solution_output.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "io/atomic_file.hpp"
#include "io/hdf5.hpp"
#include "io/plot.hpp"
#include "io/xdmf.hpp"
#include "io/json.hpp"

namespace kpde::data {

// loss.png: against "step", the total loss and each loss term (every other series of that
// length, except lr, wall_s and stage: train::HistoryRecorder's); against
// "monitor_step", each monitored error "monitor_<name>" (except monitor_wall_s). A series
// without a positive finite value (a term with no points: 0 at every step) is left out,
// as the log axis would not show it. Not written when there are no steps.
void write_loss_png(const std::string& path,
                    const std::vector<std::pair<std::string, std::vector<double>>>& history) {
  const std::vector<double>* step = nullptr;
  const std::vector<double>* monitor_step = nullptr;
  for (const auto& [name, values] : history) {
    if (name == "step") step = &values;
    if (name == "monitor_step") monitor_step = &values;
  }
  if (!step || step->empty()) return;
  std::vector<io::Series> series;
  bool monitored = false;
  for (const auto& [name, values] : history) {
    if (std::none_of(values.begin(), values.end(), [](double v) { return v > 0 && std::isfinite(v); })) continue;
    if (name == "step" || name == "lr" || name == "wall_s" || name == "stage" || name == "monitor_step" ||
        name == "monitor_wall_s")
      continue;
    if (name.rfind("monitor_", 0) == 0) {
      if (monitor_step && monitor_step->size() == values.size()) {
        series.push_back({name.substr(8) + " (monitor)", *monitor_step, values});
        monitored = true;
      }
    } else if (values.size() == step->size()) {
      series.push_back({name, *step, values});
    }
  }
  io::LinePlotOptions o;
  o.title = "training history";
  o.x_label = "step";
  o.y_label = monitored ? "loss, monitored error" : "loss";
  o.log_y = true;
  o.width = 900;
  io::write_line_plot_png(path, series, o);
}

namespace {

}  // namespace

const std::vector<double>* GridFields::find(const std::string& name) const {
  for (const auto& f : fields)
    if (f.first == name) return &f.second;
  return nullptr;
}

ErrorMetrics error_metrics(const std::vector<double>& u, const std::vector<double>& truth,
                           const std::vector<double>& mask) {
  KPDE_REQUIRE(u.size() == truth.size() && (mask.empty() || mask.size() == u.size()), Error,
               "error_metrics: sizes differ");
  ErrorMetrics m;
  double e2 = 0, t2 = 0, t_max = 0, u_max = 0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    if (!mask.empty() && mask[i] == 0) continue;
    const double e = u[i] - truth[i];
    e2 += e * e;
    t2 += truth[i] * truth[i];
    t_max = std::max(t_max, std::abs(truth[i]));
    u_max = std::max(u_max, std::abs(u[i]));
    m.max_abs_err = std::max(m.max_abs_err, std::abs(e));
    ++m.n;
  }
  if (m.n > 0) m.mse = e2 / m.n;
  m.truth_vanishes = m.n > 0 && (t_max <= 1e-13 || t_max <= 1e-12 * u_max);
  m.rel_l2 = m.truth_vanishes ? std::nan("") : std::sqrt(e2 / t2);
  return m;
}

void write_training_reports(const std::string& dir, const io::JsonValue& metrics, const train::History& history) {
  io::write_file_atomically(dir + "/metrics.json", metrics.dump() + "\n");
  {
    io::H5File h = io::H5File::create(dir + "/history.h5");
    history.save(h, "history");
    h.close();
  }
  write_loss_png(dir + "/loss.png", history.series());
}

void make_output_directory(const std::string& dir) {
  if (dir.empty()) throw InputError("output directory: empty path");
  std::string path;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    path = dir.substr(0, pos);
    if (path.empty()) continue;
    struct stat st {};
    if (stat(path.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) throw InputError("output directory " + dir + ": " + path + " is not a directory");
      continue;
    }
    if (mkdir(path.c_str(), 0777) != 0 && errno != EEXIST)
      throw InputError("output directory " + dir + ": cannot create " + path + ": " + std::strerror(errno));
  }
  if (access(dir.c_str(), W_OK) != 0) throw InputError("output directory " + dir + " is not writable");
}

void write_solution_outputs(const std::string& dir, const GridFields& grid,
                            const std::vector<std::pair<std::string, std::vector<double>>>& history,
                            const io::JsonValue& metrics, const std::string& resolved_config,
                            const std::string& description) {
  make_output_directory(dir);
  const std::size_t nx = grid.nx(), ny = grid.ny(), nz = grid.nz();
  const bool three = nz > 0;
  {
    io::H5File f = io::H5File::create(dir + "/solution.h5");
    f.set_attribute("/", "description", description);
    f.set_attribute("/", "layout",
                    three ? "fields are [nz][ny][nx], row 0 at the smallest y; x[j], y[i], z[k] are the node coordinates"
                          : "fields are [ny][nx], row 0 at the smallest y; x[j], y[i] are the node coordinates");
    f.write("x", grid.x, {nx});
    f.write("y", grid.y, {ny});
    if (three) f.write("z", grid.z, {nz});
    for (const auto& [name, values] : grid.fields)
      if (three) f.write(name, values, {nz, ny, nx});
      else f.write(name, values, {ny, nx});
    for (const auto& [name, values] : history)
      if (!values.empty()) f.write("history/" + name, values, {values.size()});
    f.close();
  }
  if (ny > 1) {
    std::vector<std::string> names;
    for (const auto& fld : grid.fields) names.push_back(fld.first);
    if (three) {
      io::XdmfGrid3D x;
      x.h5_file = "solution.h5";
      x.nx = nx, x.ny = ny, x.nz = nz;
      x.fields = names;
      io::write_xdmf_3d(dir + "/solution.xdmf", x);
    } else {
      io::XdmfGrid2D x;
      x.h5_file = "solution.h5";
      x.nx = nx, x.ny = ny;
      x.fields = names;
      io::write_xdmf_2d(dir + "/solution.xdmf", x);
    }
    // heat maps of the 2-D field, or of the middle z slice in 3-D
    const std::size_t slice = three ? nz / 2 : 0, plane = nx * ny;
    const auto cut = [&](const std::vector<double>& f) {
      return std::vector<double>(f.begin() + slice * plane, f.begin() + (slice + 1) * plane);
    };
    const std::string where = three ? " (z = " + format_number(grid.z[slice]) + ")" : "";
    std::vector<std::uint8_t> mask;
    if (const auto* m = grid.find("domain_mask")) {
      for (std::size_t i = 0; i < plane; ++i) mask.push_back((*m)[slice * plane + i] != 0);
    }
    io::HeatMapOptions o;
    o.mask = mask;
    o.x_range = {grid.x.front(), grid.x.back()};
    o.y_range = {grid.y.front(), grid.y.back()};
    // a scalar problem: u.png, error.png; a system: <f>.png, <f>_error.png per field
    const bool system = !grid.unknowns.empty();
    for (const std::string& f : system ? grid.unknowns : std::vector<std::string>{"u"}) {
      o.title = f + where;
      io::write_heat_map_png(dir + "/" + f + ".png", cut(*grid.find(f)), nx, ny, o);
      const std::string error = system ? f + "_error" : "error";
      if (const auto* e = grid.find(error)) {
        o.title = error + where;
        io::write_heat_map_png(dir + "/" + error + ".png", cut(*e), nx, ny, o);
      }
    }
  }
  write_loss_png(dir + "/loss.png", history);
  io::write_json(dir + "/metrics.json", metrics);
  if (!resolved_config.empty()) io::write_file_atomically(dir + "/config.resolved.yaml", resolved_config);
}

}  // namespace kpde::data
