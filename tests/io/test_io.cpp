// Tests of io/: AtomicFile, HDF5 wrapper, XDMF, PNG heat maps, JSON.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/atomic_file.hpp"
#include "io/hdf5.hpp"
#include "io/json.hpp"
#include "io/png.hpp"
#include "io/xdmf.hpp"

namespace {

using kpde::InputError;
namespace io = kpde::io;

class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kpde_test_io_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const auto& f : list()) std::remove((dir_ + "/" + f).c_str());
    ::rmdir(dir_.c_str());
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::vector<std::string> list() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(dir_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
      }
      ::closedir(d);
    }
    return out;
  }
  bool any_tmp() const {
    for (const auto& f : list())
      if (f.find(".tmp-") != std::string::npos) return true;
    return false;
  }
  static bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string dir_;
};

std::string expect_input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    EXPECT_EQ(e.code(), kpde::ExitCode::bad_input);
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no InputError thrown";
  return {};
}

// ---------------------------------------------------------------- AtomicFile
TEST_F(IoTest, AtomicFileCommitRenames) {
  {
    io::AtomicFile f(path("a.txt"));
    EXPECT_NE(f.path_for_writing().find("a.txt.tmp-" + std::to_string(::getpid())),
              std::string::npos);
    std::ofstream(f.path_for_writing()) << "hello";
    EXPECT_FALSE(exists(path("a.txt")));
    f.commit();
  }
  EXPECT_EQ(slurp(path("a.txt")), "hello");
  EXPECT_FALSE(any_tmp());
}

TEST_F(IoTest, AtomicFileExceptionLeavesNothing) {
  EXPECT_THROW(
      {
        io::AtomicFile f(path("b.txt"));
        std::ofstream(f.path_for_writing()) << "partial";
        ASSERT_TRUE(exists(f.path_for_writing()));
        throw std::runtime_error("mid-write failure");
      },
      std::runtime_error);
  EXPECT_FALSE(exists(path("b.txt")));
  EXPECT_FALSE(any_tmp());
}

TEST_F(IoTest, AtomicFileUnwritableDirectory) {
  const std::string bad = path("no_such_dir") + "/out.h5";
  const std::string msg = expect_input_error([&] { io::AtomicFile f(bad); });
  EXPECT_NE(msg.find(bad), std::string::npos) << msg;
}

// ---------------------------------------------------------------- HDF5
TEST_F(IoTest, Hdf5RoundTripRanks1To3AndAttributes) {
  std::vector<double> r1 = {1.0, -2.5, 3.25};
  std::vector<double> r2(200 * 300), r3(2 * 3 * 4);
  for (std::size_t i = 0; i < r2.size(); ++i) r2[i] = std::sin(0.001 * i);
  for (std::size_t i = 0; i < r3.size(); ++i) r3[i] = 0.5 * i - 3;
  {
    auto f = io::H5File::create(path("rt.h5"));
    f.write("x", r1, {3});
    f.write("fields/u", r2, {200, 300});  // 60000 < default threshold: contiguous
    f.write("fields/vol", r3, {2, 3, 4}, 4, 4096);
    f.write("big", r2, {200, 300}, 6, 4096);  // chunked + gzip level 6
    f.set_attribute("/", "kpde_version", "0.1");
    f.set_attribute("/", "steps", 500.0);
    f.set_attribute("fields", "note", std::string("nodes"));
    f.set_attribute("fields/u", "rel_l2", 1.25e-4);
    EXPECT_FALSE(exists(path("rt.h5")));  // only the temporary exists until close()
    f.close();
  }
  EXPECT_FALSE(any_tmp());
  auto f = io::H5File::open(path("rt.h5"));
  io::Shape s;
  EXPECT_EQ(f.read("x", &s), r1);
  EXPECT_EQ(s, io::Shape({3}));
  EXPECT_EQ(f.read_checked("fields/u", {200, 300}), r2);
  EXPECT_EQ(f.read_checked("/fields/vol", {2, 3, 4}), r3);
  EXPECT_EQ(f.read_checked("big", {200, 300}), r2);
  EXPECT_EQ(f.string_attribute("/", "kpde_version"), "0.1");
  EXPECT_EQ(f.number_attribute("/", "steps"), 500.0);
  EXPECT_EQ(f.string_attribute("fields", "note"), "nodes");
  EXPECT_EQ(f.number_attribute("fields/u", "rel_l2"), 1.25e-4);
  EXPECT_TRUE(f.exists("fields/u"));
  EXPECT_FALSE(f.exists("fields/nope/deeper"));
  EXPECT_EQ(f.list_datasets(),
            (std::vector<std::string>{"big", "fields/u", "fields/vol", "x"}));
  EXPECT_EQ(f.list_datasets("fields"), (std::vector<std::string>{"fields/u", "fields/vol"}));
}

TEST_F(IoTest, Hdf5ReadErrorsNameFileDatasetAndShapes) {
  {
    auto f = io::H5File::create(path("e.h5"));
    f.write("u", std::vector<double>(12, 1.0), {3, 4});
    f.close();
  }
  auto f = io::H5File::open(path("e.h5"));
  std::string msg = expect_input_error([&] { f.read_checked("u", {4, 3}); });
  EXPECT_NE(msg.find(path("e.h5")), std::string::npos) << msg;
  EXPECT_NE(msg.find("'u'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[4 x 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[3 x 4]"), std::string::npos) << msg;

  msg = expect_input_error([&] { f.read("reference"); });
  EXPECT_NE(msg.find(path("e.h5")), std::string::npos) << msg;
  EXPECT_NE(msg.find("reference"), std::string::npos) << msg;

  msg = expect_input_error([&] { f.number_attribute("u", "missing_attr"); });
  EXPECT_NE(msg.find("missing_attr"), std::string::npos) << msg;

  const std::string missing = path("missing.h5");
  msg = expect_input_error([&] { io::H5File::open(missing); });
  EXPECT_NE(msg.find(missing), std::string::npos) << msg;

  std::ofstream(path("not_h5.h5")) << "plain text";
  msg = expect_input_error([&] { io::H5File::open(path("not_h5.h5")); });
  EXPECT_NE(msg.find("not_h5.h5"), std::string::npos) << msg;
}

TEST_F(IoTest, Hdf5ExceptionMidWriteLeavesNoFile) {
  EXPECT_THROW(
      {
        auto f = io::H5File::create(path("partial.h5"));
        f.write("u", std::vector<double>(4, 0.0), {2, 2});
        f.write("bad", std::vector<double>(5, 0.0), {2, 2});  // size mismatch: throws
        f.close();
      },
      kpde::Error);
  EXPECT_FALSE(exists(path("partial.h5")));
  EXPECT_FALSE(any_tmp());
}

// ---------------------------------------------------------------- XDMF
TEST_F(IoTest, Xdmf3dReferencesDatasetsWithZSlowest) {
  io::XdmfGrid3D g;
  g.h5_file = "solution.h5";
  g.nx = 5, g.ny = 7, g.nz = 3;
  g.fields = {"u", "error"};
  io::write_xdmf_3d(path("solution3.xdmf"), g);
  const std::string t = slurp(path("solution3.xdmf"));
  EXPECT_NE(t.find("TopologyType=\"3DRectMesh\" Dimensions=\"3 7 5\""), std::string::npos) << t;
  EXPECT_NE(t.find("GeometryType=\"VXVYVZ\""), std::string::npos);
  // the coordinate items in x, y, z order with their lengths
  const auto px = t.find("<DataItem Dimensions=\"5\""), py = t.find("<DataItem Dimensions=\"7\""),
             pz = t.find("<DataItem Dimensions=\"3\"");
  ASSERT_NE(pz, std::string::npos);
  EXPECT_LT(px, py);
  EXPECT_LT(py, pz);
  for (const char* ref : {"solution.h5:/x", "solution.h5:/y", "solution.h5:/z", "solution.h5:/u", "solution.h5:/error"})
    EXPECT_NE(t.find(ref), std::string::npos) << ref;
  EXPECT_NE(t.find("<DataItem Dimensions=\"3 7 5\""), std::string::npos);
  g.nz = 1;
  EXPECT_THROW(io::xdmf_3d_text(g), kpde::Error);
}

TEST_F(IoTest, XdmfReferencesDatasetsAndIsBalanced) {
  io::XdmfGrid2D g;
  g.h5_file = "solution.h5";
  g.nx = 5;
  g.ny = 7;
  g.fields = {"u", "error", "domain_mask"};
  io::write_xdmf_2d(path("solution.xdmf"), g);
  EXPECT_FALSE(any_tmp());
  const std::string t = slurp(path("solution.xdmf"));
  EXPECT_EQ(t.rfind("<?xml", 0), 0u);
  EXPECT_NE(t.find("Version=\"3.0\""), std::string::npos);
  EXPECT_NE(t.find("TopologyType=\"2DRectMesh\" Dimensions=\"7 5\""), std::string::npos) << t;
  EXPECT_NE(t.find("GeometryType=\"VXVY\""), std::string::npos);
  for (const char* ref : {"solution.h5:/x", "solution.h5:/y", "solution.h5:/u",
                          "solution.h5:/error", "solution.h5:/domain_mask"})
    EXPECT_NE(t.find(ref), std::string::npos) << ref;
  EXPECT_NE(t.find("<DataItem Dimensions=\"5\""), std::string::npos);
  EXPECT_NE(t.find("<DataItem Dimensions=\"7\""), std::string::npos);
  EXPECT_NE(t.find("Center=\"Node\""), std::string::npos);
  // well-formed: every opening tag is closed in order
  std::vector<std::string> stack;
  for (std::size_t p = t.find('<'); p != std::string::npos; p = t.find('<', p + 1)) {
    const std::size_t e = t.find('>', p);
    ASSERT_NE(e, std::string::npos);
    const std::string tag = t.substr(p + 1, e - p - 1);
    if (tag[0] == '?' || tag.back() == '/') continue;
    if (tag[0] == '/') {
      ASSERT_FALSE(stack.empty()) << tag;
      EXPECT_EQ(stack.back(), tag.substr(1));
      stack.pop_back();
    } else {
      stack.push_back(tag.substr(0, tag.find(' ')));
    }
  }
  EXPECT_TRUE(stack.empty());
}

// ---------------------------------------------------------------- PNG
std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t(std::uint8_t(s[at])) << 24) | (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint32_t(std::uint8_t(s[at + 3]));
}

TEST_F(IoTest, PngHeatMapDecodesAndUsesColourMapEnds) {
  const std::size_t nx = 30, ny = 20;
  std::vector<double> field(nx * ny);
  for (std::size_t j = 0; j < ny; ++j)
    for (std::size_t i = 0; i < nx; ++i) field[j * nx + i] = double(i) + 100.0 * double(j);
  field[5] = std::numeric_limits<double>::quiet_NaN();  // (i=5, j=0)
  io::HeatMapOptions opt;
  opt.title = "u(x,y)";
  opt.mask.assign(nx * ny, 1);
  opt.mask[nx + 3] = 0;  // (i=3, j=1)
  io::write_heat_map_png(path("u.png"), field, nx, ny, opt);
  EXPECT_FALSE(any_tmp());
  const io::HeatMapLayout l = io::heat_map_layout(nx, ny, opt);
  EXPECT_GE(l.scale * std::max(nx, ny), 400u);

  const std::string png = slurp(path("u.png"));
  ASSERT_GT(png.size(), 33u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(be32(png, 8), 13u);
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(png, 16), l.width);
  EXPECT_EQ(be32(png, 20), l.height);
  EXPECT_EQ(png[24], 8);  // bit depth
  EXPECT_EQ(png[25], 2);  // RGB
  // walk the chunks, checking CRCs and collecting IDAT
  std::string idat;
  bool iend = false;
  for (std::size_t at = 8; at + 12 <= png.size();) {
    const std::uint32_t len = be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(png.data() + at + 4), len + 4);
    EXPECT_EQ(be32(png, at + 8 + len), crc) << type;
    if (type == "IDAT") idat += png.substr(at + 8, len);
    if (type == "IEND") iend = true;
    at += 12 + len;
  }
  EXPECT_TRUE(iend);
  const std::size_t stride = l.width * 3 + 1;
  std::vector<unsigned char> raw(stride * l.height + 16);
  uLongf raw_size = raw.size();
  ASSERT_EQ(uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()),
                       idat.size()),
            Z_OK);
  ASSERT_EQ(raw_size, stride * l.height);
  for (std::size_t y = 0; y < l.height; ++y) EXPECT_EQ(raw[y * stride], 0) << "filter byte";

  const auto pixel_of = [&](std::size_t i, std::size_t j) {  // centre of field value (i, j)
    const std::size_t x = l.map_x0 + i * l.scale + l.scale / 2;
    const std::size_t y = l.map_y0 + (ny - 1 - j) * l.scale + l.scale / 2;  // flipped
    const unsigned char* p = &raw[y * stride + 1 + x * 3];
    return io::Rgb{p[0], p[1], p[2]};
  };
  const auto& cmap = io::viridis_table();
  EXPECT_EQ(pixel_of(0, 0), cmap[0]);                // min value, bottom-left
  EXPECT_EQ(pixel_of(nx - 1, ny - 1), cmap[255]);    // max value, top-right
  EXPECT_EQ(pixel_of(5, 0), io::kMaskedGrey);        // NaN
  EXPECT_EQ(pixel_of(3, 1), io::kMaskedGrey);        // masked
  // colour bar: top row = max colour, bottom row = min colour
  const auto bar = [&](std::size_t y) {
    const unsigned char* p = &raw[y * stride + 1 + (l.bar_x0 + l.bar_width / 2) * 3];
    return io::Rgb{p[0], p[1], p[2]};
  };
  EXPECT_EQ(bar(l.map_y0), cmap[255]);
  EXPECT_EQ(bar(l.map_y0 + ny * l.scale - 1), cmap[0]);
  // viridis ends: dark purple -> yellow
  EXPECT_LT(cmap[0][1], 20);
  EXPECT_GT(cmap[0][2], 70);
  EXPECT_GT(cmap[255][0], 230);
  EXPECT_GT(cmap[255][1], 210);
  EXPECT_LT(cmap[255][2], 60);
}

// ---------------------------------------------------------------- JSON
TEST_F(IoTest, JsonWritesRoundTrippableNumbersAndNulls) {
  auto m = io::JsonValue::object();
  m.set("rel_l2", 0.1);
  m.set("steps", 500);
  m.set("name", "poisson \"sin\"\n");
  m.set("converged", true);
  m.set("bad", std::numeric_limits<double>::quiet_NaN());
  m.set("inf", -std::numeric_limits<double>::infinity());
  m.set("history", std::vector<double>{1.0, 0.5, std::numeric_limits<double>::infinity()});
  m["timing"]["wall_s"] = 1.5;
  io::write_json(path("metrics.json"), m);
  EXPECT_FALSE(any_tmp());
  const std::string expected =
      "{\n"
      "  \"rel_l2\": 0.10000000000000001,\n"
      "  \"steps\": 500,\n"
      "  \"name\": \"poisson \\\"sin\\\"\\n\",\n"
      "  \"converged\": true,\n"
      "  \"bad\": null,\n"
      "  \"inf\": null,\n"
      "  \"history\": [1, 0.5, null],\n"
      "  \"timing\": {\n"
      "    \"wall_s\": 1.5\n"
      "  }\n"
      "}\n";
  EXPECT_EQ(slurp(path("metrics.json")), expected);
  EXPECT_EQ(std::strtod(io::json_number(0.1).c_str(), nullptr), 0.1);
  EXPECT_EQ(std::strtod(io::json_number(1.0 / 3.0).c_str(), nullptr), 1.0 / 3.0);
  EXPECT_EQ(io::JsonValue::object().dump(), "{}");
}

TEST_F(IoTest, JsonUnwritableDirectoryIsInputError) {
  const std::string bad = path("nope") + "/metrics.json";
  const std::string msg =
      expect_input_error([&] { io::write_json(bad, io::JsonValue::object()); });
  EXPECT_NE(msg.find(bad), std::string::npos) << msg;
}

}  // namespace
