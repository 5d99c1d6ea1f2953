#include "operators/operator_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kpde::operators {

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const std::size_t i = static_cast<std::size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / static_cast<double>(v.size());
}

std::vector<long> order_by_error(const std::vector<double>& err) {
  std::vector<long> order(err.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<long>(i);
  std::stable_sort(order.begin(), order.end(), [&](long a, long b) { return err[a] < err[b]; });
  return order;
}

void write_sample_maps(const std::string& dir, const std::string& which, std::size_t sample, double err,
                       const std::vector<double>& target, const std::vector<double>& prediction, std::size_t nx,
                       std::size_t ny, io::HeatMapOptions o) {
  std::vector<double> diff(target.size());
  for (std::size_t i = 0; i < diff.size(); ++i) diff[i] = prediction[i] - target[i];
  o.vmin = *std::min_element(target.begin(), target.end());
  o.vmax = *std::max_element(target.begin(), target.end());
  char title[160];
  std::snprintf(title, sizeof title, "%s test sample %zu: target", which.c_str(), sample);
  o.title = title;
  io::write_heat_map_png(dir + "/test_" + which + "_target.png", target, nx, ny, o);
  std::snprintf(title, sizeof title, "%s test sample %zu: prediction (rel L2 %.2e)", which.c_str(), sample, err);
  o.title = title;
  io::write_heat_map_png(dir + "/test_" + which + "_prediction.png", prediction, nx, ny, o);
  o.vmin = o.vmax = NAN;  // the difference on its own scale
  std::snprintf(title, sizeof title, "%s test sample %zu: prediction - target", which.c_str(), sample);
  o.title = title;
  io::write_heat_map_png(dir + "/test_" + which + "_error.png", diff, nx, ny, o);
}

}  // namespace kpde::operators
