#pragma once
/// XDMF 3 descriptions of fields stored in HDF5, so that ParaView (Xdmf3 reader) opens
/// them: 2-D and 3-D rectilinear node grids; no time series, no unstructured meshes.
#include <cstddef>
#include <string>
#include <vector>

namespace kpde::io {

/// A 2-D rectilinear grid of nx x ny nodes whose coordinates and fields live in one .h5.
struct XdmfGrid2D {
  std::string h5_file;               ///< path of the .h5 relative to the .xdmf file
  std::size_t nx = 0;                ///< number of nodes along x
  std::size_t ny = 0;                ///< number of nodes along y
  std::string x_dataset = "x";       ///< 1-D dataset [nx] of x node coordinates
  std::string y_dataset = "y";       ///< 1-D dataset [ny] of y node coordinates
  std::vector<std::string> fields;   ///< node-centred scalar datasets, each [ny][nx],
                                     ///< row 0 at the smallest y
  std::string grid_name = "solution";  ///< name of the Grid element
};

/// The XDMF 3 text for `grid`: a 2DRectMesh topology with Dimensions="ny nx", a VXVY
/// geometry referencing the x and y datasets, and one node-centred Scalar attribute per
/// field referencing "h5_file:/field". Names are XML-escaped.
std::string xdmf_2d_text(const XdmfGrid2D& grid);

/// Writes xdmf_2d_text(grid) to `path` atomically (AtomicFile).
void write_xdmf_2d(const std::string& path, const XdmfGrid2D& grid);

/// A 3-D rectilinear grid of nx x ny x nz nodes, fields [nz][ny][nx].
struct XdmfGrid3D {
  std::string h5_file;
  std::size_t nx = 0, ny = 0, nz = 0;
  std::string x_dataset = "x", y_dataset = "y", z_dataset = "z";
  std::vector<std::string> fields;
  std::string grid_name = "solution";
};

/// The XDMF 3 text for `grid`: 3DRectMesh, Dimensions="nz ny nx", VXVYVZ geometry.
std::string xdmf_3d_text(const XdmfGrid3D& grid);
void write_xdmf_3d(const std::string& path, const XdmfGrid3D& grid);

}  // namespace kpde::io
