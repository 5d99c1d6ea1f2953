// Darcy samples (data/darcy) and the dataset files (data/dataset): residual of the
// stored solution, the random field, writer/reader round trips, batches, bad files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "core/error.hpp"
#include "data/darcy.hpp"
#include "data/dataset.hpp"
#include "io/hdf5.hpp"

using namespace kpde;

namespace {
std::string temp_path(const std::string& name) {
  return "/tmp/kpde_test_" + std::to_string(::getpid()) + "_" + name;
}
}  // namespace

TEST(Darcy, SolutionSatisfiesTheDiscreteEquation) {
  data::DarcySettings s;
  s.grid = 33;
  for (std::uint64_t i = 0; i < 3; ++i) {
    const data::DarcySample d = data::generate_darcy_sample(s, 1, i);
    ASSERT_EQ(d.solution.size(), 33u * 33u);
    std::set<double> values(d.permeability.begin(), d.permeability.end());
    EXPECT_TRUE(values.count(3.0) && values.count(12.0)) << "both materials present";
    EXPECT_EQ(values.size(), 2u);
    const std::vector<double> r = data::darcy_residual(33, d.permeability, d.solution, s.source);
    double rmax = 0;
    for (double v : r) rmax = std::max(rmax, std::abs(v));
    EXPECT_LT(rmax, 1e-6) << "sample " << i;
    // u = 0 on the boundary, u > 0 inside (f = 1 > 0, maximum principle)
    for (int k = 0; k < 33; ++k) {
      EXPECT_EQ(d.solution[static_cast<std::size_t>(k)], 0.0);
      EXPECT_EQ(d.solution[static_cast<std::size_t>(32 * 33 + k)], 0.0);
    }
    EXPECT_GT(d.solution[16 * 33 + 16], 0.0);
    // a wrong permeability would not satisfy the equation: swap the two materials
    std::vector<double> swapped(d.permeability);
    for (double& v : swapped) v = v == 12.0 ? 3.0 : 12.0;
    const std::vector<double> r2 = data::darcy_residual(33, swapped, d.solution, s.source);
    double r2max = 0;
    for (double v : r2) r2max = std::max(r2max, std::abs(v));
    EXPECT_GT(r2max, 0.1);
  }
}

// The residual check on samples read back from a dataset file (float32 storage: the
// residual then carries the rounding of u, about 1e-7 |u| / h^2).
TEST(Darcy, StoredSamplesSatisfyTheEquation) {
  data::DarcySettings s;
  s.grid = 48;
  const std::string path = temp_path("darcy.h5");
  {
    data::DatasetWriter w(path, data::darcy_schema(s, false), 3, 4);
    std::vector<data::SampleRecord> recs;
    for (std::uint64_t i = 0; i < 3; ++i) recs.push_back(data::to_record(data::generate_darcy_sample(s, 9, i)));
    w.write(0, recs);
    w.close();
  }
  const data::DatasetReader r(path);
  ASSERT_EQ(r.kind(), "darcy");
  for (long i = 0; i < 3; ++i) {
    const data::DarcySample d = r.darcy_sample(i);
    const std::vector<double> res = data::darcy_residual(48, d.permeability, d.solution, 1.0);
    double rmax = 0, umax = 0;
    for (double v : res) rmax = std::max(rmax, std::abs(v));
    for (double v : d.solution) umax = std::max(umax, std::abs(v));
    const double h = 1.0 / 47;
    EXPECT_LT(rmax, 1e-6 * 12 * 4 * umax / (h * h) + 1e-8) << "sample " << i;
    EXPECT_GT(d.iterations, 0);
  }
  std::remove(path.c_str());
}

TEST(Darcy, FieldIsReproducibleWithZeroMeanAndSmooth) {
  data::DarcySettings s;
  s.grid = 64;
  const auto a = data::darcy_field(s, 3, 5), b = data::darcy_field(s, 3, 5), c = data::darcy_field(s, 3, 6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // the cosine series without the k = 0 mode integrates to 0 (trapezoid rule is exact
  // for these modes on the nodes)
  double sum = 0, w = 0;
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < 64; ++j) {
      const double wi = (i == 0 || i == 63 ? 0.5 : 1) * (j == 0 || j == 63 ? 0.5 : 1);
      sum += wi * a[static_cast<std::size_t>(i * 64 + j)];
      w += wi;
    }
  double amax = 0;
  for (double v : a) amax = std::max(amax, std::abs(v));
  EXPECT_LT(std::abs(sum / w), 1e-12 * amax * 64);
}

TEST(Dataset, RecordsPackAndUnpack) {
  data::SampleRecord r;
  r.values = {{1, 2, 3}, {}, {std::nan("")}};
  r.texts = {"sin(x)", "", "a\0b"};
  const auto bytes = data::pack(r);
  const data::SampleRecord s = data::unpack(bytes.data(), bytes.size());
  ASSERT_EQ(s.values.size(), 3u);
  EXPECT_EQ(s.values[0], r.values[0]);
  EXPECT_TRUE(std::isnan(s.values[2][0]));
  EXPECT_EQ(s.texts, r.texts);
  EXPECT_THROW(data::unpack(bytes.data(), bytes.size() - 1), Error);
}

TEST(Dataset, MmsWriteReadRoundTrip) {
  data::MmsSettings s;
  s.grid = 24;
  s.n_interior = 16;
  s.n_boundary = 8;
  s.physics_only_fraction = 0.3;
  const std::string path = temp_path("mms.h5");
  std::vector<data::MmsSample> samples;
  for (std::uint64_t i = 0; i < 6; ++i) samples.push_back(data::generate_mms_sample(s, 2, i));
  {
    data::DatasetWriter w(path, data::mms_schema(s, true), 6, 4);
    std::vector<data::SampleRecord> first, second;
    for (int i = 0; i < 4; ++i) first.push_back(data::to_record(samples[static_cast<std::size_t>(i)]));
    for (int i = 4; i < 6; ++i) second.push_back(data::to_record(samples[static_cast<std::size_t>(i)]));
    w.write(4, second);  // any order of ranges
    w.write(0, first);
    EXPECT_NE(::access(path.c_str(), F_OK), 0) << "nothing under the final name before close()";
    w.close();
  }
  const data::DatasetReader r(path);
  EXPECT_EQ(r.kind(), "mms");
  EXPECT_EQ(r.n_samples(), 6);
  EXPECT_EQ(r.grid(), 24);
  EXPECT_EQ(r.sample_shape("normals"), (io::Shape{24, 24, 2}));
  for (long i = 0; i < 6; ++i) {
    const data::MmsSample a = r.mms_sample(i);
    const data::MmsSample& b = samples[static_cast<std::size_t>(i)];
    EXPECT_EQ(a.solution, b.solution);
    EXPECT_EQ(a.geometry, b.geometry);
    EXPECT_EQ(a.has_solution, b.has_solution);
    EXPECT_EQ(a.coefficients, b.coefficients);
    EXPECT_EQ(a.source, b.source);  // float64 file: exact
    EXPECT_EQ(a.boundary_values, b.boundary_values);
    for (std::size_t q = 0; q < a.u.size(); ++q)
      EXPECT_TRUE(a.u[q] == b.u[q] || (std::isnan(a.u[q]) && std::isnan(b.u[q])));
  }
  // gathered batches keep the requested order
  const std::vector<long> idx{5, 0, 5, 2};
  const auto batch = r.batch("source", idx);
  ASSERT_EQ(batch.size(), 4u * 24u * 24u);
  for (std::size_t k = 0; k < idx.size(); ++k)
    for (std::size_t q = 0; q < 24 * 24; ++q)
      ASSERT_EQ(batch[k * 576 + q], samples[static_cast<std::size_t>(idx[k])].source[q]);
  EXPECT_THROW(r.read("source", 6, 1), InputError);
  EXPECT_THROW(r.batch("source", {7}), InputError);
  EXPECT_THROW(r.darcy_sample(0), InputError);
  std::remove(path.c_str());
}

TEST(Dataset, ReaderRefusesFilesThatAreNotDatasets) {
  const std::string path = temp_path("not_a_dataset.h5");
  {
    io::H5File f = io::H5File::create(path);
    f.write("u", std::vector<double>(4, 1.0), {2, 2});
    f.close();
  }
  try {
    data::DatasetReader r(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a kpde dataset"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  // a dataset with a field of the wrong shape
  data::DarcySettings s;
  s.grid = 16;
  {
    data::DatasetWriter w(path, data::darcy_schema(s, false), 2, 0);
    w.file().create_dataset("solution", io::H5File::DType::float32, {2, 16, 15});
    w.close();
  }
  try {
    data::DatasetReader r(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'solution' has shape [2 x 16 x 15], expected [2 x 16 x 16]"), std::string::npos)
        << e.what();
  }
  std::remove(path.c_str());
  EXPECT_THROW(data::DatasetReader("/nonexistent/x.h5"), InputError);
}

TEST(Dataset, BatchSamplerVisitsEverySampleOncePerEpoch) {
  data::BatchSampler b(10, 4, 1);
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<long> seen;
    for (int k = 0; k < 3; ++k) {
      const auto batch = b.next();
      EXPECT_EQ(batch.size(), k < 2 ? 4u : 2u);
      seen.insert(seen.end(), batch.begin(), batch.end());
    }
    EXPECT_EQ(b.epoch(), epoch);
    std::sort(seen.begin(), seen.end());
    for (long i = 0; i < 10; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
  }
  data::BatchSampler d(10, 4, 1, true);
  for (int k = 0; k < 6; ++k) EXPECT_EQ(d.next().size(), 4u);
  EXPECT_EQ(d.epoch(), 2);
}

// Samples encoded on the rank that made them (issue 15) are stored exactly as HDF5's
// own filters store written rows: the same chunk bytes, whichever path wrote them
// (float32 conversion at the edges of the range, NaN and infinities included), the same
// values read back, and an in-order append gives the same file for any grouping.
TEST(Dataset, EncodedSamplesStoreTheBytesHdf5Stores) {
  data::MmsSettings s;
  s.grid = 20;
  s.n_interior = 16;
  s.n_boundary = 8;
  s.physics_only_fraction = 0.3;
  const long n = 7;
  std::vector<data::SampleRecord> recs;
  for (long i = 0; i < n; ++i) recs.push_back(data::to_record(data::generate_mms_sample(s, 4, static_cast<std::uint64_t>(i))));
  // float32 edge cases in the source field (index 10 of the mms schema) of sample 1
  const double fmax = static_cast<double>(std::numeric_limits<float>::max());
  const std::vector<double> edges{fmax,  std::nextafter(fmax, 1e300), -std::nextafter(fmax, 1e300), 1e300,
                                  -1e300, std::nan(""), -std::numeric_limits<double>::infinity(), 1e-46, -3e-39,
                                  0.1, 1.0 / 3};
  for (std::size_t k = 0; k < edges.size(); ++k) recs[1].values[10][k] = edges[k];
  for (const bool f64 : {false, true})
    for (const int level : {0, 1, 6}) {
      const data::DatasetSchema schema = data::mms_schema(s, f64);
      ASSERT_EQ(schema.fields[10].name, "source");
      const std::string a = temp_path("rows.h5"), b = temp_path("chunks.h5");
      {
        data::DatasetWriter w(a, schema, n, level);
        w.write(0, recs);
        w.close();
        data::DatasetWriter v(b, schema, n, level);
        for (const auto& r : recs) {
          const data::EncodedSample e = data::encode(r, schema, v.gzip_level());
          const auto bytes = data::pack(e);
          v.append(data::unpack_encoded(bytes.data(), bytes.size()));  // as sent between ranks
        }
        EXPECT_THROW(v.append(data::encode(recs[0], schema, v.gzip_level())), Error);  // past n
        v.close();
      }
      const data::DatasetReader ra(a), rb(b);
      for (const auto& f : schema.fields) {
        const std::size_t rows = ra.file().chunk_rows(f.name);
        ASSERT_EQ(rows, rb.file().chunk_rows(f.name)) << f.name;
        for (long i = 0; i < n; i += static_cast<long>(rows)) {
          unsigned ma = 9, mb = 9;
          const auto ca = ra.file().read_chunk(f.name, static_cast<std::size_t>(i), &ma);
          EXPECT_FALSE(ca.empty()) << f.name;
          EXPECT_EQ(ca, rb.file().read_chunk(f.name, static_cast<std::size_t>(i), &mb))
              << f.name << " sample " << i << " level " << level << (f64 ? " float64" : " float32");
          EXPECT_EQ(ma, mb);
        }
        const auto x = ra.read(f.name, 0, n), y = rb.read(f.name, 0, n);
        ASSERT_EQ(x.size(), y.size());
        for (std::size_t q = 0; q < x.size(); ++q)
          ASSERT_TRUE(x[q] == y[q] || (std::isnan(x[q]) && std::isnan(y[q]))) << f.name << " " << q;
      }
      for (const auto& sf : schema.strings) EXPECT_EQ(ra.strings(sf.name, 0, n), rb.strings(sf.name, 0, n));
      const auto src = rb.read("source", 1);
      EXPECT_EQ(src[1], f64 ? edges[1] : std::numeric_limits<double>::infinity());  // beyond float: +inf, as HDF5
      EXPECT_TRUE(std::isnan(src[5]));
      std::remove(a.c_str());
      std::remove(b.c_str());
    }
  EXPECT_THROW(data::encode(data::SampleRecord{}, data::mms_schema(s, false), 1), Error);
  const auto bytes = data::pack(data::encode(recs[0], data::mms_schema(s, false), 1));
  EXPECT_THROW(data::unpack_encoded(bytes.data(), bytes.size() - 1), Error);
}
