#include "data/table.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "io/atomic_file.hpp"
#include "io/hdf5.hpp"

namespace kpde::data {

namespace {

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  const auto b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

std::vector<std::string> split_commas(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) out.push_back(trim(cell));
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

/// Cells of a text row: separated by commas, spaces or tabs (runs of blanks count once).
std::vector<std::string> split_blanks(const std::string& line) {
  std::vector<std::string> out;
  std::string s = line;
  for (char& c : s)
    if (c == '\t') c = ' ';
  for (const auto& part : split_commas(s)) {
    std::istringstream in(part);
    std::string w;
    bool any = false;
    while (in >> w) out.push_back(w), any = true;
    if (!any) out.push_back("");
  }
  return out;
}

bool starts_like_number(const std::string& s) {
  return !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.');
}

/// CSV (header required) or text (header optional: `names` otherwise).
Table read_text(const std::string& path, bool text, const std::vector<std::string>& names) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot read the file (missing or not readable)");
  Table t;
  std::string line;
  long lineno = 0;
  bool header = false;
  while (std::getline(in, line)) {
    ++lineno;
    const std::string s = trim(line);
    if (s.empty() || s[0] == '#') continue;
    const std::vector<std::string> cells = text ? split_blanks(s) : split_commas(s);
    const std::string where = path + ":" + std::to_string(lineno);
    if (!header && text && starts_like_number(cells.front())) {
      // a text file without a header row: the caller names the columns
      if (names.empty())
        throw InputError(where + ": no header row naming the columns; name them (columns: [x, y, u] in a config)");
      for (const auto& name : names) {
        for (const auto& other : t.names)
          if (other == name) throw InputError(path + ": the column name '" + name + "' is given twice");
        t.names.push_back(name);
      }
      t.columns.resize(t.names.size());
      header = true;
    }
    if (!header) {
      for (const auto& name : cells) {
        if (name.empty()) throw InputError(where + ": an empty column name in the header row");
        if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_'))
          throw InputError(where + ": expected a header row naming the columns (e.g. x,y), got '" + s + "'");
        for (const auto& other : t.names)
          if (other == name) throw InputError(where + ": the column '" + name + "' appears twice in the header");
        t.names.push_back(name);
      }
      t.columns.resize(t.names.size());
      header = true;
      continue;
    }
    if (cells.size() != t.names.size())
      throw InputError(where + ": expected " + std::to_string(t.names.size()) + " values (" +
                       std::to_string(t.names.size()) + " columns), got " + std::to_string(cells.size()));
    for (std::size_t k = 0; k < cells.size(); ++k) {
      const char* b = cells[k].c_str();
      char* e = nullptr;
      errno = 0;
      const double v = std::strtod(b, &e);
      if (cells[k].empty() || *e != '\0' || errno == ERANGE || !std::isfinite(v))
        throw InputError(where + ": column '" + t.names[k] + "': '" + cells[k] + "' is not a finite number");
      t.columns[k].push_back(v);
    }
  }
  if (!header) throw InputError(path + ": empty (expected a header row naming the columns, then rows of numbers)");
  if (t.n_rows() == 0) throw InputError(path + ": a header but no rows of numbers");
  return t;
}

Table read_h5(const std::string& path) {
  const io::H5File f = io::H5File::open(path);
  Table t;
  if (f.has_attribute("/", "columns")) {
    for (const auto& name : split_commas(f.string_attribute("/", "columns"))) t.names.push_back(name);
  } else {
    for (const auto& name : f.list_datasets("/"))
      if (name.find('/') == std::string::npos) t.names.push_back(name);
  }
  if (t.names.empty()) throw InputError(path + ": no datasets (expected one 1-D dataset per column)");
  for (const auto& name : t.names) {
    if (!f.exists(name)) throw InputError(path + ": the attribute 'columns' names '" + name + "', which is not a dataset");
    const io::Shape shape = f.shape(name);
    if (shape.size() != 1)
      throw InputError(path + ": dataset '" + name + "' has shape " + io::shape_string(shape) +
                       ", expected a 1-D column");
    t.columns.push_back(f.read(name));
    if (t.columns.back().size() != t.columns.front().size())
      throw InputError(path + ": dataset '" + name + "' has " + std::to_string(t.columns.back().size()) + " rows, '" +
                       t.names.front() + "' " + std::to_string(t.columns.front().size()));
    for (std::size_t r = 0; r < t.columns.back().size(); ++r)
      if (!std::isfinite(t.columns.back()[r]))
        throw InputError(path + ": dataset '" + name + "' row " + std::to_string(r) + " is not finite");
  }
  if (t.n_rows() == 0) throw InputError(path + ": the columns have no rows");
  return t;
}

}  // namespace

const std::vector<double>* Table::find(const std::string& name) const {
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k] == name) return &columns[k];
  return nullptr;
}

const std::vector<double>* coordinate_column(const Table& t, const std::string& axis_name, bool time_axis,
                                             std::string* found) {
  const std::vector<double>* c = t.find(axis_name);
  std::string name = axis_name;
  if (!c && time_axis) c = t.find("t"), name = "t";
  if (c && found) *found = name;
  return c;
}

std::string table_format(const std::string& path) {
  const auto dot = path.find_last_of('.');
  const std::string ext = dot == std::string::npos ? "" : to_lower(path.substr(dot + 1));
  if (ext == "csv") return "csv";
  if (ext == "txt" || ext == "dat") return "txt";
  if (ext == "h5" || ext == "hdf5") return "h5";
  throw InputError(path + ": unknown table format (expected a .csv, .txt, .dat or .h5 file)");
}

Table read_table(const std::string& path, const std::vector<std::string>& names) {
  const std::string format = table_format(path);
  if (format == "h5") return read_h5(path);
  return read_text(path, format == "txt", names);
}

void write_table(const std::string& path, const Table& t) {
  KPDE_REQUIRE(t.names.size() == t.columns.size(), Error, "write_table: one name per column");
  for (const auto& c : t.columns)
    KPDE_REQUIRE(c.size() == t.n_rows(), Error, "write_table: columns of different lengths");
  if (table_format(path) == "h5") {
    io::H5File f = io::H5File::create(path);
    std::string names;
    for (std::size_t k = 0; k < t.names.size(); ++k) {
      f.write(t.names[k], t.columns[k], {t.columns[k].size()});
      names += (k ? "," : "") + t.names[k];
    }
    f.set_attribute("/", "columns", names);
    f.close();
    return;
  }
  std::string text;
  for (std::size_t k = 0; k < t.names.size(); ++k) text += (k ? "," : "") + t.names[k];
  text += "\n";
  char buf[32];
  for (std::size_t r = 0; r < t.n_rows(); ++r) {
    for (std::size_t k = 0; k < t.columns.size(); ++k) {
      std::snprintf(buf, sizeof buf, "%.17g", t.columns[k][r]);
      if (k) text += ',';
      text += buf;
    }
    text += '\n';
  }
  io::write_file_atomically(path, text);
}

}  // namespace kpde::data
