#pragma once
/// What the operator-learning runs (DeepONet, MgNO) report about their test errors:
/// summary statistics of per-sample relative errors, the samples ordered by error, and
/// heat maps of one test sample (target, prediction, their difference).
#include <cstddef>
#include <string>
#include <vector>

#include "io/plot.hpp"

namespace kpde::operators {

/// The q-quantile of v (0 <= q <= 1), linear between order statistics; NaN when empty.
double percentile(std::vector<double> v, double q);
/// The mean of v; NaN when empty.
double mean_of(const std::vector<double>& v);
/// The sample indices sorted by increasing error (ties keep their order).
std::vector<long> order_by_error(const std::vector<double>& err);

/// test_<which>_target.png, test_<which>_prediction.png and test_<which>_error.png in dir:
/// heat maps of one test sample's target and prediction ([ny][nx], row 0 at the smallest
/// y; the prediction on the target's colour scale) and of prediction - target. base gives
/// the axes, labels and mask; the titles name the sample and its relative L2 error.
void write_sample_maps(const std::string& dir, const std::string& which, std::size_t sample, double err,
                       const std::vector<double>& target, const std::vector<double>& prediction, std::size_t nx,
                       std::size_t ny, io::HeatMapOptions base);

}  // namespace kpde::operators
