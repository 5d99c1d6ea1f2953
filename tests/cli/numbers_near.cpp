// numbers_near A B TOL: exit 0 when |A - B| <= TOL |A| (doubles as text), 1 otherwise
// (printing both and the relative difference), 2 on bad arguments; numbers_near --less
// A B: exit 0 when A < B. For ctest scripts, which have no floating-point arithmetic.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--less") {  // numbers_near --less A B: exit 0 when A < B
    char* end = nullptr;
    const double a = std::strtod(argv[2], &end);
    if (*end) return 2;
    const double b = std::strtod(argv[3], &end);
    if (*end) return 2;
    std::printf("%.17g %s %.17g\n", a, a < b ? "<" : ">=", b);
    return a < b ? 0 : 1;
  }
  if (argc != 4) {
    std::fprintf(stderr, "usage: numbers_near A B TOL\n");
    return 2;
  }
  char* end = nullptr;
  const double a = std::strtod(argv[1], &end);
  if (*end) return 2;
  const double b = std::strtod(argv[2], &end);
  if (*end) return 2;
  const double tol = std::strtod(argv[3], &end);
  if (*end) return 2;
  const double rel = std::abs(a - b) / std::abs(a);
  std::printf("%.17g vs %.17g: relative difference %.3e (tolerance %.1e)\n", a, b, rel, tol);
  return std::isfinite(rel) && rel <= tol ? 0 : 1;
}
