#include <gtest/gtest.h>

#include "runtime/runtime.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  kpde::RuntimeOptions options;
  options.threads = 2;  // parallel bugs must show in tests
  kpde::Runtime runtime(argc, argv, options);
  return RUN_ALL_TESTS();
}
