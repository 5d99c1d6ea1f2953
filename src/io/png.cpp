#include "io/png.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "io/atomic_file.hpp"

namespace kpde::io {

namespace {

// ---- 5x7 bitmap font: 7 rows of 5 bits, bit 4 = leftmost column ----
struct Glyph {
  char c;
  std::uint8_t rows[7];
};

constexpr Glyph kFont[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
    {'e', {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
    {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
};

constexpr std::size_t kFontScale = 2;               // each font pixel is 2x2
constexpr std::size_t kCharW = 6 * kFontScale;      // 5 columns + 1 spacing
constexpr std::size_t kCharH = 7 * kFontScale;
constexpr std::size_t kMargin = 12;
constexpr std::size_t kBarGap = 16;
constexpr std::size_t kBarWidth = 24;
constexpr std::size_t kLabelGap = 6;
constexpr std::size_t kLabelChars = 10;  // "-1.23e-100" at most
constexpr Rgb kWhite = {255, 255, 255};
constexpr Rgb kBlack = {0, 0, 0};

const Glyph* find_glyph(char c) {
  for (const auto& g : kFont)
    if (g.c == c) return &g;
  return nullptr;
}

struct Canvas {
  std::size_t w, h;
  std::vector<std::uint8_t> px;
  Canvas(std::size_t w_, std::size_t h_) : w(w_), h(h_), px(w_ * h_ * 3, 255) {}
  void set(std::size_t x, std::size_t y, const Rgb& c) {
    if (x >= w || y >= h) return;
    std::copy(c.begin(), c.end(), px.begin() + static_cast<std::ptrdiff_t>((y * w + x) * 3));
  }
  void fill(std::size_t x0, std::size_t y0, std::size_t ww, std::size_t hh, const Rgb& c) {
    for (std::size_t y = y0; y < y0 + hh; ++y)
      for (std::size_t x = x0; x < x0 + ww; ++x) set(x, y, c);
  }
  void text(std::size_t x0, std::size_t y0, const std::string& s, const Rgb& c) {
    for (std::size_t k = 0; k < s.size(); ++k) {
      const Glyph* g = find_glyph(s[k]);
      if (!g) continue;  // unknown characters (and ' ') are blank
      for (std::size_t r = 0; r < 7; ++r)
        for (std::size_t col = 0; col < 5; ++col)
          if (g->rows[r] & (0x10 >> col))
            fill(x0 + k * kCharW + col * kFontScale, y0 + r * kFontScale, kFontScale,
                 kFontScale, c);
    }
  }
};

std::string label(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string title_text(const std::string& title) {
  std::string t = title;
  for (auto& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return t;
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

std::string encode_png_rgb(std::size_t width, std::size_t height,
                           const std::vector<std::uint8_t>& rgb) {
  if (width == 0 || height == 0 || rgb.size() != width * height * 3)
    throw Error("png: image size does not match " + std::to_string(width) + " x " +
                std::to_string(height) + " RGB");
  std::string raw;
  raw.reserve((width * 3 + 1) * height);
  for (std::size_t y = 0; y < height; ++y) {
    raw += '\0';  // filter type 0 (None)
    raw.append(reinterpret_cast<const char*>(rgb.data() + y * width * 3), width * 3);
  }
  uLongf zsize = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zsize, '\0');
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &zsize,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                6) != Z_OK)
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

HeatMapLayout heat_map_layout(std::size_t nx, std::size_t ny, const HeatMapOptions& options) {
  if (nx == 0 || ny == 0) throw Error("heat map: empty field");
  HeatMapLayout l;
  const std::size_t n = std::max(nx, ny);
  l.scale = std::max<std::size_t>(1, (options.min_size + n - 1) / n);
  l.map_x0 = kMargin;
  l.map_y0 = kMargin + (options.title.empty() ? 0 : kCharH + kMargin);
  l.bar_x0 = l.map_x0 + nx * l.scale + kBarGap;
  l.bar_width = kBarWidth;
  const std::size_t title_w = kMargin * 2 + title_text(options.title).size() * kCharW;
  l.width = std::max(l.bar_x0 + kBarWidth + kLabelGap + kLabelChars * kCharW + kMargin, title_w);
  l.height = l.map_y0 + std::max(ny * l.scale, 2 * kCharH + 4) + kMargin;
  return l;
}

std::vector<std::uint8_t> render_heat_map(const std::vector<double>& field, std::size_t nx,
                                          std::size_t ny, const HeatMapOptions& options,
                                          HeatMapLayout* layout_out) {
  if (field.size() != nx * ny)
    throw Error("heat map: field has " + std::to_string(field.size()) + " values, expected " +
                std::to_string(ny) + " x " + std::to_string(nx));
  if (!options.mask.empty() && options.mask.size() != field.size())
    throw Error("heat map: mask size does not match the field");
  const HeatMapLayout l = heat_map_layout(nx, ny, options);
  if (layout_out) *layout_out = l;

  const auto shown = [&](std::size_t i) {
    return std::isfinite(field[i]) && (options.mask.empty() || options.mask[i] != 0);
  };
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (std::size_t i = 0; i < field.size(); ++i)
    if (shown(i)) {
      lo = std::min(lo, field[i]);
      hi = std::max(hi, field[i]);
    }
  if (!std::isnan(options.vmin)) lo = options.vmin;
  if (!std::isnan(options.vmax)) hi = options.vmax;
  const bool any = std::isfinite(lo) && std::isfinite(hi);
  const auto& cmap = viridis_table();

  Canvas cv(l.width, l.height);
  const std::size_t s = l.scale;
  for (std::size_t j = 0; j < ny; ++j) {
    const std::size_t y0 = l.map_y0 + (ny - 1 - j) * s;  // row 0 (smallest y) at the bottom
    for (std::size_t i = 0; i < nx; ++i) {
      const std::size_t k = j * nx + i;
      Rgb c = kMaskedGrey;
      if (shown(k) && any) {
        const double t = hi > lo ? (field[k] - lo) / (hi - lo) : 0.0;
        c = cmap[static_cast<std::size_t>(std::lround(std::clamp(t, 0.0, 1.0) * 255.0))];
      }
      cv.fill(l.map_x0 + i * s, y0, s, s, c);
    }
  }
  // colour bar: top = max, bottom = min, with a black frame
  const std::size_t bar_h = ny * s;
  for (std::size_t r = 0; r < bar_h; ++r) {
    const double t = bar_h > 1 ? 1.0 - static_cast<double>(r) / (bar_h - 1) : 1.0;
    cv.fill(l.bar_x0, l.map_y0 + r, kBarWidth, 1,
            cmap[static_cast<std::size_t>(std::lround(t * 255.0))]);
  }
  cv.fill(l.bar_x0 - 1, l.map_y0 - 1, kBarWidth + 2, 1, kBlack);
  cv.fill(l.bar_x0 - 1, l.map_y0 + bar_h, kBarWidth + 2, 1, kBlack);
  cv.fill(l.bar_x0 - 1, l.map_y0 - 1, 1, bar_h + 2, kBlack);
  cv.fill(l.bar_x0 + kBarWidth, l.map_y0 - 1, 1, bar_h + 2, kBlack);
  if (any) {
    const std::size_t lx = l.bar_x0 + kBarWidth + kLabelGap;
    cv.text(lx, l.map_y0, label(hi), kBlack);
    cv.text(lx, l.map_y0 + bar_h - kCharH, label(lo), kBlack);
  }
  if (!options.title.empty()) cv.text(kMargin, kMargin, title_text(options.title), kBlack);
  (void)kWhite;
  return std::move(cv.px);
}

void write_heat_map_png(const std::string& path, const std::vector<double>& field,
                        std::size_t nx, std::size_t ny, const HeatMapOptions& options) {
  HeatMapLayout l;
  const auto px = render_heat_map(field, nx, ny, options, &l);
  write_file_atomically(path, encode_png_rgb(l.width, l.height, px));
}

}  // namespace kpde::io
