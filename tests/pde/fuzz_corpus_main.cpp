// Runs the fuzz harness's entry point (fuzz_expression.cpp) without libFuzzer over
//  - every file in the directories given on the command line (the seed corpus), and
//  - generated tricky inputs: nesting at and beyond the depth limit, texts at and
//    beyond the length limit, huge, tiny and malformed numbers, and pseudo-random
//    bytes and token soup from a fixed seed (the same inputs on every run).
// Any broken check aborts, so the ctest fails. Prints the number of inputs.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::size_t n_run = 0;

void run(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  ++n_run;
}

std::string repeat(const std::string& s, int n) {
  std::string r;
  for (int k = 0; k < n; ++k) r += s;
  return r;
}

struct Lcg {  // fixed-seed generator: the same inputs on every run and platform
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  std::uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 33);
  }
};

}  // namespace

int main(int argc, char** argv) {
  for (int a = 1; a < argc; ++a)
    for (const auto& entry : std::filesystem::directory_iterator(argv[a])) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      run(std::string(std::istreambuf_iterator<char>(in), {}));
    }

  for (int depth : {1, 199, 200, 201, 202, 5000}) {
    run(repeat("(", depth) + "x" + repeat(")", depth));
    run(repeat("(", depth) + "x");                // never closed
    run("x" + repeat(")", depth));                // never opened
    run(repeat("-", depth) + "x");
    run(repeat("+-", depth) + "y");
    run("x" + repeat("^x", depth));
    run("x" + repeat("^-x", depth));
    run(repeat("sin(", depth) + "x" + repeat(")", depth));
    run(repeat("pow(x,", depth) + "y" + repeat(")", depth));
    run(repeat("atan2(", depth) + "x" + repeat(",y)", depth));
    run(repeat("x+(", depth) + "x" + repeat(")", depth));
  }
  for (std::size_t len : {9998u, 9999u, 10000u, 10001u, 20000u}) {
    std::string sum = "x";
    while (sum.size() + 2 <= len) sum += "+x";
    run(sum);
    run(std::string(len, ' ') + "x");
    run(std::string(len, '1'));
    run(std::string(len, '('));
    run("x*" + std::string(len, '9'));
  }
  for (const char* s : {"1e308", "1.8e308", "1e309", "1e99999999999999999999", "-1e400", "1e-400", "4.9e-324",
                        "2e-324", "0.000000000000000000000000000000001e-300", "1e", "1e+", "1e-", "1.e5", ".e5",
                        ".", "..", "1..2", "1.2.3", "0x1p3", "1_000", "nan", "inf", "-inf", "NaN", "1/0", "0/0",
                        "log(0)", "sqrt(-1)", "pow(0,-1)", "0^0", "(-8)^(1/3)", "x^1e308", "exp(1e308)",
                        "tan(pi/2)", "asin(2)", "acos(-2)", "atan2(0,0)", "sigmoid(-1000)", "abs(-0)",
                        "min(x,nan)", "max(0/0,x)", "x^y^x^y", "pow(x,y)^pow(y,x)", "e^e^e", "pi(x)", "x(",
                        "sin(", "sin(,)", "sin(x,)", "min(,x)", "()", ")(", ",", "^", "-", "+", "*", "**",
                        "x**2", "2x", "x y", "\t\n\r\v\f", "", " ", "π", "x²", "\xff\xfe", "\xc3", "\xe2\x88",
                        "\xf0\x9f\x98\x80", "x\0y", "nu*nu^nu", "e", "E", "pi*e*nu"})
    run(s);
  run(std::string("x\0+y", 4));

  Lcg rng;
  for (int k = 0; k < 3000; ++k) {  // random bytes
    std::string s(rng.next() % 64, '\0');
    for (char& c : s) c = static_cast<char>(rng.next() & 0xFF);
    run(s);
  }
  const char* tokens[] = {"x",   "y",    "nu",   "pi",   "e",     "1",   "2.5",  "1e-3",  ".5",    "0",
                          "+",   "-",    "*",    "/",    "^",     "(",   ")",    ",",     " ",     "sin(",
                          "cos(", "tan(", "exp(", "log(", "sqrt(", "tanh(", "sinh(", "cosh(", "sigmoid(",
                          "abs(", "atan(", "asin(", "acos(", "min(", "max(", "pow(", "atan2(", "1e308", "1e-308"};
  const std::size_t n_tokens = sizeof tokens / sizeof tokens[0];
  for (int k = 0; k < 20000; ++k) {  // token soup
    std::string s;
    const std::uint32_t n = rng.next() % 40;
    for (std::uint32_t t = 0; t < n; ++t) s += tokens[rng.next() % n_tokens];
    run(s);
  }
  std::printf("fuzz corpus: %zu inputs, no failure\n", n_run);
  return 0;
}
