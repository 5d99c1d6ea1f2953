// data::Table (data/table.hpp): CSV and HDF5 round trips (17 digits: exact), comments
// and spaces in CSV, and every bad input refused with the file (and line) named.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "data/table.hpp"
#include "io/hdf5.hpp"

using namespace kpde;

namespace {

std::string tmp(const std::string& name) { return "/tmp/kpde_test_table_" + std::to_string(::getpid()) + "_" + name; }

std::string write_text(const std::string& name, const std::string& text) {
  std::ofstream(tmp(name)) << text;
  return tmp(name);
}

std::string error_of(const std::string& path) {
  try {
    data::read_table(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST(Table, RoundTripsExactly) {
  data::Table t;
  t.names = {"x", "y", "u_xx"};
  t.columns = {{0.1, -1.0 / 3.0, 1e-300}, {2.0, M_PI, -0.0}, {1e300, -7.25, std::nextafter(1.0, 2.0)}};
  for (const std::string ext : {"csv", "h5"}) {
    const std::string path = tmp("rt." + ext);
    data::write_table(path, t);
    const data::Table r = data::read_table(path);
    EXPECT_EQ(r.names, t.names) << ext;
    ASSERT_EQ(r.columns.size(), 3u);
    for (int k = 0; k < 3; ++k)
      for (int i = 0; i < 3; ++i) EXPECT_EQ(r.columns[k][i], t.columns[k][i]) << ext << " " << k << " " << i;
    EXPECT_EQ(r.n_rows(), 3u);
    ASSERT_TRUE(r.find("y"));
    EXPECT_EQ((*r.find("y"))[1], M_PI);
    EXPECT_FALSE(r.find("z"));
    std::remove(path.c_str());
  }
}

TEST(Table, CsvWithCommentsAndSpaces) {
  const std::string p = write_text("c.csv", "# points\n x , y\n\n1, 2\n  3 ,4e-1 \n# end\n");
  const data::Table t = data::read_table(p);
  EXPECT_EQ(t.names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(t.columns[0], (std::vector<double>{1, 3}));
  EXPECT_EQ(t.columns[1], (std::vector<double>{2, 0.4}));
  std::remove(p.c_str());
}

TEST(Table, TextWithBlanksAndOptionalHeader) {
  // spaces, tabs and commas separate values; a header row names the columns
  const std::string h = write_text("h.txt", "# x t u\nx  t\tu\n1 2\t3\n-4e-1, 5   6\n");
  const data::Table t = data::read_table(h);
  EXPECT_EQ(t.names, (std::vector<std::string>{"x", "t", "u"}));
  EXPECT_EQ(t.columns[0], (std::vector<double>{1, -0.4}));
  EXPECT_EQ(t.columns[2], (std::vector<double>{3, 6}));
  // without a header the caller names the columns; with none named it is refused
  const std::string n = write_text("n.dat", "0.5 0.25 1\n.5 -1 +2\n");
  const data::Table u = data::read_table(n, {"x", "y", "u"});
  EXPECT_EQ(u.names, (std::vector<std::string>{"x", "y", "u"}));
  EXPECT_EQ(u.columns[1], (std::vector<double>{0.25, -1}));
  EXPECT_EQ(u.columns[2], (std::vector<double>{1, 2}));
  EXPECT_NE(error_of(n).find("no header row"), std::string::npos) << error_of(n);
  EXPECT_NE(error_of(n).find(n + ":1"), std::string::npos) << error_of(n);
  // a row with a missing value names its line
  const std::string bad = write_text("bad.txt", "x y u\n1 2 3\n4 5\n");
  EXPECT_NE(error_of(bad).find(bad + ":3: expected 3 values"), std::string::npos) << error_of(bad);
  for (const auto& f : {h, n, bad}) std::remove(f.c_str());
}

TEST(Table, RefusesBadInput) {
  const auto refused = [](const std::string& path, const std::string& expect) {
    const std::string e = error_of(path);
    EXPECT_NE(e.find(expect), std::string::npos) << "expected '" << expect << "' in: " << e;
    EXPECT_NE(e.find(path), std::string::npos) << e;
    std::remove(path.c_str());
  };
  refused(tmp("missing.csv"), "cannot read");
  refused(write_text("empty.csv", "# nothing\n"), "empty (expected a header row");
  refused(write_text("noheader.csv", "0.1,0.2\n0.3,0.4\n"), ":1: expected a header row naming the columns");
  refused(write_text("norows.csv", "x,y\n"), "a header but no rows");
  refused(write_text("ragged.csv", "x,y\n1,2\n3\n"), ":3: expected 2 values (2 columns), got 1");
  refused(write_text("word.csv", "x,y\n1,2\n3,abc\n"), ":3: column 'y': 'abc' is not a finite number");
  refused(write_text("nan.csv", "x,y\n1,nan\n"), "'nan' is not a finite number");
  refused(write_text("dup.csv", "x,x\n1,2\n"), "the column 'x' appears twice");
  refused(write_text("emptyname.csv", "x,,y\n1,2,3\n"), "an empty column name");
  refused(write_text("t.json", "x\n1\n"), "unknown table format (expected a .csv, .txt, .dat or .h5 file)");
  {
    io::H5File f = io::H5File::create(tmp("bad.h5"));
    f.write("x", {1, 2, 3}, {3});
    f.write("y", {1, 2}, {2});
    f.close();
    refused(tmp("bad.h5"), "dataset 'y' has 2 rows, 'x' 3");
  }
  {
    io::H5File f = io::H5File::create(tmp("bad2.h5"));
    f.write("x", {1, 2, 3, 4}, {2, 2});
    f.close();
    refused(tmp("bad2.h5"), "dataset 'x' has shape [2 x 2], expected a 1-D column");
  }
  {
    io::H5File f = io::H5File::create(tmp("bad3.h5"));
    f.write("x", {1, 2}, {2});
    f.set_attribute("/", "columns", "x,y");
    f.close();
    refused(tmp("bad3.h5"), "the attribute 'columns' names 'y', which is not a dataset");
  }
  EXPECT_THROW(data::write_table(tmp("out.json"), data::Table{}), InputError);
  EXPECT_THROW(data::write_table("/nonexistent_dir/t.csv", data::Table{{"x"}, {{1.0}}}), InputError);
}
