#include "io/xdmf.hpp"

#include <sstream>

#include "core/error.hpp"
#include "io/atomic_file.hpp"

namespace kpde::io {

namespace {
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string ref(const std::string& h5, const std::string& dataset) {
  std::string d = dataset;
  while (!d.empty() && d.front() == '/') d.erase(d.begin());
  return escape(h5 + ":/" + d);
}


/// The text of a rectilinear grid: n[k] nodes along axis k (x first), coordinate
/// datasets per axis, fields stored slowest axis first.
std::string rect_text(const std::string& h5, const std::vector<std::size_t>& n, const std::vector<std::string>& axes,
                      const std::vector<std::string>& fields, const std::string& name) {
  std::string dims;
  for (std::size_t k = n.size(); k-- > 0;) dims += std::to_string(n[k]) + (k ? " " : "");
  const bool three = n.size() == 3;
  std::ostringstream s;
  s << "<?xml version=\"1.0\" ?>\n"
    << "<Xdmf xmlns:xi=\"http://www.w3.org/2001/XInclude\" Version=\"3.0\">\n"
    << "  <Domain>\n"
    << "    <Grid Name=\"" << escape(name) << "\" GridType=\"Uniform\">\n"
    << "      <Topology TopologyType=\"" << (three ? "3DRectMesh" : "2DRectMesh") << "\" Dimensions=\"" << dims
    << "\"/>\n"
    << "      <Geometry GeometryType=\"" << (three ? "VXVYVZ" : "VXVY") << "\">\n";
  for (std::size_t k = 0; k < n.size(); ++k)
    s << "        <DataItem Dimensions=\"" << n[k] << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">"
      << ref(h5, axes[k]) << "</DataItem>\n";
  s << "      </Geometry>\n";
  for (const auto& f : fields) {
    s << "      <Attribute Name=\"" << escape(f)
      << "\" AttributeType=\"Scalar\" Center=\"Node\">\n"
      << "        <DataItem Dimensions=\"" << dims
      << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" << ref(h5, f)
      << "</DataItem>\n"
      << "      </Attribute>\n";
  }
  s << "    </Grid>\n  </Domain>\n</Xdmf>\n";
  return s.str();
}

}  // namespace

std::string xdmf_2d_text(const XdmfGrid2D& g) {
  if (g.nx < 2 || g.ny < 2 || g.h5_file.empty())
    throw Error("xdmf: a 2-D grid needs nx, ny >= 2 and an .h5 file name");
  return rect_text(g.h5_file, {g.nx, g.ny}, {g.x_dataset, g.y_dataset}, g.fields, g.grid_name);
}

std::string xdmf_3d_text(const XdmfGrid3D& g) {
  if (g.nx < 2 || g.ny < 2 || g.nz < 2 || g.h5_file.empty())
    throw Error("xdmf: a 3-D grid needs nx, ny, nz >= 2 and an .h5 file name");
  return rect_text(g.h5_file, {g.nx, g.ny, g.nz}, {g.x_dataset, g.y_dataset, g.z_dataset}, g.fields, g.grid_name);
}

void write_xdmf_3d(const std::string& path, const XdmfGrid3D& grid) {
  write_file_atomically(path, xdmf_3d_text(grid));
}

void write_xdmf_2d(const std::string& path, const XdmfGrid2D& grid) {
  write_file_atomically(path, xdmf_2d_text(grid));
}

}  // namespace kpde::io
