#include "io/plot.hpp"

#include <plplot.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "core/error.hpp"
#include "io/atomic_file.hpp"

namespace kpde::io {

namespace {

// PLplot's indexed colours (cmap0): these, then one entry per series.
constexpr PLINT kWhite = 0, kBlack = 1, kGrey = 2, kFirstSeries = 3;
// matplotlib's "tab10" palette
constexpr Rgb kPalette[10] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                              {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                              {188, 189, 34},  {23, 190, 207}};
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// PLplot reads '#' as the start of an escape sequence (#u superscript, ...): '##' is '#'.
std::string plain(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '#') out += '#';
  }
  return out;
}

std::mutex& plplot_mutex() {
  static std::mutex m;
  return m;
}

// Whether PLplot has the memcairo device (Debian: plplot-driver-cairo). Without it
// plinit() would ask for a device on stdin. Called under plplot_mutex().
bool have_memcairo() {
  static const bool have = [] {
    int n = 128;
    std::vector<const char*> menu(n), names(n);
    const char** m = menu.data();
    const char** d = names.data();
    plgDevs(&m, &d, &n);
    for (int i = 0; i < n; ++i)
      if (d[i] && std::string(d[i]) == "memcairo") return true;
    return false;
  }();
  return have;
}

void append_chunk(std::string& out, const char type[4], const std::string& data) {
  const auto put32 = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xFF);
  };
  put32(static_cast<std::uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  out += body;
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  put32(static_cast<std::uint32_t>(crc));
}

// PNG bytes of a width x height RGB image (rows top to bottom): signature, IHDR, one
// zlib IDAT with filter byte 0 on every row, IEND.
std::string encode_png_rgb(std::size_t width, std::size_t height, const std::vector<std::uint8_t>& rgb) {
  std::string raw;
  raw.reserve((width * 3 + 1) * height);
  for (std::size_t y = 0; y < height; ++y) {
    raw += '\0';  // filter type 0 (None)
    raw.append(reinterpret_cast<const char*>(rgb.data() + y * width * 3), width * 3);
  }
  uLongf zsize = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zsize, '\0');
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &zsize, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), 6) != Z_OK)
    throw Error("png: zlib compression failed");
  z.resize(zsize);
  std::string out("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  for (std::uint32_t v : {static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(height)})
    for (int s = 24; s >= 0; s -= 8) ihdr += static_cast<char>((v >> s) & 0xFF);
  ihdr += static_cast<char>(8);  // bit depth
  ihdr += static_cast<char>(2);  // colour type RGB
  ihdr += std::string(3, '\0');  // compression, filter, interlace
  append_chunk(out, "IHDR", ihdr);
  append_chunk(out, "IDAT", z);
  append_chunk(out, "IEND", std::string());
  return out;
}

// One figure: a PLplot stream of its own drawing into an RGB buffer (the memcairo
// device, so that PLplot opens no file), under plplot_mutex() from construction to
// destruction. PLplot's non-fatal errors are collected (plsError) and thrown by write().
class Figure {
 public:
  Figure(std::string path, int width, int height, const std::vector<Rgb>& series_colours)
      : lock_(plplot_mutex()), path_(std::move(path)), w_(width), h_(height) {
    if (width < 100 || height < 100 || width > 10000 || height > 10000)
      throw Error(path_ + ": image size " + std::to_string(width) + " x " + std::to_string(height) +
                  " is not within 100 .. 10000 pixels");
    if (!have_memcairo())
      throw Error(path_ + ": PLplot's cairo driver (memcairo) is not installed (Debian: plplot-driver-cairo)");
    rgb_.assign(static_cast<std::size_t>(w_) * h_ * 3, 255);
    plgstrm(&previous_);
    plmkstrm(&stream_);
    if (stream_ < 0) throw Error(path_ + ": PLplot has no free stream");
    plsError(&errcode_, errmsg_);
    plsdev("memcairo");
    plsmem(w_, h_, rgb_.data());
    std::vector<PLINT> r = {255, 0, kMaskedGrey[0]}, g = {255, 0, kMaskedGrey[1]}, b = {255, 0, kMaskedGrey[2]};
    for (const Rgb& c : series_colours) r.push_back(c[0]), g.push_back(c[1]), b.push_back(c[2]);
    plscmap0(r.data(), g.data(), b.data(), static_cast<PLINT>(r.size()));
    r.clear(), g.clear(), b.clear();
    for (const Rgb& c : viridis_table()) r.push_back(c[0]), g.push_back(c[1]), b.push_back(c[2]);
    plscmap1(r.data(), g.data(), b.data(), 256);
    plinit();
    pladv(0);
  }
  ~Figure() { end(); }
  Figure(const Figure&) = delete;
  Figure& operator=(const Figure&) = delete;

  // The data area of the current viewport and window, in pixels and coordinates.
  PlotBox box() const {
    PlotBox b;
    b.width = w_, b.height = h_;
    PLFLT x0, x1, y0, y1;
    plgvpd(&x0, &x1, &y0, &y1);  // normalised device coordinates, y up
    b.px0 = x0 * w_, b.px1 = x1 * w_, b.py0 = (1 - y1) * h_, b.py1 = (1 - y0) * h_;
    plgvpw(&b.x0, &b.x1, &b.y0, &b.y1);
    return b;
  }
  // Ends the stream (memcairo copies the page into the buffer) and writes the PNG.
  void write() {
    end();
    if (errcode_ != 0) throw Error(path_ + ": PLplot: " + errmsg_);
    write_file_atomically(path_, encode_png_rgb(w_, h_, rgb_));
  }

 private:
  void end() {
    if (stream_ < 0) return;
    plend1();
    plsstrm(previous_);
    stream_ = -1;
  }
  std::unique_lock<std::mutex> lock_;  // first: held until every other member is gone
  std::string path_;
  int w_, h_;
  std::vector<std::uint8_t> rgb_;
  PLINT previous_ = 0, stream_ = -1;
  PLINT errcode_ = 0;
  char errmsg_[1024] = {};
};

// Frame, ticks, tick labels (y labels horizontal; "l": log10 axis), axis labels, title.
void draw_axes(bool log_y, const std::string& x_label, const std::string& y_label, const std::string& title) {
  plcol0(kBlack);
  plwidth(1);
  pllsty(1);
  plbox("bcnst", 0, 0, log_y ? "bcnstlv" : "bcnstv", 0, 0);
  pllab(plain(x_label).c_str(), plain(y_label).c_str(), plain(title).c_str());
}

// A vertical viridis colour bar right of the viewport, from lo (bottom) to hi (top),
// with tick labels and `label` above it.
void draw_colour_bar(double lo, double hi, const std::string& label) {
  PLFLT width = 0, height = 0;
  const PLINT label_opts[] = {PL_COLORBAR_LABEL_TOP};
  const std::string text = plain(label);
  const char* labels[] = {text.c_str()};
  const char* axis_opts[] = {"bcvtm"};
  const PLFLT ticks[] = {0};
  const PLINT sub_ticks[] = {0};
  const PLINT n_values[] = {2};
  const PLFLT range[] = {lo, hi};
  const PLFLT* values[] = {range};
  plcol0(kBlack);
  plcolorbar(&width, &height, PL_COLORBAR_GRADIENT | PL_COLORBAR_LABEL_TOP,
             PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT, 0.04, 0, 0.05, 0.9, kWhite, kBlack,
             1, 0, 0, kBlack, 1, label.empty() ? 0 : 1, label_opts, labels, 1, axis_opts, ticks, sub_ticks,
             n_values, values);
}

// The axis range [lo, hi] for plotted values in [lo, hi] (lo > hi: none) or the given
// range; on a log axis the values are log10 and the range is widened to whole decades.
std::array<double, 2> axis_range(const std::array<double, 2>& given, double lo, double hi, bool log,
                                 const std::string& what) {
  if (std::isfinite(given[0]) && std::isfinite(given[1])) {
    if (!(given[0] < given[1]) || (log && !(given[0] > 0)))
      throw Error(what + " [" + std::to_string(given[0]) + ", " + std::to_string(given[1]) +
                  "] is not an increasing" + (log ? " positive" : "") + " range");
    return log ? std::array<double, 2>{std::log10(given[0]), std::log10(given[1])} : given;
  }
  if (!(lo <= hi)) lo = 0, hi = 1;  // nothing to plot
  if (log) {
    lo = std::floor(lo), hi = std::ceil(hi);
    if (hi == lo) hi += 1;
  } else if (hi == lo) {
    const double d = lo != 0 ? 0.05 * std::abs(lo) : 0.5;
    lo -= d, hi += d;
  }
  return {lo, hi};
}

// pltr of plimagefr: cell corner (u, v), u in 0..nx, v in 0..ny, at the coordinates
// corner0 + (u, v) * cell (the cells are centred on the nodes).
struct CellGrid {
  double x0, y0, hx, hy;
};
void cell_corner(PLFLT u, PLFLT v, PLFLT* x, PLFLT* y, PLPointer data) {
  const auto* g = static_cast<const CellGrid*>(data);
  *x = g->x0 + u * g->hx;
  *y = g->y0 + v * g->hy;
}

// The window [w0, w1] of one axis of a heat map with n nodes from c0 to c1 (NaN: the
// node indices), the corner of the first cell and the cell width h.
struct HeatAxis {
  double w0, w1, corner0, h;
};
HeatAxis heat_axis(const std::array<double, 2>& range, std::size_t n, const std::string& what) {
  double c0 = 0, c1 = static_cast<double>(n - 1);
  if (!std::isnan(range[0]) || !std::isnan(range[1])) {
    c0 = range[0], c1 = range[1];
    if (!std::isfinite(c0) || !std::isfinite(c1) || c1 < c0 || (n > 1 && c1 == c0))
      throw Error(what + " [" + std::to_string(c0) + ", " + std::to_string(c1) + "] is not an increasing range for " +
                  std::to_string(n) + " nodes");
  }
  if (n == 1) {
    const double w0 = c1 > c0 ? c0 : c0 - 0.5, w1 = c1 > c0 ? c1 : c0 + 0.5;
    return {w0, w1, w0, w1 - w0};
  }
  const double h = (c1 - c0) / static_cast<double>(n - 1);
  return {c0, c1, c0 - 0.5 * h, h};
}

}  // namespace

const std::array<Rgb, 256>& viridis_table() {
  static const std::array<Rgb, 256> table = [] {
    // c0 + t (c1 + t (c2 + ... t c6)), per channel (shadertoy.com/view/WlfXRN)
    static const double c[7][3] = {{0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
                                   {0.1050930431085774, 1.404613529898575, 1.384590162594685},
                                   {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
                                   {-4.634230498983486, -5.799100973351585, -19.33244095627987},
                                   {6.228269936347081, 14.17993336680509, 56.69055260068105},
                                   {4.776384997670288, -13.74514537774601, -65.35303263337234},
                                   {-5.435455855934631, 4.645852612178535, 26.3124352495832}};
    std::array<Rgb, 256> t{};
    for (int i = 0; i < 256; ++i) {
      const double x = i / 255.0;
      for (int ch = 0; ch < 3; ++ch) {
        double v = c[6][ch];
        for (int k = 5; k >= 0; --k) v = c[k][ch] + x * v;
        t[i][ch] = static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
      }
    }
    return t;
  }();
  return table;
}

PlotBox write_line_plot_png(const std::string& path, const std::vector<Series>& series,
                            const LinePlotOptions& o) {
  // usable points: finite x and y (y > 0 on a log axis, where log10 y is plotted)
  const auto usable = [&](double x, double y) { return std::isfinite(x) && std::isfinite(y) && (!o.log_y || y > 0); };
  const auto yv = [&](double y) { return o.log_y ? std::log10(y) : y; };
  double xlo = kInf, xhi = -kInf, ylo = kInf, yhi = -kInf;
  std::size_t name_chars = 0;
  std::vector<Rgb> colours;
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    if (s.x.size() != s.y.size())
      throw Error(path + ": series '" + s.name + "' has " + std::to_string(s.x.size()) + " x and " +
                  std::to_string(s.y.size()) + " y values");
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (usable(s.x[i], s.y[i])) {
        xlo = std::min(xlo, s.x[i]), xhi = std::max(xhi, s.x[i]);
        ylo = std::min(ylo, yv(s.y[i])), yhi = std::max(yhi, yv(s.y[i]));
      }
    name_chars = std::max(name_chars, s.name.size());
    colours.push_back(s.colour ? *s.colour : kPalette[k % 10]);
  }
  const bool empty = !(xlo <= xhi);
  const auto xr = axis_range(o.x_range, xlo, xhi, false, path + ": x range");
  const auto yr = axis_range(o.y_range, ylo, yhi, o.log_y, path + ": y range");

  Figure fig(path, o.width, o.height, colours);
  // Margins in PLplot's character heights (4 mm at the cairo driver's 72 dpi: 11.3
  // pixels; the text is drawn about 4/3 that high). Right: the legend (a line sample, 8% of
  // the data area, and the longest name at about 0.8 character heights a character) and
  // the colour bar.
  const double char_px = 4.0 * 72 / 25.4;
  double right_px = 20;
  if (name_chars > 0) right_px += 0.08 * 0.8 * o.width + (3 + 0.8 * double(name_chars)) * char_px;
  if (o.colour_bar) right_px += 9 * char_px;
  const double right = std::max(0.4, 1.0 - right_px / o.width), left = 10 * char_px / o.width;
  const double bottom = 5.5 * char_px / o.height, top = 1.0 - 3.5 * char_px / o.height;
  if (o.equal_aspect) plvpas(left, right, bottom, top, (yr[1] - yr[0]) / (xr[1] - xr[0]));
  else plvpor(left, right, bottom, top);
  plwind(xr[0], xr[1], yr[0], yr[1]);
  const PlotBox box = fig.box();

  // a dot: a filled ellipse 2.5 pixels across in either direction
  const double rx = 2.5 * (xr[1] - xr[0]) / (box.px1 - box.px0), ry = 2.5 * (yr[1] - yr[0]) / (box.py1 - box.py0);
  std::vector<PLFLT> xs, ys;
  const auto flush = [&](const Series& s) {
    if (s.dots || xs.size() == 1)
      for (std::size_t i = 0; i < xs.size(); ++i) plarc(xs[i], ys[i], rx, ry, 0, 360, 0, 1);
    else if (xs.size() > 1)
      plline(static_cast<PLINT>(xs.size()), xs.data(), ys.data());
    xs.clear(), ys.clear();
  };
  for (std::size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    plcol0(kFirstSeries + static_cast<PLINT>(k));
    pllsty(s.colour ? 1 : 1 + static_cast<PLINT>(k / 10 % 8));  // a new dash pattern each 10
    plwidth(2);
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (usable(s.x[i], s.y[i])) {
        xs.push_back(s.x[i]), ys.push_back(yv(s.y[i]));
      } else {
        flush(s);
      }
    }
    flush(s);
  }
  draw_axes(o.log_y, o.x_label, o.y_label, o.title);
  if (empty)
    plptex(0.5 * (xr[0] + xr[1]), 0.5 * (yr[0] + yr[1]), 1, 0, 0.5,
           o.log_y ? "no finite positive values to plot" : "no finite values to plot");

  std::vector<PLINT> opts, text_colours, line_colours, line_styles;
  std::vector<PLFLT> line_widths;
  std::vector<std::string> names;
  for (std::size_t k = 0; k < series.size(); ++k) {
    if (series[k].name.empty()) continue;
    opts.push_back(PL_LEGEND_LINE);
    text_colours.push_back(kBlack);
    line_colours.push_back(kFirstSeries + static_cast<PLINT>(k));
    line_styles.push_back(series[k].colour ? 1 : 1 + static_cast<PLINT>(k / 10 % 8));
    line_widths.push_back(2);
    names.push_back(plain(series[k].name));
  }
  if (!names.empty()) {
    std::vector<const char*> text;
    for (const auto& n : names) text.push_back(n.c_str());
    PLFLT lw = 0, lh = 0;
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT, 0.02, 0, 0.08, kWhite,
             kBlack, 1, 0, 0, static_cast<PLINT>(names.size()), opts.data(), 1.0, 1.0, 2.0, 0, text_colours.data(),
             text.data(), nullptr, nullptr, nullptr, nullptr, line_colours.data(), line_styles.data(),
             line_widths.data(), nullptr, nullptr, nullptr, nullptr);
  }
  if (o.colour_bar) draw_colour_bar(o.colour_bar->lo, o.colour_bar->hi, o.colour_bar->label);
  fig.write();
  return box;
}

PlotBox write_heat_map_png(const std::string& path, const std::vector<double>& field, std::size_t nx,
                           std::size_t ny, const HeatMapOptions& o) {
  if (nx == 0 || ny == 0 || field.size() != nx * ny)
    throw Error(path + ": heat map field has " + std::to_string(field.size()) + " values, expected " +
                std::to_string(ny) + " x " + std::to_string(nx));
  if (!o.mask.empty() && o.mask.size() != field.size())
    throw Error(path + ": heat map mask has " + std::to_string(o.mask.size()) + " values, expected " +
                std::to_string(field.size()));
  const auto shown = [&](std::size_t i) { return std::isfinite(field[i]) && (o.mask.empty() || o.mask[i] != 0); };
  double lo = kInf, hi = -kInf;
  for (std::size_t i = 0; i < field.size(); ++i)
    if (shown(i)) lo = std::min(lo, field[i]), hi = std::max(hi, field[i]);
  if (!std::isnan(o.vmin)) lo = o.vmin;
  if (!std::isnan(o.vmax)) hi = o.vmax;
  const bool any = std::isfinite(lo) && std::isfinite(hi);
  if (any && !(hi > lo)) {  // a constant field: a bar around its value
    const double d = lo != 0 ? 0.05 * std::abs(lo) : 1.0;
    lo -= d, hi += d;
  }
  const HeatAxis ax = heat_axis(o.x_range, nx, path + ": heat map x range");
  const HeatAxis ay = heat_axis(o.y_range, ny, path + ": heat map y range");

  Figure fig(path, o.width, o.height, {});
  const double char_px = 4.0 * 72 / 25.4;
  const double aspect = std::clamp((ay.w1 - ay.w0) / (ax.w1 - ax.w0), 1.0 / 3, 3.0);
  plvpas(10 * char_px / o.width, 1.0 - 14 * char_px / o.width, 5.5 * char_px / o.height,
         1.0 - 3.5 * char_px / o.height, aspect);
  plwind(ax.w0, ax.w1, ay.w0, ay.w1);
  const PlotBox box = fig.box();
  // grey under the cells: NaN and masked nodes are not drawn
  const PLFLT cx[] = {ax.w0, ax.w1, ax.w1, ax.w0}, cy[] = {ay.w0, ay.w0, ay.w1, ay.w1};
  plcol0(kGrey);
  plfill(4, cx, cy);
  if (any) {
    // PLplot takes idata[ix][iy]
    std::vector<PLFLT> z(nx * ny);
    std::vector<const PLFLT*> columns(nx);
    for (std::size_t i = 0; i < nx; ++i) {
      columns[i] = &z[i * ny];
      for (std::size_t j = 0; j < ny; ++j) z[i * ny + j] = shown(j * nx + i) ? field[j * nx + i] : kNaN;
    }
    CellGrid grid{ax.corner0, ay.corner0, ax.h, ay.h};
    // values outside [lo, hi] take the end colours (zmin, zmax: every finite value is drawn)
    plimagefr(columns.data(), static_cast<PLINT>(nx), static_cast<PLINT>(ny), ax.w0, ax.w1, ay.w0, ay.w1,
              -std::numeric_limits<double>::max(), std::numeric_limits<double>::max(), lo, hi, cell_corner, &grid);
  }
  draw_axes(false, o.x_label, o.y_label, o.title);
  if (any) draw_colour_bar(lo, hi, "");
  fig.write();
  return box;
}

}  // namespace kpde::io
