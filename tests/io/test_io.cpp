// Tests of io/: AtomicFile, HDF5 wrapper, XDMF, figures (heat maps, line plots), JSON.
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
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "io/atomic_file.hpp"
#include "io/hdf5.hpp"
#include "io/json.hpp"
#include "io/plot.hpp"
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

// ---------------------------------------------------------------- figures (PNG)
std::uint32_t be32(const std::string& s, std::size_t at) {
  return (std::uint32_t(std::uint8_t(s[at])) << 24) | (std::uint32_t(std::uint8_t(s[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[at + 2])) << 8) | std::uint32_t(std::uint8_t(s[at + 3]));
}

// A decoded 8-bit RGB PNG (no interlace): rgb is [height][width][3], rows top to bottom.
struct Image {
  std::size_t width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
  io::Rgb at(double x, double y) const {
    const std::size_t i = (std::size_t(y) * width + std::size_t(x)) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
  // pixels in [x0, x1) x [y0, y1) for which pred holds
  std::size_t count(double x0, double x1, double y0, double y1, const std::function<bool(io::Rgb)>& pred) const {
    std::size_t n = 0;
    for (std::size_t y = std::size_t(std::max(0.0, y0)); y < std::min<std::size_t>(height, std::size_t(y1)); ++y)
      for (std::size_t x = std::size_t(std::max(0.0, x0)); x < std::min<std::size_t>(width, std::size_t(x1)); ++x)
        n += pred(at(double(x), double(y)));
    return n;
  }
};

// Checks the signature, every chunk's CRC, IHDR (8-bit RGB) and IEND, inflates the IDAT
// data and undoes the per-row filters (None, Sub, Up, Average, Paeth).
Image decode_png(const std::string& png) {
  Image im;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  im.width = be32(png, 16), im.height = be32(png, 20);
  EXPECT_EQ(png[24], 8);  // bit depth
  EXPECT_EQ(png[25], 2);  // RGB
  EXPECT_EQ(png[28], 0);  // no interlace
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
  const std::size_t row = im.width * 3, stride = row + 1;
  std::vector<std::uint8_t> raw(stride * im.height);
  uLongf raw_size = raw.size();
  EXPECT_EQ(uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()), Z_OK);
  EXPECT_EQ(raw_size, raw.size());
  im.rgb.assign(row * im.height, 0);
  for (std::size_t y = 0; y < im.height; ++y) {
    const std::uint8_t filter = raw[y * stride];
    EXPECT_LE(filter, 4);
    for (std::size_t i = 0; i < row; ++i) {
      const int a = i >= 3 ? im.rgb[y * row + i - 3] : 0, b = y > 0 ? im.rgb[(y - 1) * row + i] : 0,
                c = i >= 3 && y > 0 ? im.rgb[(y - 1) * row + i - 3] : 0;
      const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
      const int pred = filter == 1 ? a : filter == 2 ? b : filter == 3 ? (a + b) / 2
                     : filter == 4 ? (pa <= pb && pa <= pc ? a : pb <= pc ? b : c) : 0;
      im.rgb[y * row + i] = std::uint8_t(raw[y * stride + 1 + i] + pred);
    }
  }
  return im;
}

bool near(const io::Rgb& a, const io::Rgb& b, int tol) {
  for (int k = 0; k < 3; ++k)
    if (std::abs(int(a[k]) - int(b[k])) > tol) return false;
  return true;
}
bool dark(const io::Rgb& c) { return c[0] < 90 && c[1] < 90 && c[2] < 90; }

TEST_F(IoTest, HeatMapHasAxesColourBarAndViridisCells) {
  // f = i + 100 j on nx = 30 x ny = 20 nodes over [-1, 2] x [0, 1]: row 0 (j = 0) at y = 0
  const std::size_t nx = 30, ny = 20;
  std::vector<double> field(nx * ny);
  for (std::size_t j = 0; j < ny; ++j)
    for (std::size_t i = 0; i < nx; ++i) field[j * nx + i] = double(i) + 100.0 * double(j);
  field[3 * nx + 5] = std::numeric_limits<double>::quiet_NaN();  // (i=5, j=3)
  io::HeatMapOptions opt;
  opt.title = "u(x,y) #1";
  opt.x_range = {-1, 2};
  opt.y_range = {0, 1};
  opt.mask.assign(nx * ny, 1);
  opt.mask[nx + 3] = 0;  // (i=3, j=1)
  const io::PlotBox b = io::write_heat_map_png(path("u.png"), field, nx, ny, opt);
  EXPECT_FALSE(any_tmp());
  const Image im = decode_png(slurp(path("u.png")));
  ASSERT_EQ(im.width, std::size_t(opt.width));
  ASSERT_EQ(im.height, std::size_t(opt.height));
  EXPECT_EQ(b.x0, -1);
  EXPECT_EQ(b.x1, 2);
  EXPECT_EQ(b.y0, 0);
  EXPECT_EQ(b.y1, 1);
  ASSERT_GT(b.px0, 40);  // room for the y tick labels
  ASSERT_LT(b.px1, im.width - 60.0);  // and for the colour bar
  ASSERT_GT(b.py1 - b.py0, 100);
  // the domain is 3 x 1: so is the data area
  EXPECT_NEAR((b.px1 - b.px0) / (b.py1 - b.py0), 3.0, 0.05);

  // the centre of node (i, j)
  const auto pixel = [&](std::size_t i, std::size_t j) {
    const double x = -1 + 3.0 * double(i) / (nx - 1), y = double(j) / (ny - 1);
    return im.at(b.px0 + (x - b.x0) / (b.x1 - b.x0) * (b.px1 - b.px0),
                 b.py1 - (y - b.y0) / (b.y1 - b.y0) * (b.py1 - b.py0));
  };
  // viridis entry floor(256 t), t = (f - min) / (max - min) over the shown values
  const double lo = 1, hi = double(nx - 1) + 100.0 * double(ny - 1);
  const auto& cmap = io::viridis_table();
  for (const auto& [i, j] : std::vector<std::pair<std::size_t, std::size_t>>{{10, 5}, {25, 2}, {4, 17}, {15, 10}}) {
    const double t = (field[j * nx + i] - lo) / (hi - lo);
    const io::Rgb want = cmap[std::min(255, int(256 * t))];
    EXPECT_TRUE(near(pixel(i, j), want, 4)) << "node " << i << ", " << j;
  }
  // row 0 at the bottom: the corner nodes, a quarter cell inside the data area
  EXPECT_TRUE(near(im.at(b.px0 + 2, b.py1 - 2), cmap[0], 4));                   // (0, 0): f = 0 < lo, clamped
  EXPECT_TRUE(near(im.at(b.px1 - 2, b.py0 + 2), cmap[255], 4));                 // (nx-1, ny-1): the maximum
  EXPECT_EQ(pixel(5, 3), io::kMaskedGrey);  // NaN
  EXPECT_EQ(pixel(3, 1), io::kMaskedGrey);  // masked
  // tick labels and axis labels: dark pixels left of and below the data area, and a
  // title above it
  EXPECT_GT(im.count(0, b.px0 - 4, b.py0, b.py1, dark), 100u);
  EXPECT_GT(im.count(b.px0, b.px1, b.py1 + 4, im.height, dark), 100u);
  EXPECT_GT(im.count(b.px0, b.px1, 0, b.py0 - 4, dark), 20u);
  // the colour bar right of the map: both ends of viridis (a row of the bar each), and
  // its tick labels
  EXPECT_GT(im.count(b.px1 + 4, im.width, 0, im.height, [&](io::Rgb c) { return near(c, cmap[255], 4); }), 15u);
  EXPECT_GT(im.count(b.px1 + 4, im.width, 0, im.height, [&](io::Rgb c) { return near(c, cmap[0], 4); }), 15u);
  EXPECT_GT(im.count(b.px1 + 4, im.width, 0, im.height, dark), 200u);
}

TEST_F(IoTest, HeatMapWithoutValuesIsGreyAndSizesAreChecked) {
  const std::size_t n = 8;
  std::vector<double> field(n * n, std::numeric_limits<double>::quiet_NaN());
  const io::PlotBox b = io::write_heat_map_png(path("nan.png"), field, n, n);  // node indices
  const Image im = decode_png(slurp(path("nan.png")));
  EXPECT_EQ(b.x1, double(n - 1));
  EXPECT_EQ(im.at(0.5 * (b.px0 + b.px1), 0.5 * (b.py0 + b.py1)), io::kMaskedGrey);
  EXPECT_THROW(io::write_heat_map_png(path("bad.png"), field, n, n + 1), kpde::Error);
  io::HeatMapOptions opt;
  opt.x_range = {1, 1};
  EXPECT_THROW(io::write_heat_map_png(path("bad.png"), field, n, n, opt), kpde::Error);
  EXPECT_FALSE(exists(path("bad.png")));
}

TEST_F(IoTest, LinePlotDrawsEachSeriesInItsColourOnALogAxis) {
  io::Series a{"loss", {}, {}}, b{"pde #2", {}, {}};
  for (int k = 0; k < 200; ++k) {
    a.x.push_back(k), a.y.push_back(std::exp(-k / 30.0));  // 1 .. 1.3e-3
    b.x.push_back(k), b.y.push_back(0.5 * std::exp(-k / 60.0));
  }
  // skipped on a log axis: y <= 0, NaN, inf
  b.y[10] = 0, b.y[50] = -1, b.y[51] = std::numeric_limits<double>::quiet_NaN();
  b.y[52] = std::numeric_limits<double>::infinity();
  io::LinePlotOptions opt;
  opt.title = "training history";
  opt.x_label = "step";
  opt.y_label = "loss";
  opt.log_y = true;
  const io::PlotBox box = io::write_line_plot_png(path("loss.png"), {a, b}, opt);
  EXPECT_FALSE(any_tmp());
  const Image im = decode_png(slurp(path("loss.png")));
  ASSERT_EQ(im.width, 800u);
  ASSERT_EQ(im.height, 600u);
  // x from the data; log10 y widened to whole decades: [1e-3, 1]
  EXPECT_EQ(box.x0, 0);
  EXPECT_EQ(box.x1, 199);
  EXPECT_EQ(box.y0, -3);
  EXPECT_EQ(box.y1, 0);
  // two curves in the palette's first two colours inside the data area
  const io::Rgb blue = {31, 119, 180}, orange = {255, 127, 14};
  const auto in_box = [&](const io::Rgb& c) {
    return im.count(box.px0, box.px1, box.py0, box.py1, [&](io::Rgb p) { return near(p, c, 30); });
  };
  EXPECT_GT(in_box(blue), 200u);
  EXPECT_GT(in_box(orange), 200u);
  // a passes through (60, exp(-2)): its pixel, give or take 2, is blue
  const double px = box.px0 + 60.0 / 199 * (box.px1 - box.px0);
  const double py = box.py0 + (0 - std::log10(std::exp(-2.0))) / 3 * (box.py1 - box.py0);
  EXPECT_GT(im.count(px - 2, px + 3, py - 2, py + 3, [&](io::Rgb p) { return near(p, blue, 30); }), 0u);
  // tick labels left of and below the data area; the legend right of it, in both colours
  EXPECT_GT(im.count(0, box.px0 - 4, box.py0, box.py1, dark), 100u);
  EXPECT_GT(im.count(box.px0, box.px1, box.py1 + 4, im.height, dark), 100u);
  EXPECT_GT(im.count(box.px1 + 4, im.width, 0, im.height, dark), 100u);
  EXPECT_GT(im.count(box.px1 + 4, im.width, 0, im.height, [&](io::Rgb p) { return near(p, orange, 30); }), 20u);
}

TEST_F(IoTest, LinePlotWithNothingToPlotSaysSo) {
  // decided: an all-NaN history (a diverged run) still gets its figure: empty axes over
  // [0, 1] with a line of text in the data area, not an error that would stop the outputs
  const double nan = std::numeric_limits<double>::quiet_NaN();
  io::LinePlotOptions opt;
  opt.log_y = true;
  for (const auto& series : {std::vector<io::Series>{{"loss", {0, 1, 2}, {nan, -1, 0}}}, std::vector<io::Series>{}}) {
    const io::PlotBox box = io::write_line_plot_png(path("empty.png"), series, opt);
    EXPECT_EQ(box.x0, 0);
    EXPECT_EQ(box.x1, 1);
    const Image im = decode_png(slurp(path("empty.png")));
    const double cx = 0.5 * (box.px0 + box.px1), cy = 0.5 * (box.py0 + box.py1);
    EXPECT_GT(im.count(cx - 150, cx + 150, cy - 12, cy + 12, dark), 50u) << "the message";
  }
  EXPECT_THROW(io::write_line_plot_png(path("bad.png"), {io::Series{"a", {0, 1}, {1}}}, opt), kpde::Error);
  EXPECT_FALSE(exists(path("bad.png")));
}

TEST_F(IoTest, FigureInAMissingDirectoryIsInputErrorAndLeavesNothing) {
  const std::string p = path("missing/loss.png");
  std::string msg = expect_input_error([&] { io::write_line_plot_png(p, {io::Series{"a", {0, 1}, {1, 2}}}); });
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  msg = expect_input_error([&] { io::write_heat_map_png(p, std::vector<double>(4, 1.0), 2, 2); });
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_TRUE(list().empty());
}

TEST_F(IoTest, FiguresFromTwoThreadsAreBothWhole) {
  // PLplot is not thread-safe: io/plot serialises its calls
  std::vector<double> field(16 * 16);
  for (std::size_t k = 0; k < field.size(); ++k) field[k] = double(k);
  std::thread t([&] {
    for (int r = 0; r < 3; ++r) io::write_heat_map_png(path("a.png"), field, 16, 16);
  });
  for (int r = 0; r < 3; ++r) io::write_line_plot_png(path("b.png"), {io::Series{"a", {0, 1, 2}, {1, 3, 2}}});
  t.join();
  const Image a = decode_png(slurp(path("a.png"))), b = decode_png(slurp(path("b.png")));
  EXPECT_EQ(a.width, 800u);
  EXPECT_EQ(b.width, 800u);
  EXPECT_FALSE(any_tmp());
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
