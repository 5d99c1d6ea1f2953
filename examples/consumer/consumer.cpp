// C++ consumer of the installed kpde: the C API and the C++ API in one program. The model
// the C consumer saved is read by kpde::pinn::TrainedPinn (C++) and by the C API, and
// their values and derivatives must agree. Usage: consumer_cxx MODEL.h5
#include <cmath>
#include <cstdio>
#include <vector>

#include "kpde.h"
#include "pinn/model.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  if (kpde_init(0) != KPDE_OK) return std::fprintf(stderr, "%s\n", kpde_last_error()), 1;
  int status = 0;
  {
    kpde_model m = nullptr;
    if (kpde_model_from_file(argv[1], MPI_COMM_SELF, &m) != KPDE_OK) return std::fprintf(stderr, "%s\n", kpde_last_error()), 1;
    const int n = 100;
    kpde::Mat<double> x("x", n, 2);
    for (int p = 0; p < n; ++p) x(p, 0) = std::cos(0.3 * p), x(p, 1) = std::sin(0.7 * p);
    std::vector<double> c(n * 3);
    if (kpde_model_eval(m, n, x.data(), KPDE_U | KPDE_U_Y | KPDE_U_XY, c.data()) != KPDE_OK) status = 1;
    const kpde::pinn::TrainedPinn model(argv[1]);  // the C++ API, same library
    const std::vector<kpde::pinn::Quantity> q = {kpde::pinn::parse_quantity("u", 2, -1),
                                                 kpde::pinn::parse_quantity("u_y", 2, -1),
                                                 kpde::pinn::parse_quantity("u_xy", 2, -1)};
    const std::vector<double> cxx = model.evaluate(x, q);
    double worst = 0;
    for (int i = 0; i < n * 3; ++i) worst = std::max(worst, std::abs(cxx[i] - c[i]));
    std::printf("consumer_cxx: %d parameters; max |C API - C++ API| over u, u_y, u_xy at %d points: %.3e\n",
                model.n_params(), n, worst);
    if (!(worst < 1e-12)) status = 1;
    kpde_model_free(&m);
  }  // every Kokkos View is gone before kpde_finalize
  if (kpde_finalize() != KPDE_OK) return 1;
  return status;
}
