#pragma once
/// Figures as PNG files, drawn with PLplot (its cairo driver, into memory), encoded with
/// zlib and written atomically (AtomicFile): line plots (a training history: several named
/// curves, a legend, a log-scale y axis) and heat maps of 2-D fields, each with axes, tick
/// labels, axis labels, a title and (heat maps) a colour bar. PLplot keeps global state
/// and is not thread-safe: calls are serialised, and each figure is drawn on a stream of
/// its own that is ended before the call returns.
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kpde::io {

/// An 8-bit RGB colour.
using Rgb = std::array<std::uint8_t, 3>;

/// The 256-entry viridis table, from the published degree-6 polynomial fit (Matt Zucker)
/// of matplotlib's viridis; entry 0 is the minimum (dark purple), 255 the maximum (yellow).
/// Heat maps colour a value v in [lo, hi] with entry floor(256 (v - lo) / (hi - lo)),
/// clamped to 255.
const std::array<Rgb, 256>& viridis_table();

/// Colour of NaN / masked-out pixels of a heat map.
constexpr Rgb kMaskedGrey = {160, 160, 160};

/// Where a figure's data area (the framed rectangle inside the axes) landed, in pixels
/// (origin top-left, x to the right, y down), and the coordinates it spans.
struct PlotBox {
  int width = 0, height = 0;      ///< the whole image
  double px0 = 0, px1 = 0;        ///< left and right edges of the data area
  double py0 = 0, py1 = 0;        ///< top and bottom edges of the data area
  double x0 = 0, x1 = 0;          ///< x at the left and right edges
  double y0 = 0, y1 = 0;          ///< y at the bottom and top edges (log10 y on a log axis)
};

/// One curve of a line plot: y against x, points joined in order.
struct Series {
  Series() = default;
  Series(std::string name_, std::vector<double> x_, std::vector<double> y_)
      : name(std::move(name_)), x(std::move(x_)), y(std::move(y_)) {}
  std::string name;            ///< legend entry; empty: not in the legend
  std::vector<double> x, y;    ///< the points, same length
  std::optional<Rgb> colour;   ///< none: the next colour of a 10-colour palette
  bool dots = false;           ///< a dot at each point instead of joining them
};

/// A colour bar beside a line plot for curves coloured from viridis_table(): entry 0 is
/// `lo`, entry 255 is `hi`.
struct ColourBar {
  std::string label;
  double lo = 0, hi = 1;
};

/// Options of a line plot.
struct LinePlotOptions {
  std::string title, x_label, y_label;
  /// log10 y axis; points with y <= 0 are skipped (leaving a gap in their curve)
  bool log_y = false;
  /// one unit as long on both axes
  bool equal_aspect = false;
  /// Axis ranges; NaN: from the plotted points (on a log axis, whole decades)
  std::array<double, 2> x_range{std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::quiet_NaN()};
  std::array<double, 2> y_range{std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::quiet_NaN()};
  std::optional<ColourBar> colour_bar;
  int width = 800, height = 600;  ///< image size in pixels
};

/// Writes the series as a line plot to `path` (PNG). Points with a non-finite x or y are
/// skipped (a gap in their curve); a point left alone between gaps is drawn as a dot. When no point at all is left the axes are drawn
/// empty, saying "no finite values to plot". Named series are listed in a legend right
/// of the data area, in their colours. Throws kpde::Error when a series' x and y differ
/// in length or a range is not finite, kpde::InputError (naming the path) when the file
/// cannot be written; nothing is left under `path` or a temporary name then.
PlotBox write_line_plot_png(const std::string& path, const std::vector<Series>& series,
                            const LinePlotOptions& options = {});

/// Options of a heat map.
struct HeatMapOptions {
  std::string title;
  std::string x_label = "x", y_label = "y";
  /// Coordinates of the first and last node along x and y (the nodes are uniformly
  /// spaced); NaN: the node indices 0 .. n-1.
  std::array<double, 2> x_range{std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::quiet_NaN()};
  std::array<double, 2> y_range{std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::quiet_NaN()};
  std::vector<std::uint8_t> mask;    ///< [ny][nx]; 0 = outside (grey). Empty: no mask
  double vmin = std::numeric_limits<double>::quiet_NaN();  ///< NaN: min of shown values
  double vmax = std::numeric_limits<double>::quiet_NaN();  ///< NaN: max of shown values
  int width = 800, height = 640;     ///< image size in pixels
};

/// Writes `field` ([ny][nx], row 0 at the smallest y, drawn at the bottom) to `path` as a
/// heat map (PNG): each node's value fills the cell of width hx = (x1 - x0) / (nx - 1)
/// (and hy) centred on it, clipped to the data area [x0, x1] x [y0, y1]; NaN and
/// masked-out nodes are grey (kMaskedGrey). The data area keeps the domain's aspect
/// ratio (up to 3:1). A colour bar with tick labels spans [vmin, vmax]; a constant field
/// gets a bar around its value. Errors as for write_line_plot_png.
PlotBox write_heat_map_png(const std::string& path, const std::vector<double>& field,
                           std::size_t nx, std::size_t ny, const HeatMapOptions& options = {});

}  // namespace kpde::io
