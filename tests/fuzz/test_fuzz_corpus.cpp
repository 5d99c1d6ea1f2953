// Replays the fuzz harnesses' checks (fuzz_checks.hpp) without libFuzzer, so every
// ctest run exercises them: the example configs, the seed corpus, the bad configs of
// tests/cli, deterministic mutations of all of them, and token soup for the residual
// parser. FuzzRegressions holds the inputs with which fuzzing found bugs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_checks.hpp"

namespace fs = std::filesystem;
using kpde::fuzz::check_config;
using kpde::fuzz::check_residual;
using kpde::fuzz::ConfigOutcome;

namespace {

const fs::path kSource = KPDE_SOURCE_DIR;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Regular files of `dir` ending in `ext`, sorted (the same order everywhere).
std::vector<fs::path> files(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

struct Lcg {  // fixed-seed generator: the same inputs on every run and platform
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  std::uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 33);
  }
};

class FuzzCorpus : public ::testing::Test {
 protected:
  void SetUp() override { kpde::fuzz::set_abort_on_finding(false); }
};

/// Runs check_config on `text`, expecting `want` (unless `any`).
void expect_config(const std::string& text, const std::string& name, ConfigOutcome want) {
  std::string msg;
  const ConfigOutcome got = check_config(text, name, &msg);
  EXPECT_EQ(got, want) << name << (got == ConfigOutcome::rejected ? ": rejected: " + msg : ": accepted");
}

}  // namespace

TEST_F(FuzzCorpus, ExampleConfigsAreAccepted) {
  const auto configs = files(kSource / "examples" / "configs", ".yaml");
  ASSERT_FALSE(configs.empty());
  for (const auto& p : configs) expect_config(read(p), p.string(), ConfigOutcome::accepted);
}

TEST_F(FuzzCorpus, SeedConfigs) {
  const auto seeds = files(kSource / "tests" / "fuzz" / "corpus" / "config", ".yaml");
  ASSERT_GE(seeds.size(), 5u);
  for (const auto& p : seeds) {
    const bool good = starts_with(p.filename().string(), "good_");
    std::string msg;
    const ConfigOutcome got = check_config(read(p), p.string(), &msg);
    EXPECT_EQ(got, good ? ConfigOutcome::accepted : ConfigOutcome::rejected) << p << ": " << msg;
    if (!good) {
      EXPECT_TRUE(starts_with(msg, p.string() + ":") || starts_with(msg, "--set ")) << msg;
    }
  }
}

TEST_F(FuzzCorpus, CliBadConfigsAreRejected) {
  const auto configs = files(kSource / "tests" / "cli" / "bad_configs", ".yaml");
  ASSERT_GE(configs.size(), 10u);
  for (const auto& p : configs) {
    expect_config(read(p), p.string(), p.filename() == "valid.yaml" ? ConfigOutcome::accepted : ConfigOutcome::rejected);
  }
}

TEST_F(FuzzCorpus, MutatedConfigs) {
  std::vector<fs::path> seeds = files(kSource / "examples" / "configs", ".yaml");
  for (const auto& p : files(kSource / "tests" / "fuzz" / "corpus" / "config", ".yaml")) seeds.push_back(p);
  Lcg rng;
  const char bytes[] = {'\0', ':', '[', ']', '{', '}', '-', ',', '\t', '\n', ' ', '9', '&', '*', '!', '#', '\''};
  std::size_t n_run = 0, n_accepted = 0;
  const auto run = [&](const std::string& text) {
    // a finding fails the test with the input printed; other outcomes are fine
    try {
      if (check_config(text, "mutant.yaml") == ConfigOutcome::accepted) ++n_accepted;
    } catch (const kpde::fuzz::Finding& f) {
      ADD_FAILURE() << f.what();
    }
    ++n_run;
  };
  for (const auto& p : seeds) {
    const std::string text = read(p);
    for (std::size_t cut = 0; cut < text.size(); cut += 1 + text.size() / 25) run(text.substr(0, cut));
    for (int k = 0; k < 40; ++k) {
      std::string m = text;
      const int n_edits = 1 + rng.next() % 3;
      for (int e = 0; e < n_edits && !m.empty(); ++e) {
        const std::size_t at = rng.next() % m.size();
        switch (rng.next() % 3) {
          case 0: m[at] = bytes[rng.next() % sizeof bytes]; break;               // replace a byte
          case 1: m.erase(at, 1 + rng.next() % 8); break;                         // delete a few
          default: m.insert(at, m.substr(rng.next() % m.size(), rng.next() % 16));  // copy a piece
        }
      }
      run(m);
    }
  }
  std::printf("mutated configs: %zu inputs, %zu accepted\n", n_run, n_accepted);
  EXPECT_GT(n_accepted, 0u);
}

TEST_F(FuzzCorpus, ResidualSeeds) {
  const auto seeds = files(kSource / "tests" / "fuzz" / "corpus" / "residual", ".txt");
  ASSERT_GE(seeds.size(), 4u);
  for (const auto& p : seeds) {
    const bool bad = starts_with(p.filename().string(), "bad_");
    EXPECT_EQ(check_residual(read(p)), !bad) << p;
  }
  // the expression corpus of tests/pde as residuals
  for (const auto& e : fs::directory_iterator(kSource / "tests" / "pde" / "fuzz_corpus"))
    if (e.is_regular_file()) check_residual(read(e.path()));
}

TEST_F(FuzzCorpus, ResidualTokenSoup) {
  const char* tokens[] = {"u",    "u_x",  "u_y",   "u_xx", "u_yy", "u_xy",     "x",    "y",    "nu",   "pi",
                          "e",    "1",    "2.5",   "1e-3", "0",    "+",        "-",    "*",    "/",    "^",
                          "(",    ")",    ",",     " ",    "sin(", "cos(",     "exp(", "log(", "sqrt(", "tanh(",
                          "abs(", "min(", "max(", "pow(", "sigmoid(", "cosh(", "1e308"};
  const std::size_t n_tokens = sizeof tokens / sizeof tokens[0];
  Lcg rng;
  int n_parsed = 0;
  for (int k = 0; k < 4000; ++k) {
    std::string s;
    const std::uint32_t n = 1 + rng.next() % 24;
    for (std::uint32_t t = 0; t < n; ++t) s += tokens[rng.next() % n_tokens];
    try {
      n_parsed += check_residual(s);
    } catch (const kpde::fuzz::Finding& f) {
      ADD_FAILURE() << f.what();
    }
  }
  std::printf("residual token soup: 4000 inputs, %d parsed\n", n_parsed);
  EXPECT_GT(n_parsed, 50);
}

// ---- inputs with which fuzzing found bugs (docs/fuzzing.md); each must be rejected as
// bad input (kpde::InputError naming the file or the override), not escape as another
// exception (exit 1, "kpde: error: stoul") nor be silently accepted.

namespace {
const std::string kSmall =
    "problem: {domain: {box: [[0, 1]]}, operator: {c_uxx: 1}, boundary: [{parts: all, type: dirichlet, value: 0}]}\n"
    "training: {stages: [{type: adam, steps: 1}]}\n";

void expect_rejected(const std::string& text) {
  kpde::fuzz::set_abort_on_finding(false);
  std::string msg;
  try {
    EXPECT_EQ(check_config(text, "cfg.yaml", &msg), ConfigOutcome::rejected);
    EXPECT_TRUE(starts_with(msg, "cfg.yaml:") || starts_with(msg, "--set ")) << msg;
  } catch (const kpde::fuzz::Finding& f) {
    ADD_FAILURE() << f.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "an exception that is not kpde::Error escaped: " << e.what();
  }
}
}  // namespace

TEST(FuzzRegressions, HugeListIndexInSet) { expect_rejected("#set training.stages[99999999999999999999].steps=1\n" + kSmall); }

TEST(FuzzRegressions, MapKeyThatIsAList) { expect_rejected(kSmall + "? [a, b]\n: 1\n"); }

TEST(FuzzRegressions, ConstantNamedByAMap) {
  expect_rejected("problem: {constants: {{a: 1}: 2}, domain: {box: [[0, 1]]}, operator: {c_uxx: 1}, "
                  "boundary: [{parts: all, type: dirichlet, value: 0}]}\ntraining: {stages: [{type: adam, steps: 1}]}\n");
}

TEST(FuzzRegressions, SizesThatWrapWhenNarrowedToInt) {
  expect_rejected(kSmall + "model: {width: 4294967304}\n");           // 2^32 + 8: a network of width 8
  expect_rejected("#set training.interior.n=4294967297\n" + kSmall);  // 2^32 + 1: one interior point
  expect_rejected("problem: {domain: {box: [[0, 1]]}, operator: {c_uxx: 1}, boundary: [{parts: all, type: dirichlet, "
                  "value: 0}]}\ntraining: {stages: [{type: lbfgs, steps: 4294967297}]}\n");  // runs 1 iteration
}
