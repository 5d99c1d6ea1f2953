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
}  // namespace

std::string xdmf_2d_text(const XdmfGrid2D& g) {
  if (g.nx < 2 || g.ny < 2 || g.h5_file.empty())
    throw Error("xdmf: a 2-D grid needs nx, ny >= 2 and an .h5 file name");
  const std::string dims = std::to_string(g.ny) + " " + std::to_string(g.nx);
  std::ostringstream s;
  s << "<?xml version=\"1.0\" ?>\n"
    << "<Xdmf xmlns:xi=\"http://www.w3.org/2001/XInclude\" Version=\"3.0\">\n"
    << "  <Domain>\n"
    << "    <Grid Name=\"" << escape(g.grid_name) << "\" GridType=\"Uniform\">\n"
    << "      <Topology TopologyType=\"2DRectMesh\" Dimensions=\"" << dims << "\"/>\n"
    << "      <Geometry GeometryType=\"VXVY\">\n"
    << "        <DataItem Dimensions=\"" << g.nx
    << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" << ref(g.h5_file, g.x_dataset)
    << "</DataItem>\n"
    << "        <DataItem Dimensions=\"" << g.ny
    << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" << ref(g.h5_file, g.y_dataset)
    << "</DataItem>\n"
    << "      </Geometry>\n";
  for (const auto& f : g.fields) {
    s << "      <Attribute Name=\"" << escape(f)
      << "\" AttributeType=\"Scalar\" Center=\"Node\">\n"
      << "        <DataItem Dimensions=\"" << dims
      << "\" NumberType=\"Float\" Precision=\"8\" Format=\"HDF\">" << ref(g.h5_file, f)
      << "</DataItem>\n"
      << "      </Attribute>\n";
  }
  s << "    </Grid>\n  </Domain>\n</Xdmf>\n";
  return s.str();
}

void write_xdmf_2d(const std::string& path, const XdmfGrid2D& grid) {
  write_file_atomically(path, xdmf_2d_text(grid));
}

}  // namespace kpde::io
