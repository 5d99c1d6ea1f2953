#pragma once
/// Strict YAML configuration files (docs/design.md 3.9).
///
/// A config::Document is one YAML file (plus `--set key.path=value` overrides) that the
/// loaders of the problem, model and training sections read through config::Node
/// handles. Every read is checked:
///  - a required key that is missing, a value of the wrong type (a string where a number
///    is expected, 1.5 where an integer is expected, a map where a list is expected), a
///    number out of its range, or an unknown name are kpde::InputError whose message
///    starts with "FILE:LINE:COLUMN: key.path: " (or "--set key.path: " for values that
///    came from the command line);
///  - after loading, Document::check_unused() reports the first key nobody asked for
///    ("unknown key 'lrr' (known here: type, steps, lr, schedule)"), so typos never pass
///    silently;
///  - a key read with a default that is absent gets the default written into the
///    document, so resolved_text() is the complete configuration that reruns the job.
/// Host code only; not thread-safe (load configs before any parallel work).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/error.hpp"

namespace kpde::config {

class Document;

/// A handle to one node of a Document (a map, a list or a scalar), with its key path.
class Node {
 public:
  /// The key path from the document root, e.g. "training.stages[1].lr" ("" = root).
  const std::string& path() const { return path_; }
  /// "FILE:LINE:COLUMN: path" (1-based line and column), or "--set path" when the node
  /// came from a command-line override; used as the prefix of every error.
  std::string where() const;
  /// Throws InputError with where() + ": " + message.
  [[noreturn]] void fail(const std::string& message) const;
  /// Runs f() and returns what it returns; an InputError it throws becomes fail() of its
  /// message, so the error names this node's file, line and key.
  template <class F>
  auto check(F&& f) const -> decltype(f()) {
    try {
      return f();
    } catch (const InputError& e) {
      fail(e.what());
    }
  }

  bool is_map() const { return yaml_.IsMap(); }
  bool is_list() const { return yaml_.IsSequence(); }
  bool is_scalar() const { return yaml_.IsScalar(); }
  bool is_null() const { return !yaml_.IsDefined() || yaml_.IsNull(); }

  /// Whether this map has `key` (marks the key as known). Throws when this is not a map.
  bool has(const std::string& key) const;
  /// Child `key` of this map; throws "missing required key 'key'" when absent.
  Node at(const std::string& key) const;
  /// Child `key` when present.
  std::optional<Node> find(const std::string& key) const;
  /// Child `key`, created as an empty map when absent (a section with all defaults).
  Node section(const std::string& key) const;
  /// Element i of this list. Precondition: is_list() and i < size().
  Node operator[](std::size_t i) const;
  /// Number of list elements (throws unless this is a list).
  std::size_t size() const;
  /// Keys of this map in file order (marks none of them as known).
  std::vector<std::string> keys() const;

  /// This scalar as a value. Throws (naming the expected type) when it is not one.
  double as_double() const;
  long as_long() const;
  bool as_bool() const;
  std::string as_string() const;
  /// A number or a list of numbers (a single number gives a list of one).
  std::vector<double> as_doubles() const;
  /// A string or a list of strings.
  std::vector<std::string> as_strings() const;
  /// A file path (a scalar), relative to the config file's directory unless absolute:
  /// returns it resolved, and writes the absolute path into the document, so that the
  /// resolved config (config.resolved.yaml) finds the file from any directory.
  std::string as_path() const;

  /// Required scalar children.
  double get_double(const std::string& key) const { return at(key).as_double(); }
  long get_long(const std::string& key) const { return at(key).as_long(); }
  std::string get_string(const std::string& key) const { return at(key).as_string(); }
  /// Optional scalar children: absent -> `fallback`, which is written into the document.
  double get_double(const std::string& key, double fallback) const;
  long get_long(const std::string& key, long fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  /// Integers in [lo, hi]: throws "must be >= lo" / "must be <= hi" otherwise. The
  /// default hi (10^9) keeps every count a valid int.
  static constexpr long kMaxCount = 1000000000L;
  long get_long_min(const std::string& key, long fallback, long lo, long hi = kMaxCount) const;
  /// A required integer in [lo, hi].
  long require_long(const std::string& key, long lo, long hi = kMaxCount) const;
  /// Numbers with a strict lower bound (> lo), e.g. positive sizes and rates.
  double get_double_above(const std::string& key, double fallback, double lo) const;
  /// A name from a fixed set (case-insensitive); returns the lower-case name. Throws
  /// listing the valid names.
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& choices) const;
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices) const;

  /// The underlying yaml-cpp node (for emitting).
  const YAML::Node& yaml() const { return yaml_; }

 private:
  friend class Document;
  Node(Document* doc, YAML::Node yaml, std::string path);
  Node child(const YAML::Node& yaml, const std::string& key) const;
  Document* doc_ = nullptr;
  YAML::Node yaml_;
  std::string path_;
};

/// A loaded configuration file with its overrides.
class Document {
 public:
  /// Reads and parses `path`. Throws InputError naming the file when it cannot be read,
  /// with FILE:LINE:COLUMN when it is not valid YAML, and when the top level is not a map.
  static Document load_file(const std::string& path);
  /// Parses YAML text; `name` stands for the file in messages; relative paths resolve
  /// against `directory` (default: the directory part of name).
  static Document load_string(const std::string& text, const std::string& name, const std::string& directory = "");

  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  ~Document();

  /// Applies one override "key.path=value" (value parsed as YAML: `3`, `1e-3`, `[1, 2]`,
  /// `{a: 1}`, `"text"`). Path components are map keys separated by '.', and list indices
  /// as `[i]` ("training.stages[0].steps"). Missing map keys are created; an index past
  /// the end of a list, or a path through a scalar, is an error.
  void apply_override(const std::string& assignment);

  /// The root map.
  Node root();
  /// The file name given to load_*.
  const std::string& file() const { return file_; }
  /// Directory of the file ("." for a bare name), for paths relative to the config.
  std::string directory() const;
  /// Resolves `path` relative to directory() unless it is absolute.
  std::string resolve_path(const std::string& path) const;

  /// Throws InputError for the first key (in file order, depth first) that no loader
  /// read: "FILE:L:C: a.b: unknown key 'x' (known here: k1, k2)". Call after loading.
  void check_unused() const;

  /// The document as YAML text, with every default that was read filled in and the
  /// overrides applied (what `kpde solve` writes as config.resolved.yaml).
  std::string resolved_text() const;

 private:
  friend class Node;
  Document();
  struct State;
  std::unique_ptr<State> state_;
  std::string file_;
  std::string directory_;  // "" = the directory part of file_
  void mark_known(const std::string& map_path, const std::string& key);
  bool is_override(const std::string& path) const;
};

/// The YAML text of a node (a section of a document, as the resolved config writes it).
std::string emit_yaml(const YAML::Node& node);
/// The text a resumed training run must match: the whole config without
/// `training.max_wall_s` and `output` (a resumed run may have another budget or folder).
std::string training_fingerprint(const YAML::Node& root);

}  // namespace kpde::config
