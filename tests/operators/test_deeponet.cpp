// operators::DeepOnet (operators/deeponet.hpp) in double: the forward pass against sums
// written out here (branch layers from the parameter layout, trunk from its own
// network), and the parameter gradient of a weighted sum of the outputs against central
// differences, with one and with several outputs (split branch) and 2-D coordinates.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "core/rng.hpp"
#include "io/model_file.hpp"
#include "operators/deeponet.hpp"
#include "operators/deeponet_model.hpp"
#include "support/deeponet_params.hpp"
#include "support/fd_check.hpp"

using namespace kpde;
using operators::DeepOnet;
using operators::DeepOnetSpec;

namespace {

struct Data {
  Mat<double> u, y;
  Arr3<double> w;  // weights of the outputs in the scalar loss sum w G
};

Data make_data(const DeepOnetSpec& s, int B, int P, std::uint64_t seed) {
  Rng rng(seed);
  Data d{Mat<double>("u", B, s.sensors), Mat<double>("y", P, s.coord_dim), Arr3<double>("w", B, P, s.outputs)};
  for (std::size_t i = 0; i < d.u.size(); ++i) d.u.data()[i] = rng.normal();
  for (std::size_t i = 0; i < d.y.size(); ++i) d.y.data()[i] = rng.uniform() * 2 - 1;
  for (std::size_t i = 0; i < d.w.size(); ++i) d.w.data()[i] = rng.normal();
  return d;
}

std::vector<double> params_of(const DeepOnet<double>& net, std::uint64_t seed) {
  return kpde::testing::deeponet_params(net, seed);
}

void check_gradient(const DeepOnetSpec& s, int B, int P) {
  const DeepOnet<double> net(s);
  const Data d = make_data(s, B, P, 3);
  std::vector<double> p = params_of(net, 4);
  Arr3<double> G("G", B, P, s.outputs);
  typename DeepOnet<double>::Cache cache;
  net.forward(p.data(), d.u, d.y, G, &cache);
  std::vector<double> g(net.n_params());
  net.backward(p.data(), cache, Arr3<const double>(d.w), g.data());
  const auto loss = [&](const std::vector<double>& q) {
    Arr3<double> H("H", B, P, s.outputs);
    net.forward(q.data(), d.u, d.y, H);
    double v = 0;
    for (std::size_t i = 0; i < H.size(); ++i) v += d.w.data()[i] * H.data()[i];
    return v;
  };
  kpde::testing::GradientOptions o;
  o.what = "DeepONet parameter gradient";
  EXPECT_TRUE(kpde::testing::fd_within(kpde::testing::check_gradient(loss, p, g, o), 1e-7));
}

}  // namespace

TEST(DeepOnet, ForwardIsTheBranchTimesTheTrunk) {
  DeepOnetSpec s;
  s.sensors = 5, s.basis = 3, s.outputs = 2, s.branch_width = 4, s.branch_depth = 1, s.trunk_width = 6;
  const DeepOnet<double> net(s);
  const int B = 3, P = 4;
  const Data d = make_data(s, B, P, 11);
  const std::vector<double> p = params_of(net, 12);
  Arr3<double> G("G", B, P, s.outputs);
  net.forward(p.data(), d.u, d.y, G);
  // trunk values from its own network
  Arr4<double> t("t", 1, P, 1, s.basis);
  Arr3<double> y3("y3", 1, P, 1);
  for (int j = 0; j < P; ++j) y3(0, j, 0) = d.y(j, 0);
  const Vec<const double> tp(p.data() + net.trunk_offset(), static_cast<std::size_t>(net.trunk().n_params()));
  net.trunk().forward(nn::as_batch(tp), Arr3<const double>(y3), nn::ChannelSpec::value(1), t);
  // branch by hand: W1 [4][5], b1 [4], tanh, W2 [6][4], b2 [6] (6 = p n_out)
  const double* W1 = p.data();
  const double* b1 = W1 + 20;
  const double* W2 = b1 + 4;
  const double* b2 = W2 + 24;
  for (int b = 0; b < B; ++b) {
    double h[4], br[6];
    for (int i = 0; i < 4; ++i) {
      double z = b1[i];
      for (int k = 0; k < 5; ++k) z += W1[i * 5 + k] * d.u(b, k);
      h[i] = std::tanh(z);
    }
    for (int i = 0; i < 6; ++i) {
      br[i] = b2[i];
      for (int k = 0; k < 4; ++k) br[i] += W2[i * 4 + k] * h[k];
    }
    for (int j = 0; j < P; ++j)
      for (int o = 0; o < 2; ++o) {
        double want = p[net.bias_offset() + o];
        for (int k = 0; k < 3; ++k) want += br[o * 3 + k] * t(0, j, 0, k);
        EXPECT_NEAR(G(b, j, o), want, 1e-13 * (1 + std::abs(want))) << b << " " << j << " " << o;
      }
  }
}

TEST(DeepOnet, ParameterGradientOneOutput) {
  DeepOnetSpec s;
  s.sensors = 7, s.basis = 5, s.branch_width = 6, s.branch_depth = 2, s.trunk_width = 5, s.trunk_depth = 2;
  check_gradient(s, 4, 9);
}

TEST(DeepOnet, ParameterGradientSplitBranch2d) {
  DeepOnetSpec s;
  s.sensors = 6, s.coord_dim = 2, s.outputs = 3, s.basis = 4, s.branch_width = 5, s.branch_depth = 1;
  s.trunk_width = 6, s.trunk_depth = 1;
  check_gradient(s, 3, 70);  // 70 points: more than one trunk block
}

TEST(DeepOnet, ParameterGradientCnnBranch) {
  DeepOnetSpec s;
  s.cnn_branch = true;
  s.cnn.channels = 2, s.cnn.height = 8, s.cnn.width = 7, s.cnn.filters = {3}, s.cnn.kernel = 3, s.cnn.dense = {5};
  s.cnn.conv_activation = operators::CnnActivation::gelu;  // smooth: differences stay accurate
  s.sensors = 2 * 8 * 7, s.coord_dim = 2, s.outputs = 2, s.basis = 3, s.trunk_width = 5, s.trunk_depth = 1;
  check_gradient(s, 3, 5);
}

TEST(DeepOnet, CnnBranchOfTheWrongImageSizeIsRefused) {
  DeepOnetSpec s;
  s.cnn_branch = true;
  s.cnn.channels = 2, s.cnn.height = 8, s.cnn.width = 8, s.cnn.filters = {3};
  s.sensors = 100;
  try {
    DeepOnet<double> net(s);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("2 x 8 x 8"), std::string::npos) << e.what();
  }
}

TEST(DeepOnet, BadSpecNamesTheField) {
  DeepOnetSpec s;
  s.basis = 0;
  try {
    DeepOnet<double> net(s);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("basis"), std::string::npos) << e.what();
  }
}

// model.h5 of a DeepONet (operators/deeponet_model.hpp): written and read back, the
// model gives the same outputs and derivative channels as the network it came from;
// a parameter vector of the wrong length is refused naming the file.
TEST(DeepOnet, ModelFileRoundTrip) {
  DeepOnetSpec s;
  s.sensors = 6, s.coord_dim = 2, s.outputs = 2, s.basis = 4, s.branch_width = 5, s.trunk_width = 6;
  s.trunk_features.kind = nn::FeatureKind::fourier_fixed;
  s.trunk_features.n_frequencies = 2;
  s.bias = false;
  const DeepOnet<double> net(s);
  std::vector<double> p(net.n_params());
  net.init_params(p.data(), 3);
  const Data d = make_data(s, 3, 5, 4);
  Mat<double> sensors("sensors", s.sensors, 1);
  for (int i = 0; i < s.sensors; ++i) sensors(i, 0) = i * 0.2;
  const std::string text =
      "type: deeponet\nbasis: 4\nbranch: {width: 5, depth: 2}\ntrunk: {width: 6, depth: 2, features: {type: "
      "fourier_fixed, n_frequencies: 2}}\nbias: false\nseed: 3\n";
  const std::string path = "/tmp/kpde_test_deeponet_model_" + std::to_string(::getpid()) + ".h5";
  io::write_model_file(path, operators::deeponet_model_file(text, s, "test", "", "float64", p, sensors, d.y));
  const operators::TrainedDeepOnet m = operators::read_deeponet_model(path);
  EXPECT_EQ(m.spec.sensors, 6);
  EXPECT_EQ(m.spec.outputs, 2);
  EXPECT_EQ(m.data_kind, "test");
  ASSERT_EQ(m.points.extent(0), 5u);
  const nn::ChannelSpec cs = nn::ChannelSpec::hessian(2);
  const Arr4<double> G = operators::evaluate(m, d.u, m.points, cs);
  Arr4<double> want("want", 3, 5, cs.n_channels(), 2);
  net.forward(p.data(), d.u, d.y, cs, want);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(G.data()[i], want.data()[i]) << i;
  // the wrong number of parameters
  p.pop_back();
  io::write_model_file(path, operators::deeponet_model_file(text, s, "test", "", "float64", p, sensors, d.y));
  try {
    operators::read_deeponet_model(path);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("parameters"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}
