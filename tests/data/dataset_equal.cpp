// dataset_equal A.h5 B.h5: exit 0 when two kpde dataset files hold the same samples
// (every numeric field bit for bit, NaN equal to NaN, and every string field), 1 when
// they differ (naming the first difference), 2 on a bad file. Used by the MPI test of
// `kpde generate` (the same seed gives the same file whatever the number of ranks).
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"
#include "runtime/runtime.hpp"
#include "data/dataset.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: dataset_equal A.h5 B.h5\n");
    return 2;
  }
  try {
    kpde::Runtime runtime(argc, argv);
    const kpde::data::DatasetReader a(argv[1]), b(argv[2]);
    if (a.kind() != b.kind() || a.n_samples() != b.n_samples() || a.grid() != b.grid()) {
      std::printf("differ: kind, n_samples or grid\n");
      return 1;
    }
    const auto names = a.file().list_datasets();
    if (names != b.file().list_datasets()) {
      std::printf("differ: the lists of datasets\n");
      return 1;
    }
    for (const auto& name : names) {
      bool is_string = true;
      try {
        (void)a.strings(name, 0, 0);  // throws unless the dataset holds strings
      } catch (const kpde::Error&) {
        is_string = false;
      }
      if (is_string) {
        if (a.strings(name, 0, a.n_samples()) != b.strings(name, 0, b.n_samples())) {
          std::printf("differ: strings '%s'\n", name.c_str());
          return 1;
        }
        continue;
      }
      const auto x = a.read(name, 0, a.n_samples()), y = b.read(name, 0, b.n_samples());
      if (x.size() != y.size()) {
        std::printf("differ: size of '%s'\n", name.c_str());
        return 1;
      }
      for (std::size_t k = 0; k < x.size(); ++k)
        if (!(x[k] == y[k] || (std::isnan(x[k]) && std::isnan(y[k])))) {
          std::printf("differ: '%s' entry %zu: %.17g vs %.17g\n", name.c_str(), k, x[k], y[k]);
          return 1;
        }
    }
    std::printf("equal: %zu datasets, %ld samples\n", names.size(), a.n_samples());
    return 0;
  } catch (const kpde::InputError& e) {
    std::fprintf(stderr, "dataset_equal: %s\n", e.what());
    return 2;
  }
}
