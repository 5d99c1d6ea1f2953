// The C functions of kpde.h: the process runtime, the handle registry, and the guard that
// turns every exception into a status code and a message (nothing is thrown across the
// ABI).
#include "kpde.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>

#include "c/capi_model.hpp"
#include "core/error.hpp"
#include "core/version.hpp"
#include "runtime/runtime.hpp"

namespace kpde::capi {
namespace {

/// A handle that is NULL, freed or unknown (status KPDE_ERR_HANDLE).
struct HandleError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The process-wide state, guarded by one lock (kpde.h: "calls are serialised").
struct State {
  std::mutex lock;
  enum class Phase { before, running, after } phase = Phase::before;
  std::unique_ptr<Runtime> runtime;
  /// Live models by handle value. Handle values are never reused (next_id only grows),
  /// so a stale handle is found absent instead of pointing at someone else's model.
  std::map<std::uintptr_t, std::unique_ptr<Model>> models;
  std::uintptr_t next_id = 0x4b50440;  // "KPD" << 4: far from small integers
};

State& state() {
  // Never destroyed: a host that skips kpde_finalize must not have Views freed after
  // Kokkos, nor PETSc finalised after its own MPI_Finalize, by exit-time destructors.
  static State* s = new State;
  return *s;
}

thread_local std::string last_error;

int fail(const char* fn, int code, const char* message) {
  try {
    last_error = std::string(fn) + ": " + message;
  } catch (...) {  // no memory for the message: keep the old text
  }
  return code;
}

/// Runs f() under the lock; the status of how it ended. needs_runtime: refuse before
/// kpde_init and after kpde_finalize.
template <class F>
int guard(const char* fn, bool needs_runtime, F&& f) noexcept {
  try {
    State& s = state();
    std::lock_guard<std::mutex> hold(s.lock);
    if (needs_runtime && s.phase != State::Phase::running)
      return fail(fn, KPDE_ERR_RUNTIME,
                  s.phase == State::Phase::before ? "kpde is not initialised; call kpde_init first"
                                                  : "kpde was finalised (kpde_finalize); no call can follow it");
    f(s);
    return KPDE_OK;
  } catch (const HandleError& e) {
    return fail(fn, KPDE_ERR_HANDLE, e.what());
  } catch (const Error& e) {
    return fail(fn, e.code() == ExitCode::bad_input ? KPDE_ERR_INPUT : KPDE_ERR_RUNTIME, e.what());
  } catch (const std::bad_alloc&) {
    return fail(fn, KPDE_ERR_RUNTIME, "out of memory");
  } catch (const std::exception& e) {
    return fail(fn, KPDE_ERR_RUNTIME, e.what());
  } catch (...) {
    return fail(fn, KPDE_ERR_RUNTIME, "unknown failure");
  }
}

/// The live model of handle h; HandleError naming the argument otherwise.
Model& lookup(State& s, kpde_model h, const char* arg = "model") {
  if (!h) throw HandleError(std::string(arg) + " is NULL; expected a handle from kpde_model_from_config or _from_file");
  const auto it = s.models.find(reinterpret_cast<std::uintptr_t>(h));
  if (it == s.models.end())
    throw HandleError(std::string(arg) + " is not a live model (freed by kpde_model_free or kpde_finalize, "
                      "or never created); expected a handle from kpde_model_from_config or _from_file");
  return *it->second;
}

template <class P>
void require_out(const P* p, const char* arg) {
  if (!p) throw InputError(std::string(arg) + " is NULL; expected a pointer to the result");
}

std::string path_arg(const char* p, const char* arg) {
  if (!p) throw InputError(std::string(arg) + " is NULL; expected a file path");
  if (!*p) throw InputError(std::string(arg) + " is empty; expected a file path");
  return p;
}

kpde_model add(State& s, std::unique_ptr<Model> m) {
  const std::uintptr_t id = s.next_id;
  s.next_id += 16;
  s.models.emplace(id, std::move(m));
  return reinterpret_cast<kpde_model>(id);
}

int create(const char* fn, const char* path, MPI_Comm comm, kpde_model* out, bool config) {
  if (out) *out = nullptr;
  return guard(fn, true, [&](State& s) {
    require_out(out, "model");
    const std::string p = path_arg(path, config ? "config_path" : "model_path");
    *out = add(s, config ? model_from_config(p, comm) : model_from_file(p, comm));
  });
}

}  // namespace
}  // namespace kpde::capi

using namespace kpde::capi;

// The Fortran module passes communicators as C int (integer(c_int)).
static_assert(sizeof(MPI_Fint) == sizeof(int), "MPI_Fint must be a C int for the Fortran module");

extern "C" {

int kpde_init(int threads) {
  return guard("kpde_init", false, [&](State& s) {
    if (s.phase == State::Phase::running) throw kpde::InputError("kpde is initialised already; call kpde_init once");
    if (s.phase == State::Phase::after)
      throw kpde::Error("kpde was finalised; Kokkos cannot be started twice in one process");
    if (threads < 0) throw kpde::InputError("threads: " + std::to_string(threads) + "; expected >= 0 (0: automatic)");
    int argc = 0;
    char* none[] = {nullptr};
    char** argv = none;
    kpde::RuntimeOptions o;
    o.threads = threads;
    s.runtime = std::make_unique<kpde::Runtime>(argc, argv, o);
    s.phase = State::Phase::running;
  });
}

int kpde_finalize(void) {
  return guard("kpde_finalize", true, [&](State& s) {
    s.models.clear();  // every View dies before Kokkos stops
    s.runtime.reset();
    s.phase = State::Phase::after;
  });
}

int kpde_initialized(void) {
  State& s = state();
  std::lock_guard<std::mutex> hold(s.lock);
  return s.phase == State::Phase::running ? 1 : 0;
}

const char* kpde_last_error(void) { return last_error.c_str(); }

const char* kpde_version(void) { return kpde::kVersion; }

int kpde_set_error(int status, const char* function, const char* message) {
  return fail(function ? function : "?", status, message ? message : "");
}

int kpde_model_from_config(const char* config_path, MPI_Comm comm, kpde_model* model) {
  return create("kpde_model_from_config", config_path, comm, model, true);
}
int kpde_model_from_file(const char* model_path, MPI_Comm comm, kpde_model* model) {
  return create("kpde_model_from_file", model_path, comm, model, false);
}
int kpde_model_from_config_f(const char* config_path, MPI_Fint comm, kpde_model* model) {
  return create("kpde_model_from_config", config_path, MPI_Comm_f2c(comm), model, true);
}
int kpde_model_from_file_f(const char* model_path, MPI_Fint comm, kpde_model* model) {
  return create("kpde_model_from_file", model_path, MPI_Comm_f2c(comm), model, false);
}

int kpde_model_free(kpde_model* model) {
  return guard("kpde_model_free", true, [&](State& s) {
    if (!model) throw HandleError("model is NULL; expected the address of a handle");
    lookup(s, *model, "*model");
    s.models.erase(reinterpret_cast<std::uintptr_t>(*model));
    *model = nullptr;
  });
}

int kpde_model_dim(kpde_model model, int* dim) {
  return guard("kpde_model_dim", true, [&](State& s) {
    const Model& m = lookup(s, model);
    require_out(dim, "dim");
    *dim = m.dim();
  });
}

int kpde_model_n_params(kpde_model model, int64_t* n_params) {
  return guard("kpde_model_n_params", true, [&](State& s) {
    const Model& m = lookup(s, model);
    require_out(n_params, "n_params");
    *n_params = m.n_params();
  });
}

int kpde_model_time_axis(kpde_model model, int* axis) {
  return guard("kpde_model_time_axis", true, [&](State& s) {
    const Model& m = lookup(s, model);
    require_out(axis, "axis");
    *axis = m.time_axis();
  });
}

int kpde_quantity_count(unsigned quantities, int* count) {
  return guard("kpde_quantity_count", false, [&](State&) {
    require_out(count, "count");
    if (quantities == 0 || (quantities & ~unsigned(KPDE_ALL_QUANTITIES)))
      throw kpde::InputError("quantities: " + std::to_string(quantities) + " is not a set of KPDE_U ... KPDE_LAP bits");
    *count = quantity_count(quantities);
  });
}

int kpde_model_eval(kpde_model model, int64_t n, const double* x, unsigned quantities, double* out) {
  return guard("kpde_model_eval", true, [&](State& s) {
    Model& m = lookup(s, model);
    if (n < 0) throw kpde::InputError("n: " + std::to_string(n) + "; expected a point count >= 0");
    if (n > 0 && !x) throw kpde::InputError("x is NULL; expected n x dim coordinates");
    if (n > 0 && !out) throw kpde::InputError("out is NULL; expected room for n x (quantities) values");
    m.eval(n, x, quantities, out);
  });
}

int kpde_model_set_learning_rate(kpde_model model, double lr) {
  return guard("kpde_model_set_learning_rate", true, [&](State& s) { lookup(s, model).set_learning_rate(lr); });
}

int kpde_model_train_supervised(kpde_model model, int64_t n, const double* x, const double* target,
                                const double* weight, double* loss) {
  return guard("kpde_model_train_supervised", true, [&](State& s) {
    const double l = lookup(s, model).train_supervised(n, x, target, weight);
    if (loss) *loss = l;
  });
}

int kpde_model_train_physics(kpde_model model, int64_t n_interior, const double* x_interior, int64_t n_boundary,
                             const double* x_boundary, double* loss) {
  return guard("kpde_model_train_physics", true, [&](State& s) {
    const double l = lookup(s, model).train_physics(n_interior, x_interior, n_boundary, x_boundary);
    if (loss) *loss = l;
  });
}

int kpde_model_steps(kpde_model model, int64_t* steps) {
  return guard("kpde_model_steps", true, [&](State& s) {
    const Model& m = lookup(s, model);
    require_out(steps, "steps");
    *steps = m.steps();
  });
}

int kpde_model_get_params(kpde_model model, int64_t n, double* params) {
  return guard("kpde_model_get_params", true, [&](State& s) {
    const Model& m = lookup(s, model);
    if (!params) throw kpde::InputError("params is NULL; expected room for n values");
    m.get_params(n, params);
  });
}

int kpde_model_set_params(kpde_model model, int64_t n, const double* params) {
  return guard("kpde_model_set_params", true, [&](State& s) {
    Model& m = lookup(s, model);
    if (!params) throw kpde::InputError("params is NULL; expected n values");
    m.set_params(n, params);
  });
}

int kpde_model_save(kpde_model model, const char* path) {
  return guard("kpde_model_save", true, [&](State& s) { lookup(s, model).save(path_arg(path, "path")); });
}

int kpde_model_save_state(kpde_model model, const char* path) {
  return guard("kpde_model_save_state", true, [&](State& s) { lookup(s, model).save_state(path_arg(path, "path")); });
}

int kpde_model_load_state(kpde_model model, const char* path) {
  return guard("kpde_model_load_state", true, [&](State& s) { lookup(s, model).load_state(path_arg(path, "path")); });
}

}  // extern "C"
