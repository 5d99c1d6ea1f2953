// The C API on bad input (issue 15, "Done when"): NULL handles, wrong sizes, NaN inputs,
// missing files, use after free. Each case gets its status code and a message that names
// the function and the argument; none crashes or reads freed memory (test_capi also runs
// under ASan in CI).
#include <limits>

#include "coupling/capi_test.hpp"

namespace kpde::capi_test {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(CapiErrors, NullHandles) {
  int dim = 0;
  int64_t n = 0;
  double buf[8] = {0};
  EXPECT_FAILS(kpde_model_dim(nullptr, &dim), KPDE_ERR_HANDLE, "kpde_model_dim: model is NULL");
  EXPECT_FAILS(kpde_model_n_params(nullptr, &n), KPDE_ERR_HANDLE, "model is NULL");
  EXPECT_FAILS(kpde_model_eval(nullptr, 1, buf, KPDE_U, buf), KPDE_ERR_HANDLE, "kpde_model_eval: model is NULL");
  EXPECT_FAILS(kpde_model_train_supervised(nullptr, 1, buf, buf, nullptr, nullptr), KPDE_ERR_HANDLE, "model is NULL");
  EXPECT_FAILS(kpde_model_save(nullptr, "x.h5"), KPDE_ERR_HANDLE, "model is NULL");
  EXPECT_FAILS(kpde_model_free(nullptr), KPDE_ERR_HANDLE, "kpde_model_free: model is NULL");
  kpde_model none = nullptr;
  EXPECT_FAILS(kpde_model_free(&none), KPDE_ERR_HANDLE, "*model is NULL");
  // a value that was never a handle
  kpde_model bogus = reinterpret_cast<kpde_model>(static_cast<uintptr_t>(0x1234));
  EXPECT_FAILS(kpde_model_dim(bogus, &dim), KPDE_ERR_HANDLE, "not a live model");
  // NULL result pointers and paths are bad input
  Model m;
  EXPECT_FAILS(kpde_model_dim(m.h, nullptr), KPDE_ERR_INPUT, "dim is NULL");
  EXPECT_FAILS(kpde_model_from_config(nullptr, MPI_COMM_SELF, &none), KPDE_ERR_INPUT, "config_path is NULL");
  EXPECT_FAILS(kpde_model_from_config(config_path().c_str(), MPI_COMM_SELF, nullptr), KPDE_ERR_INPUT,
               "model is NULL");
  EXPECT_FAILS(kpde_model_save(m.h, nullptr), KPDE_ERR_INPUT, "path is NULL");
  EXPECT_FAILS(kpde_model_eval(m.h, 4, nullptr, KPDE_U, buf), KPDE_ERR_INPUT, "x is NULL");
  EXPECT_FAILS(kpde_model_eval(m.h, 4, buf, KPDE_U, nullptr), KPDE_ERR_INPUT, "out is NULL");
  EXPECT_FAILS(kpde_model_train_supervised(m.h, 4, buf, nullptr, nullptr, nullptr), KPDE_ERR_INPUT, "target is NULL");
  EXPECT_FAILS(kpde_model_train_physics(m.h, 4, nullptr, 0, nullptr, nullptr), KPDE_ERR_INPUT, "x_interior is NULL");
}

TEST(CapiErrors, UseAfterFree) {
  kpde_model h = nullptr;
  ASSERT_EQ(kpde_model_from_config(config_path().c_str(), MPI_COMM_SELF, &h), KPDE_OK) << kpde_last_error();
  const kpde_model copy = h;
  ASSERT_EQ(kpde_model_free(&h), KPDE_OK) << kpde_last_error();
  EXPECT_EQ(h, nullptr);  // the freed handle is cleared
  const std::vector<double> x = points(4);
  std::vector<double> out(4);
  EXPECT_FAILS(kpde_model_eval(copy, 4, x.data(), KPDE_U, out.data()), KPDE_ERR_HANDLE,
               "kpde_model_eval: model is not a live model (freed");
  kpde_model again = copy;
  EXPECT_FAILS(kpde_model_free(&again), KPDE_ERR_HANDLE, "not a live model");
  // a new model does not revive the old handle (handles are never reused)
  Model fresh;
  int dim = 0;
  EXPECT_NE(fresh.h, copy);
  EXPECT_FAILS(kpde_model_dim(copy, &dim), KPDE_ERR_HANDLE, "not a live model");
}

TEST(CapiErrors, WrongSizes) {
  Model m;
  const std::vector<double> p = m.params();
  const int64_t n = static_cast<int64_t>(p.size());
  std::vector<double> buf(p.size() + 1);
  EXPECT_FAILS(kpde_model_get_params(m.h, n - 1, buf.data()), KPDE_ERR_INPUT,
               "kpde_model_get_params: n: " + std::to_string(n - 1) + "; expected the model's parameter count " +
                   std::to_string(n));
  EXPECT_FAILS(kpde_model_set_params(m.h, n + 1, buf.data()), KPDE_ERR_INPUT, "parameter count");
  const std::vector<double> x = points(4);
  std::vector<double> out(40);
  EXPECT_FAILS(kpde_model_eval(m.h, -1, x.data(), KPDE_U, out.data()), KPDE_ERR_INPUT, "n: -1");
  EXPECT_FAILS(kpde_model_eval(m.h, 4, x.data(), KPDE_U_Z, out.data()), KPDE_ERR_INPUT,
               "KPDE_U_Z asks for axis 2 of a 2-D model");
  EXPECT_FAILS(kpde_model_eval(m.h, 4, x.data(), KPDE_U_YZ, out.data()), KPDE_ERR_INPUT, "KPDE_U_YZ");
  EXPECT_FAILS(kpde_model_eval(m.h, 4, x.data(), 0u, out.data()), KPDE_ERR_INPUT, "quantities");
  EXPECT_FAILS(kpde_model_eval(m.h, 4, x.data(), 1u << 20, out.data()), KPDE_ERR_INPUT, "quantities");
  int q = 0;
  EXPECT_FAILS(kpde_quantity_count(1u << 12, &q), KPDE_ERR_INPUT, "quantities");
  EXPECT_EQ(kpde_quantity_count(KPDE_U | KPDE_U_X | KPDE_LAP, &q), KPDE_OK);
  EXPECT_EQ(q, 3);
  EXPECT_FAILS(kpde_model_train_supervised(m.h, -3, x.data(), out.data(), nullptr, nullptr), KPDE_ERR_INPUT, "n: -3");
  EXPECT_FAILS(kpde_model_train_supervised(m.h, 0, nullptr, nullptr, nullptr, nullptr), KPDE_ERR_INPUT,
               "0 points on every rank");
  EXPECT_FAILS(kpde_model_train_physics(m.h, 0, nullptr, -1, nullptr, nullptr), KPDE_ERR_INPUT, "n_boundary: -1");
  EXPECT_FAILS(kpde_model_train_physics(m.h, 0, nullptr, 0, nullptr, nullptr), KPDE_ERR_INPUT, "no points");
  // points outside the domain, boundary points off the boundary
  const double outside[2] = {0.5, 1.5}, inside[2] = {0.5, 0.5};
  EXPECT_FAILS(kpde_model_train_physics(m.h, 1, outside, 0, nullptr, nullptr), KPDE_ERR_INPUT,
               "x_interior[0] lies outside the domain");
  EXPECT_FAILS(kpde_model_train_physics(m.h, 1, inside, 1, inside, nullptr), KPDE_ERR_INPUT,
               "x_boundary[0] is 0.5");
  EXPECT_EQ(m.params(), p);  // nothing changed the model
}

TEST(CapiErrors, NaNInputs) {
  Model m;
  const std::vector<double> p = m.params();
  std::vector<double> x = points(8), out(8), target(8, 0.5), weight(8, 1.0);
  x[7] = kNaN;  // point 3, axis 1
  EXPECT_FAILS(kpde_model_eval(m.h, 8, x.data(), KPDE_U, out.data()), KPDE_ERR_INPUT,
               "kpde_model_eval: x[3][1] is nan; expected finite numbers");
  EXPECT_FAILS(kpde_model_train_supervised(m.h, 8, x.data(), target.data(), nullptr, nullptr), KPDE_ERR_INPUT, "x[3][1]");
  x = points(8);
  target[5] = std::numeric_limits<double>::infinity();
  EXPECT_FAILS(kpde_model_train_supervised(m.h, 8, x.data(), target.data(), nullptr, nullptr), KPDE_ERR_INPUT,
               "target[5] is inf");
  target[5] = 0.5;
  weight[2] = kNaN;
  EXPECT_FAILS(kpde_model_train_supervised(m.h, 8, x.data(), target.data(), weight.data(), nullptr), KPDE_ERR_INPUT,
               "weight[2] is nan");
  weight[2] = -1;
  EXPECT_FAILS(kpde_model_train_supervised(m.h, 8, x.data(), target.data(), weight.data(), nullptr), KPDE_ERR_INPUT,
               "weight[2] is negative");
  x[0] = kNaN;
  EXPECT_FAILS(kpde_model_train_physics(m.h, 8, x.data(), 0, nullptr, nullptr), KPDE_ERR_INPUT, "x_interior[0][0] is nan");
  std::vector<double> bad = p;
  bad[10] = kNaN;
  EXPECT_FAILS(kpde_model_set_params(m.h, static_cast<int64_t>(bad.size()), bad.data()), KPDE_ERR_INPUT, "params[10] is nan");
  EXPECT_FAILS(kpde_model_set_learning_rate(m.h, kNaN), KPDE_ERR_INPUT, "lr: nan; expected a finite number > 0");
  EXPECT_FAILS(kpde_model_set_learning_rate(m.h, -1), KPDE_ERR_INPUT, "lr");
  EXPECT_EQ(m.params(), p);
  int64_t steps = -1;
  EXPECT_EQ(kpde_model_steps(m.h, &steps), KPDE_OK);
  EXPECT_EQ(steps, 0);
}

TEST(CapiErrors, MissingAndWrongFiles) {
  kpde_model h = nullptr;
  EXPECT_FAILS(kpde_model_from_config("/nonexistent/no_such.yaml", MPI_COMM_SELF, &h), KPDE_ERR_INPUT,
               "kpde_model_from_config: /nonexistent/no_such.yaml");
  EXPECT_EQ(h, nullptr);
  EXPECT_FAILS(kpde_model_from_file("/nonexistent/no_such.h5", MPI_COMM_SELF, &h), KPDE_ERR_INPUT, "no_such.h5");
  EXPECT_FAILS(kpde_model_from_file("", MPI_COMM_SELF, &h), KPDE_ERR_INPUT, "model_path is empty");
  // a config file given as a model file, and the reverse
  EXPECT_FAILS(kpde_model_from_file(config_path().c_str(), MPI_COMM_SELF, &h), KPDE_ERR_INPUT, "poisson_small.yaml");
  Model m;
  const std::string model_h5 = scratch("errors_model.h5");
  ASSERT_EQ(kpde_model_save(m.h, model_h5.c_str()), KPDE_OK) << kpde_last_error();
  EXPECT_FAILS(kpde_model_from_config(model_h5.c_str(), MPI_COMM_SELF, &h), KPDE_ERR_INPUT, "errors_model.h5");
  EXPECT_FAILS(kpde_model_load_state(m.h, "/nonexistent/state.h5"), KPDE_ERR_INPUT, "state.h5");
  EXPECT_FAILS(kpde_model_load_state(m.h, model_h5.c_str()), KPDE_ERR_INPUT,
               "not a training state written by kpde_model_save_state");
  EXPECT_FAILS(kpde_model_save(m.h, "/nonexistent/dir/model.h5"), KPDE_ERR_INPUT, "/nonexistent/dir");
  EXPECT_FAILS(kpde_model_save_state(m.h, "/nonexistent/dir/state.h5"), KPDE_ERR_INPUT, "/nonexistent/dir");
}

}  // namespace
}  // namespace kpde::capi_test
