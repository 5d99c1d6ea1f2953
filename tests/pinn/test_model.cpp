// model.h5 (io/model_file.hpp, pinn/model.hpp):
//  - write/read round trip of every field, parameters bit for bit;
//  - a trained PINN's model file loads back and evaluates to the same u as the
//    network it came from (float64 and float32);
//  - every kind of bad file is refused with an InputError naming the file and what was
//    expected: missing, not HDF5, truncated, not a model, another kind, a newer schema,
//    attributes or datasets missing or of the wrong shape, a parameter count that does
//    not fit the architecture, an architecture with an unknown key;
//  - model.init_from from a checkpoint or a model file, the same network or its
//    diagonal-covariance version;
//  - quantity names.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/hdf5.hpp"
#include "io/model_file.hpp"
#include "nn/gaussian_features.hpp"
#include "nn/network.hpp"
#include "pinn/model.hpp"

using namespace kpde;

namespace {

std::string tmp(const std::string& name) { return "/tmp/kpde_test_model_" + std::to_string(::getpid()) + "_" + name; }

/// A small tanh MLP model on [-1,1]^2 (float64 or float32).
io::ModelFile small_model(const std::string& precision = "float64") {
  io::ModelFile m;
  m.kind = "pinn";
  m.precision = precision;
  m.architecture = "type: mlp\nwidth: 6\ndepth: 2\nactivation: tanh\nprecision: " + precision + "\n";
  m.problem = "name: p\ndomain: {box: [[-1, 1], [-1, 1]]}\n";
  m.coordinates = {"x", "y"};
  m.input_offset = {0, 0}, m.input_scale = {1, 1}, m.domain_lo = {-1, -1}, m.domain_hi = {1, 1};
  nn::NetworkSpec spec;
  spec.width = 6, spec.depth = 2;
  nn::Network<double> net(spec);
  Vec<double> p("p", net.n_params());
  net.init_params(p, 5);
  m.params.assign(p.data(), p.data() + p.extent(0));
  return m;
}

/// The InputError message of f() ("" when it did not throw one).
template <class F>
std::string input_error(const F& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

/// Writes `m` to a file after changing it with `edit` (an H5File open for writing).
template <class Edit>
std::string written(const std::string& name, const io::ModelFile& m, const Edit& edit) {
  const std::string path = tmp(name);
  io::write_model_file(path, m);
  // rewrite through H5File::create with the same content, edited
  const io::H5File src = io::H5File::open(path);
  io::H5File f = io::H5File::create(path + ".edit.h5");
  for (const char* a : {"format", "kind", "kpde_version", "precision", "architecture", "problem", "problem_fingerprint",
                        "source_directory", "coordinates", "output_transform", "description"})
    f.set_attribute("/", a, src.string_attribute("/", a));
  for (const char* a : {"schema_version", "time_axis"}) f.set_attribute("/", a, src.number_attribute("/", a));
  for (const char* d : {"params", "input/offset", "input/scale", "domain/lo", "domain/hi"}) {
    io::Shape shape;
    const auto v = src.read(d, &shape);
    f.write(d, v, shape);
  }
  edit(f);
  f.close();
  std::remove(path.c_str());
  return path + ".edit.h5";
}

}  // namespace

TEST(ModelFile, RoundTrip) {
  io::ModelFile m = small_model();
  m.time_axis = 1;
  m.output_transform = "none";
  m.source_directory = "/somewhere";
  m.description = "a test";
  const std::string path = tmp("rt.h5");
  io::write_model_file(path, m);
  const io::ModelFile r = io::read_model_file(path, "pinn");
  EXPECT_EQ(r.kind, "pinn");
  EXPECT_EQ(r.precision, "float64");
  EXPECT_EQ(r.architecture, m.architecture);
  EXPECT_EQ(r.problem, m.problem);
  EXPECT_EQ(r.problem_fingerprint, io::fingerprint(m.problem));
  EXPECT_EQ(r.coordinates, m.coordinates);
  EXPECT_EQ(r.time_axis, 1);
  EXPECT_EQ(r.source_directory, "/somewhere");
  EXPECT_EQ(r.params, m.params);
  EXPECT_EQ(r.schema_version, io::ModelFile::kSchemaVersion);
  EXPECT_FALSE(r.kpde_version.empty());
  std::remove(path.c_str());
}

TEST(ModelFile, EvaluatesLikeItsNetwork) {
  for (const std::string prec : {"float64", "float32"}) {
    const io::ModelFile m = small_model(prec);
    const pinn::TrainedPinn model(m, "mem");
    EXPECT_EQ(model.n_params(), static_cast<int>(m.params.size()));
    nn::NetworkSpec spec;
    spec.width = 6, spec.depth = 2;
    nn::Network<double> net(spec);
    Vec<double> p("p", net.n_params());
    for (std::size_t i = 0; i < m.params.size(); ++i) p(i) = prec == "float32" ? double(float(m.params[i])) : m.params[i];
    Mat<double> x("x", 5, 2);
    for (int k = 0; k < 5; ++k) x(k, 0) = -0.9 + 0.4 * k, x(k, 1) = 0.3 - 0.2 * k;
    Arr3<double> y("y", 5, 1, 1);
    net.forward(nn::as_batch(Vec<const double>(p)), nn::as_batch(Mat<const double>(x)), nn::ChannelSpec::value(2),
                nn::as_batch(y));
    const auto u = model.evaluate(x, {pinn::parse_quantity("u", 2, -1)});
    for (int k = 0; k < 5; ++k) EXPECT_NEAR(u[k], y(k, 0, 0), prec == "float64" ? 1e-15 : 1e-6) << prec;
  }
}

TEST(ModelFile, RefusesBadFiles) {
  const io::ModelFile m = small_model();
  const auto refused = [](const std::string& path, const std::string& expect) {
    const std::string e = input_error([&] { pinn::TrainedPinn model(path); });
    EXPECT_NE(e.find(expect), std::string::npos) << "expected '" << expect << "' in: " << (e.empty() ? "(accepted)" : e);
    EXPECT_NE(e.find(path), std::string::npos) << "the message must name the file: " << e;
    std::remove(path.c_str());
  };
  refused(tmp("missing.h5"), "does not exist");
  {
    std::ofstream(tmp("text.h5")) << "not an HDF5 file\n";
    refused(tmp("text.h5"), "not an HDF5 file");
  }
  {  // truncated: the first half of a valid file
    const std::string path = tmp("whole.h5");
    io::write_model_file(path, m);
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(tmp("truncated.h5"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    std::remove(path.c_str());
    const std::string e = input_error([&] { pinn::TrainedPinn model(tmp("truncated.h5")); });
    EXPECT_FALSE(e.empty()) << "a truncated file was accepted";
    EXPECT_NE(e.find(tmp("truncated.h5")), std::string::npos) << e;
    std::remove(tmp("truncated.h5").c_str());
  }
  {  // a checkpoint-like HDF5 file is not a model
    io::H5File f = io::H5File::create(tmp("other.h5"));
    f.set_attribute("/", "format", "kpde-checkpoint");
    f.close();
    refused(tmp("other.h5"), "not a kpde model file");
  }
  refused(written("kind.h5", m, [](io::H5File& f) { f.set_attribute("/", "kind", "deeponet"); }),
          "a 'deeponet' model; expected a 'pinn' model");
  refused(written("schema.h5", m, [](io::H5File& f) { f.set_attribute("/", "schema_version", 7.0); }),
          "written by a newer kpde (model schema 7");
  refused(written("prec.h5", m, [](io::H5File& f) { f.set_attribute("/", "precision", "float16"); }),
          "precision 'float16'");
  refused(written("coords.h5", m, [](io::H5File& f) { f.set_attribute("/", "coordinates", "x,y,z,w"); }),
          "expected 1 to 3 names");
  refused(written("scale.h5", m, [](io::H5File& f) { f.write("input/scale", {1, 1, 1}, {3}); }),
          "'input/scale' has shape [3], expected [2]");
  refused(written("zero_scale.h5", m, [](io::H5File& f) { f.write("input/scale", {1, 0}, {2}); }), "nonzero");
  refused(written("params.h5", m, [&](io::H5File& f) {
            std::vector<double> p(m.params.begin(), m.params.end() - 3);
            f.write("params", p, {p.size()});
          }),
          "its architecture has " + std::to_string(m.params.size()) + " parameters");
  refused(written("params2d.h5", m, [&](io::H5File& f) { f.write("params", m.params, {1, m.params.size()}); }),
          "expected [n_params]");
  refused(written("arch.h5", m, [](io::H5File& f) { f.set_attribute("/", "architecture", "type: mlp\nwidht: 6\n"); }),
          "unknown key 'widht'");
  refused(written("altered.h5", m, [](io::H5File& f) { f.set_attribute("/", "problem", "name: q\n"); }),
          "does not match its problem_fingerprint");
  refused(written("transform.h5", m, [](io::H5File& f) { f.set_attribute("/", "output_transform", "square"); }),
          "output_transform 'square'");
  refused(written("time.h5", m, [](io::H5File& f) { f.set_attribute("/", "time_axis", 2.0); }), "time_axis 2");
}

TEST(ModelFile, InitFromCheckpointOrModel) {
  // the same network from a model file
  const io::ModelFile m = small_model();
  const std::string path = tmp("init.h5");
  io::write_model_file(path, m);
  nn::NetworkSpec spec;
  spec.width = 6, spec.depth = 2;
  nn::Network<double> net(spec);
  Vec<double> p("p", net.n_params());
  pinn::load_init_params(path, net, p);
  for (std::size_t i = 0; i < m.params.size(); ++i) EXPECT_EQ(p(i), m.params[i]);
  // another network: refused, naming both sizes
  nn::NetworkSpec wide = spec;
  wide.width = 7;
  nn::Network<double> other(wide);
  Vec<double> q("q", other.n_params());
  EXPECT_NE(input_error([&] { pinn::load_init_params(path, other, q); }).find("this model has"), std::string::npos);
  std::remove(path.c_str());
  // a diagonal-covariance Gaussian-feature network into its full-covariance version
  nn::NetworkSpec g = spec;
  g.features.kind = nn::FeatureKind::gaussian;
  g.features.n_gaussians = 5;
  g.features.gauss_channels = 2;
  nn::Network<double> diag(g);
  g.features.full_covariance = true;
  nn::Network<double> full(g);
  Vec<double> pd("pd", diag.n_params()), pf("pf", full.n_params());
  diag.init_params(pd, 3);
  {
    io::H5File f = io::H5File::create(tmp("ckpt.h5"));
    f.set_attribute("/", "format", "kpde-checkpoint");
    f.write("params", std::vector<double>(pd.data(), pd.data() + pd.extent(0)), {pd.extent(0)});
    f.close();
  }
  pinn::load_init_params(tmp("ckpt.h5"), full, pf);
  const std::size_t dense = full.n_dense_params();
  for (std::size_t i = 0; i < dense; ++i) EXPECT_EQ(pf(i), pd(i));
  const nn::GaussLayout Ld(2, 2, false), Lf(2, 2, true);
  for (int k = 0; k < 5; ++k) {
    const std::size_t od = dense + k * Ld.stride, of = dense + k * Lf.stride;
    for (int j = 0; j < 2; ++j) EXPECT_EQ(pf(of + Lf.mu() + j), pd(od + Ld.mu() + j));
    for (int j = 0; j < 2; ++j) EXPECT_EQ(pf(of + Lf.s() + j), pd(od + Ld.s() + j));
    EXPECT_EQ(pf(of + Lf.u()), 0.0);
    for (int c = 0; c < 2; ++c) EXPECT_EQ(pf(of + Lf.w() + c), pd(od + Ld.w() + c));
  }
  // a file that is neither
  {
    io::H5File f = io::H5File::create(tmp("neither.h5"));
    f.write("params", {1.0}, {1});
    f.close();
  }
  EXPECT_NE(input_error([&] { pinn::load_init_params(tmp("neither.h5"), full, pf); }).find("not a kpde checkpoint or model"),
            std::string::npos);
  std::remove(tmp("ckpt.h5").c_str());
  std::remove(tmp("neither.h5").c_str());
}

TEST(ModelFile, QuantityNames) {
  const auto q = pinn::parse_quantity("u_yx", 2, -1);
  EXPECT_EQ(q.order, 2);
  EXPECT_EQ(q.i, 0);
  EXPECT_EQ(q.j, 1);
  EXPECT_EQ(pinn::parse_quantity("u_t", 2, 1).i, 1);
  EXPECT_EQ(pinn::parse_quantity("u_xt", 2, 1).j, 1);
  EXPECT_TRUE(pinn::parse_quantity("lap", 3, -1).laplacian);
  EXPECT_NE(input_error([] { pinn::parse_quantity("u_t", 2, -1); }).find("unknown quantity 'u_t'"), std::string::npos);
  EXPECT_NE(input_error([] { pinn::parse_quantity("u_z", 2, -1); }).find("expected one of: u, u_x, u_y, u_xx, u_xy, u_yy, lap"),
            std::string::npos);
  EXPECT_NE(input_error([] { pinn::parse_quantity("grad", 1, -1); }).find("unknown quantity"), std::string::npos);
}
