#pragma once
/// PNG output of 2-D fields: a heat map with the viridis colour map, a vertical colour
/// bar with min/max labels and an optional title, drawn with a built-in 5x7 bitmap font
/// and encoded with zlib (8-bit RGB, no interlace). No axes or tick marks yet.
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace kpde::io {

/// An 8-bit RGB colour.
using Rgb = std::array<std::uint8_t, 3>;

/// The 256-entry viridis table, from the published degree-6 polynomial fit (Matt Zucker)
/// of matplotlib's viridis; entry 0 is the minimum (dark purple), 255 the maximum (yellow).
const std::array<Rgb, 256>& viridis_table();

/// Colour drawn for NaN / masked-out pixels.
constexpr Rgb kMaskedGrey = {160, 160, 160};

/// Encodes a `width` x `height` RGB image (rows top to bottom, 3 bytes a pixel) as PNG
/// bytes: signature, IHDR, one zlib IDAT with filter byte 0 on every row, IEND.
std::string encode_png_rgb(std::size_t width, std::size_t height,
                           const std::vector<std::uint8_t>& rgb);

/// Options of a heat map.
struct HeatMapOptions {
  std::string title;                 ///< drawn above the map (upper-cased); empty: none
  std::vector<std::uint8_t> mask;    ///< [ny][nx]; 0 = outside (grey). Empty: no mask
  double vmin = std::numeric_limits<double>::quiet_NaN();  ///< NaN: min of shown values
  double vmax = std::numeric_limits<double>::quiet_NaN();  ///< NaN: max of shown values
  std::size_t min_size = 400;        ///< the map is upscaled (nearest) to at least this
};

/// Pixel layout of a heat map image (all in pixels, origin top-left).
struct HeatMapLayout {
  std::size_t width = 0, height = 0;  ///< whole image
  std::size_t map_x0 = 0, map_y0 = 0;  ///< top-left corner of the field area
  std::size_t scale = 1;              ///< each field value is a scale x scale block
  std::size_t bar_x0 = 0, bar_width = 0;  ///< colour bar column (same rows as the map)
};

/// The layout write_heat_map_png uses for an [ny][nx] field.
HeatMapLayout heat_map_layout(std::size_t nx, std::size_t ny, const HeatMapOptions& options);

/// Renders `field` ([ny][nx], row 0 at the smallest y, so it is drawn at the bottom) as an
/// RGB image laid out by heat_map_layout; returns the pixels (rows top to bottom).
std::vector<std::uint8_t> render_heat_map(const std::vector<double>& field, std::size_t nx,
                                          std::size_t ny, const HeatMapOptions& options,
                                          HeatMapLayout* layout = nullptr);

/// Writes render_heat_map as a PNG to `path` atomically (AtomicFile).
void write_heat_map_png(const std::string& path, const std::vector<double>& field,
                        std::size_t nx, std::size_t ny, const HeatMapOptions& options = {});

}  // namespace kpde::io
