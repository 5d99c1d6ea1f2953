#pragma once
/// Tables of named numeric columns, the format of points in and values out
/// (`kpde eval`; scattered reference data):
///  - CSV (.csv): a header row naming the columns ("x,y,u"), then one row of numbers per
///    point, comma-separated (spaces around values allowed; lines starting with # and
///    empty lines are skipped);
///  - text (.txt, .dat): the same rows with values separated by spaces, tabs or commas;
///    the header row is optional (without one the caller names the columns);
///  - HDF5 (.h5, .hdf5): one 1-D float64 dataset per column at the root, all of the
///    same length; the attribute `columns` lists their order (without it: the
///    datasets in name order).
#include <string>
#include <vector>

namespace kpde::data {

struct Table {
  std::vector<std::string> names;
  std::vector<std::vector<double>> columns;  ///< columns[k][row]
  std::size_t n_rows() const { return columns.empty() ? 0 : columns.front().size(); }
  /// The column called `name`, or null.
  const std::vector<double>* find(const std::string& name) const;
};

/// The column of a coordinate: the one called `axis_name`, else "t" when the axis is a
/// time axis; null when neither is there. `found` gets the name used.
const std::vector<double>* coordinate_column(const Table& table, const std::string& axis_name, bool time_axis,
                                             std::string* found = nullptr);

/// "csv", "txt" or "h5" from the file name (.csv; .txt, .dat; .h5, .hdf5); InputError
/// otherwise.
std::string table_format(const std::string& path);

/// Reads a table; InputError naming the file (and line and column for CSV) on a
/// missing file, an unknown extension, a missing or repeated header name, a row with
/// the wrong number of values, text that is not a number, datasets of other shapes or
/// lengths, or no rows at all. `names`: the column names of a text file without a
/// header row (ignored when the file has one).
Table read_table(const std::string& path, const std::vector<std::string>& names = {});

/// Writes a table (CSV with 17 significant digits, or HDF5) under a temporary name,
/// renamed when complete. InputError on an unknown extension or an unwritable place.
void write_table(const std::string& path, const Table& table);

}  // namespace kpde::data
