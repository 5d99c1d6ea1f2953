// config::Document and config::Node (src/config/config.hpp): typed getters, ranges,
// missing and unknown keys, --set overrides, the resolved text and bad YAML. Every
// error message must start with "FILE:LINE:COLUMN: key.path: " (or "--set key.path: "),
// and the expected positions are computed from the YAML text, not copied from output.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "config/config.hpp"
#include "support/input_checks.hpp"

using kpde::config::Document;
using kpde::config::Node;
using kpde::test::expect_input_error;
using kpde::test::expect_starts_with;
using kpde::test::input_error;
using kpde::test::line_of;
using kpde::test::loc;

namespace {

const std::string kText =
    "problem:\n"
    "  name: demo\n"
    "  size: 12\n"
    "  ratio: 0.25\n"
    "  flag: yes\n"
    "  word: hello\n"
    "  list: [1, 2.5, 3]\n"
    "  map: {a: 1}\n"
    "  big: 1e999\n"
    "  notnum: nan\n"
    "  half: 1.5\n"
    "  kilo: 1e3\n"
    "training:\n"
    "  stages:\n"
    "    - {type: adam, steps: 10, lr: 1.0e-3}\n"
    "    - type: LBFGS\n"
    "      steps: 20\n";

Document doc() { return Document::load_string(kText, "cfg.yaml"); }

}  // namespace

TEST(Config, TypedGettersReadTheValues) {
  Document d = doc();
  const Node p = d.root().at("problem");
  EXPECT_EQ(p.path(), "problem");
  EXPECT_EQ(p.get_string("name"), "demo");
  EXPECT_EQ(p.get_long("size"), 12);
  EXPECT_EQ(p.get_long("kilo"), 1000);
  EXPECT_DOUBLE_EQ(p.get_double("ratio"), 0.25);
  EXPECT_DOUBLE_EQ(p.get_double("size"), 12.0);  // an integer is a number
  EXPECT_TRUE(p.get_bool("flag", false));
  EXPECT_EQ(p.at("list").as_doubles(), (std::vector<double>{1, 2.5, 3}));
  EXPECT_EQ(p.at("ratio").as_doubles(), (std::vector<double>{0.25}));  // a number is a list of one
  EXPECT_EQ(p.at("word").as_strings(), (std::vector<std::string>{"hello"}));
  EXPECT_TRUE(p.at("map").is_map());
  EXPECT_TRUE(p.at("list").is_list());
  EXPECT_EQ(p.at("list").size(), 3u);
  EXPECT_EQ(p.at("list")[1].path(), "problem.list[1]");
  EXPECT_EQ(p.keys().front(), "name");  // file order
  EXPECT_EQ(p.keys().back(), "kilo");
  const Node stages = d.root().at("training").at("stages");
  EXPECT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].get_long("steps"), 10);
  EXPECT_EQ(stages[1].get_choice("type", {"adam", "lbfgs"}), "lbfgs");  // case-insensitive
  EXPECT_FALSE(p.find("absent").has_value());
  EXPECT_FALSE(p.has("absent"));
}

TEST(Config, WrongTypesNameFileLineColumnAndKey) {
  Document d = doc();
  const Node p = d.root().at("problem");
  expect_starts_with(input_error([&] { p.get_double("word"); }),
                     "cfg.yaml:" + loc(kText, "hello") + ": problem.word: expected a number, got 'hello'");
  expect_starts_with(input_error([&] { p.get_long("half"); }),
                     "cfg.yaml:" + loc(kText, "1.5") + ": problem.half: expected an integer, got '1.5'");
  expect_starts_with(input_error([&] { p.get_long("ratio"); }), "cfg.yaml:" + loc(kText, "0.25") + ": problem.ratio:");
  expect_starts_with(input_error([&] { p.get_bool("word", true); }),
                     "cfg.yaml:" + loc(kText, "hello") + ": problem.word: expected true or false");
  // a list where a number is expected, a map where a list is expected, and so on
  expect_starts_with(input_error([&] { p.get_double("list"); }),
                     "cfg.yaml:" + loc(kText, "[1, 2.5") + ": problem.list: expected a number, got a list");
  expect_starts_with(input_error([&] { p.at("map").size(); }),
                     "cfg.yaml:" + loc(kText, "{a: 1}") + ": problem.map: expected a list, got a map");
  expect_starts_with(input_error([&] { p.get_string("map"); }), "cfg.yaml:" + loc(kText, "{a: 1}") + ": problem.map:");
  expect_starts_with(input_error([&] { p.at("map").as_doubles(); }), "cfg.yaml:" + loc(kText, "{a: 1}") + ": problem.map:");
  expect_starts_with(input_error([&] { p.at("word").has("x"); }),
                     "cfg.yaml:" + loc(kText, "hello") + ": problem.word: expected a map");
  expect_starts_with(input_error([&] { p.at("word").section("x"); }), "cfg.yaml:" + loc(kText, "hello") + ": problem.word:");
  // numbers that do not fit a double, and NaN, are refused
  expect_starts_with(input_error([&] { p.get_double("big"); }), "cfg.yaml:" + loc(kText, "1e999") + ": problem.big:");
  expect_starts_with(input_error([&] { p.get_double("notnum"); }),
                     "cfg.yaml:" + loc(kText, "nan") + ": problem.notnum: expected a finite number");
  // an element of a flow list inside a list of stages
  const Node stage0 = d.root().at("training").at("stages")[0];
  expect_starts_with(input_error([&] { stage0.get_choice("type", {"lbfgs", "least_squares"}); }),
                     "cfg.yaml:" + loc(kText, "adam") + ": training.stages[0].type: unknown value 'adam' "
                     "(expected one of: lbfgs, least_squares)");
}

TEST(Config, RangesAreChecked) {
  Document d = doc();
  const Node p = d.root().at("problem");
  EXPECT_EQ(p.require_long("size", 12), 12);  // the bound itself is allowed
  expect_starts_with(input_error([&] { p.require_long("size", 13); }),
                     "cfg.yaml:" + loc(kText, "12") + ": problem.size: must be >= 13, got 12");
  expect_starts_with(input_error([&] { p.get_long_min("size", 1, 100); }),
                     "cfg.yaml:" + loc(kText, "12") + ": problem.size: must be >= 100, got 12");
  expect_starts_with(input_error([&] { p.get_double_above("ratio", 1.0, 0.25); }),
                     "cfg.yaml:" + loc(kText, "0.25") + ": problem.ratio: must be > 0.25, got 0.25");
  EXPECT_DOUBLE_EQ(p.get_double_above("ratio", 1.0, 0.0), 0.25);
  // a default below the bound is refused too (a caller's bug shows, it is not written silently)
  EXPECT_NE(input_error([&] { p.get_long_min("absent_size", 0, 1); }).find("must be >= 1"), std::string::npos);
}

TEST(Config, MissingRequiredKeysNameTheEnclosingMap) {
  Document d = doc();
  const Node p = d.root().at("problem");
  // the map's position is its first key
  expect_starts_with(input_error([&] { p.at("domain"); }),
                     "cfg.yaml:" + loc(kText, "name: demo") + ": problem: missing required key 'domain'");
  const Node stage1 = d.root().at("training").at("stages")[1];
  const std::string msg = input_error([&] { stage1.get_double("lr"); });
  expect_starts_with(msg, "cfg.yaml:" + line_of(kText, "type: LBFGS"));
  EXPECT_NE(msg.find("training.stages[1]: missing required key 'lr'"), std::string::npos) << msg;
  expect_starts_with(input_error([&] { d.root().at("model"); }), "cfg.yaml:1:1: (top level): missing required key 'model'");
}

TEST(Config, UnknownKeysListTheKnownOnes) {
  const std::string text =
      "training:\n"
      "  stages:\n"
      "    - type: adam\n"
      "      steps: 10\n"
      "      lrr: 0.1\n";
  Document d = Document::load_string(text, "cfg.yaml");
  const Node st = d.root().at("training").at("stages")[0];
  st.get_string("type");
  st.get_long("steps");
  st.get_double("lr", 1e-3);
  const std::string msg = input_error([&] { d.check_unused(); });
  expect_starts_with(msg, "cfg.yaml:" + loc(text, "lrr") + ": training.stages[0]: unknown key 'lrr'");
  EXPECT_NE(msg.find("(known here: lr, steps, type)"), std::string::npos) << msg;

  // an unknown section at the top level; has() of an absent key makes it known
  const std::string text2 = "problem: {a: 1}\nouptut: {n: 3}\n";
  Document d2 = Document::load_string(text2, "cfg.yaml");
  d2.root().at("problem").get_long("a");
  d2.root().has("output");
  expect_starts_with(input_error([&] { d2.check_unused(); }),
                     "cfg.yaml:" + loc(text2, "ouptut") + ": (top level): unknown key 'ouptut' (known here: output, problem)");

  // a map nobody looked into reports its first key, with no known keys
  const std::string text3 = "problem: {a: 1}\nextra:\n  b: 1\n";
  Document d3 = Document::load_string(text3, "cfg.yaml");
  d3.root().at("problem").get_long("a");
  d3.root().find("extra");  // looked at the section, not at its keys
  const std::string msg3 = input_error([&] { d3.check_unused(); });
  expect_starts_with(msg3, "cfg.yaml:" + loc(text3, "b: 1") + ": extra: unknown key 'b'");
  EXPECT_NE(msg3.find("known here: none"), std::string::npos) << msg3;

  // everything read: no error
  Document d4 = Document::load_string("problem: {a: 1, b: [1, {c: 2}]}\n", "cfg.yaml");
  const Node p = d4.root().at("problem");
  p.get_long("a");
  p.at("b")[1].get_long("c");
  EXPECT_NO_THROW(d4.check_unused());
}

TEST(Config, SetOverridesWithListIndices) {
  Document d = doc();
  d.apply_override("training.stages[1].steps=50");
  d.apply_override("training.stages[0].lr=0.5");
  d.apply_override("problem.list=[4, 5]");
  d.apply_override("output.dir=out/x");          // missing maps are created
  d.apply_override("problem.extra.deep=\"7\"");  // nested, with a quoted value
  Node root = d.root();
  const Node stages = root.at("training").at("stages");
  EXPECT_EQ(stages[1].get_long("steps"), 50);
  EXPECT_DOUBLE_EQ(stages[0].get_double("lr"), 0.5);
  EXPECT_EQ(stages[0].get_long("steps"), 10);  // neighbours untouched
  EXPECT_EQ(root.at("problem").at("list").as_doubles(), (std::vector<double>{4, 5}));
  EXPECT_EQ(root.at("output").get_string("dir"), "out/x");
  EXPECT_EQ(root.at("problem").at("extra").get_string("deep"), "7");
  // values from the command line are marked "--set", not with a file position
  EXPECT_EQ(stages[1].at("steps").where(), "--set training.stages[1].steps");
  EXPECT_EQ(root.at("output").at("dir").where(), "--set output.dir");
  EXPECT_EQ(root.at("problem").at("size").where(), "cfg.yaml:" + loc(kText, "12") + ": problem.size");

  // a bad value given with --set: the error names the override
  Document e = doc();
  e.apply_override("problem.size=abc");
  expect_starts_with(input_error([&] { e.root().at("problem").get_long("size"); }),
                     "--set problem.size: expected an integer, got 'abc'");
  // an unknown key given with --set
  Document u = doc();
  u.apply_override("training.stages[0].lrr=1");
  const Node st = u.root().at("training").at("stages")[0];
  st.get_string("type");
  st.get_long("steps");
  st.get_double("lr");
  Node r = u.root();
  for (const char* k : {"name", "size", "ratio", "flag", "word", "list", "map", "big", "notnum", "half", "kilo"})
    r.at("problem").has(k);
  r.at("problem").at("map").has("a");
  u.root().at("training").at("stages")[1].get_string("type");
  u.root().at("training").at("stages")[1].get_long("steps");
  expect_starts_with(input_error([&] { u.check_unused(); }), "--set training.stages[0].lrr: unknown key 'lrr'");
}

TEST(Config, BadSetPathsAreErrors) {
  Document d = doc();
  expect_input_error([&] { d.apply_override("training.stages[2].steps=1"); },
                     {"--set training.stages[2].steps=1", "'training.stages' is not a list with an element 2"});
  expect_input_error([&] { d.apply_override("problem.name.first=1"); }, {"--set problem.name.first=1", "'problem.name' is not a map"});
  expect_input_error([&] { d.apply_override("problem.size[0]=1"); }, {"--set problem.size[0]=1", "not a list"});
  expect_input_error([&] { d.apply_override("problem.size"); }, {"--set problem.size", "expected key.path=value"});
  expect_input_error([&] { d.apply_override("=3"); }, {"--set =3", "expected key.path=value"});
  expect_input_error([&] { d.apply_override("training.stages[x].lr=1"); }, {"list index 'x'"});
  expect_input_error([&] { d.apply_override("training.stages[-1].lr=1"); }, {"list index '-1'"});
  expect_input_error([&] { d.apply_override("training.stages[0.lr=1"); }, {"missing ']'"});
  expect_input_error([&] { d.apply_override("problem..size=1"); }, {"--set problem..size=1", "empty key"});
  expect_input_error([&] { d.apply_override("problem.size=[1,"); }, {"--set problem.size=[1,", "not valid YAML"});
  // nothing above changed the document
  EXPECT_EQ(d.root().at("problem").get_long("size"), 12);
  EXPECT_EQ(d.root().at("training").at("stages").size(), 2u);
}

TEST(Config, ResolvedTextHoldsDefaultsAndOverrides) {
  Document d = doc();
  d.apply_override("training.stages[1].steps=77");
  Node root = d.root();
  const Node interior = root.at("training").section("interior");  // absent: created
  EXPECT_EQ(interior.get_long("n", 4096), 4096);
  EXPECT_EQ(interior.get_string("method", "sobol"), "sobol");
  EXPECT_EQ(root.section("model").get_choice("type", "mlp", {"mlp", "modified_mlp"}), "mlp");
  EXPECT_DOUBLE_EQ(root.at("training").at("stages")[0].get_double("clip_norm", 0.5), 0.5);
  EXPECT_TRUE(root.at("training").get_bool("verbose", true));
  // a present key keeps its value, not the default
  EXPECT_EQ(root.at("problem").get_long("size", 99), 12);
  const std::string text = d.resolved_text();
  // the resolved text is a complete config: reloading it gives every value back
  Document again = Document::load_string(text, "resolved.yaml");
  Node r = again.root();
  EXPECT_EQ(r.at("training").at("interior").get_long("n"), 4096);
  EXPECT_EQ(r.at("training").at("interior").get_string("method"), "sobol");
  EXPECT_EQ(r.at("model").get_string("type"), "mlp");
  EXPECT_DOUBLE_EQ(r.at("training").at("stages")[0].get_double("clip_norm"), 0.5);
  EXPECT_DOUBLE_EQ(r.at("training").at("stages")[0].get_double("lr"), 1e-3);
  EXPECT_TRUE(r.at("training").get_bool("verbose", false));
  EXPECT_EQ(r.at("training").at("stages")[1].get_long("steps"), 77);
  EXPECT_EQ(r.at("problem").get_long("size"), 12);
  EXPECT_EQ(r.at("problem").get_string("word"), "hello");
  EXPECT_EQ(r.at("problem").at("list").as_doubles(), (std::vector<double>{1, 2.5, 3}));
  // a default that is a non-representable-in-short-form double survives exactly
  Document dd = doc();
  const double third = 1.0 / 3.0;
  dd.root().section("extra").get_double("third", third);
  Document back = Document::load_string(dd.resolved_text(), "resolved.yaml");
  EXPECT_EQ(back.root().at("extra").get_double("third"), third);
}

TEST(Config, BadYamlNamesLineAndColumn) {
  // line 3 holds a second ':' on one line, an illegal map value
  const std::string bad = "problem:\n  name: a\n  size: 3: 4\n";
  const std::string msg = input_error([&] { Document::load_string(bad, "cfg.yaml"); });
  expect_starts_with(msg, "cfg.yaml:3:");
  EXPECT_NE(msg.find("not valid YAML"), std::string::npos) << msg;
  // an unclosed flow list that the next key runs into
  const std::string bad2 = "a: 1\nb: [1, 2\nc: 3\n";
  const std::string msg2 = input_error([&] { Document::load_string(bad2, "cfg.yaml"); });
  EXPECT_EQ(msg2.rfind("cfg.yaml:", 0), 0u) << msg2;
  EXPECT_NE(msg2.find("not valid YAML"), std::string::npos) << msg2;
  // a tab used as indentation
  const std::string msg3 = input_error([&] { Document::load_string("a:\n\tb: 1\n", "cfg.yaml"); });
  EXPECT_EQ(msg3.rfind("cfg.yaml:2:", 0), 0u) << msg3;
  // empty documents and top levels that are not maps
  expect_input_error([] { Document::load_string("", "cfg.yaml"); }, {"cfg.yaml", "empty"});
  expect_input_error([] { Document::load_string("# only a comment\n", "cfg.yaml"); }, {"cfg.yaml", "empty"});
  expect_input_error([] { Document::load_string("- a\n- b\n", "cfg.yaml"); }, {"cfg.yaml", "top level must be a map"});
  expect_input_error([] { Document::load_string("just text\n", "cfg.yaml"); }, {"cfg.yaml", "top level must be a map"});
}

TEST(Config, FilesAndRelativePaths) {
  const auto dir = std::filesystem::temp_directory_path() / ("kpde_test_config_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "cfg.yaml").string();
  {
    std::ofstream out(path);
    out << "problem:\n  size: oops\n";
  }
  Document d = Document::load_file(path);
  EXPECT_EQ(d.file(), path);
  EXPECT_EQ(d.directory(), dir.string());
  EXPECT_EQ(d.resolve_path("grid.h5"), (dir / "grid.h5").string());
  EXPECT_EQ(d.resolve_path("/abs/grid.h5"), "/abs/grid.h5");
  expect_starts_with(input_error([&] { d.root().at("problem").get_long("size"); }), path + ":2:9: problem.size:");
  EXPECT_EQ(Document::load_string("a: 1\n", "cfg.yaml").directory(), ".");
  const std::string missing = (dir / "missing.yaml").string();
  expect_input_error([&] { Document::load_file(missing); }, {missing, "cannot read"});
  std::filesystem::remove_all(dir);
}

TEST(ConfigNode, CheckNamesTheNodeOfAnInputError) {
  Document d = Document::load_string("a:\n  b: 3\n", "cfg.yaml");
  const Node b = d.root().at("a").at("b");
  EXPECT_EQ(b.check([] { return 7; }), 7);  // passes the value through
  const std::string msg = input_error([&] { b.check([]() -> int { throw kpde::InputError("must be even"); }); });
  EXPECT_EQ(msg, "cfg.yaml:2:6: a.b: must be even");
  // other exceptions pass unchanged
  EXPECT_THROW(b.check([] { throw kpde::Error("runtime"); }), kpde::Error);
  try {
    b.check([] { throw kpde::Error("runtime"); });
  } catch (const kpde::InputError&) {
    ADD_FAILURE() << "a runtime error became an input error";
  } catch (const kpde::Error& e) {
    EXPECT_STREQ(e.what(), "runtime");
  }
}
