#include "config/config.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <functional>
#include <fstream>
#include <sstream>

#include "core/strings.hpp"

namespace kpde::config {

struct Document::State {
  YAML::Node root;
  std::map<std::string, std::set<std::string>> known;  // map path -> keys read
  std::set<std::string> overrides;                     // paths set by apply_override
};

namespace {

std::string kind_name(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsMap()) return "a map";
  if (n.IsSequence()) return "a list";
  return "'" + n.Scalar() + "'";
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& k : s) out += (out.empty() ? "" : ", ") + k;
  return out;
}

std::string join(const std::vector<std::string>& s) {
  std::string out;
  for (const auto& k : s) out += (out.empty() ? "" : ", ") + k;
  return out;
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

/// Splits "a.b[2].c" into {"a", "b", "[2]", "c"}.
std::vector<std::string> split_path(const std::string& path, const std::string& assignment) {
  std::vector<std::string> parts;
  std::string cur;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char ch = path[i];
    if (ch == '.') {
      if (cur.empty() && (parts.empty() || parts.back()[0] != '['))
        throw InputError("--set " + assignment + ": empty key in the path");
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else if (ch == '[') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
      const auto close = path.find(']', i);
      if (close == std::string::npos) throw InputError("--set " + assignment + ": missing ']' in the path");
      const std::string idx = path.substr(i + 1, close - i - 1);
      if (idx.empty() || idx.find_first_not_of("0123456789") != std::string::npos)
        throw InputError("--set " + assignment + ": list index '" + idx + "' is not a non-negative integer");
      parts.push_back("[" + idx + "]");
      i = close;
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  if (parts.empty()) throw InputError("--set " + assignment + ": empty key path");
  return parts;
}

}  // namespace

// ---- Node ---------------------------------------------------------------------------

Node::Node(Document* doc, YAML::Node yaml, std::string path)
    : doc_(doc), yaml_(std::move(yaml)), path_(std::move(path)) {}

std::string Node::where() const {
  if (doc_->is_override(path_)) return "--set " + (path_.empty() ? std::string("(root)") : path_);
  const YAML::Mark m = yaml_.IsDefined() ? yaml_.Mark() : YAML::Mark::null_mark();
  std::string out = doc_->file();
  if (!m.is_null()) out += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  return out + ": " + (path_.empty() ? std::string("(top level)") : path_);
}

void Node::fail(const std::string& message) const { throw InputError(where() + ": " + message); }

Node Node::child(const YAML::Node& yaml, const std::string& key) const {
  return Node(doc_, yaml, child_path(path_, key));
}

bool Node::has(const std::string& key) const {
  if (!is_map()) {
    if (is_null()) return false;
    fail("expected a map (key: value pairs), got " + kind_name(yaml_));
  }
  doc_->mark_known(path_, key);
  const YAML::Node& c = yaml_;
  return c[key].IsDefined() && !c[key].IsNull();
}

std::optional<Node> Node::find(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  const YAML::Node& c = yaml_;
  return child(c[key], key);
}

Node Node::at(const std::string& key) const {
  auto n = find(key);
  if (!n) fail("missing required key '" + key + "'");
  return *n;
}

Node Node::section(const std::string& key) const {
  if (auto n = find(key)) {
    if (!n->is_map()) n->fail("expected a map (key: value pairs), got " + kind_name(n->yaml_));
    return *n;
  }
  YAML::Node fresh(YAML::NodeType::Map);
  if (!is_map()) fail("expected a map (key: value pairs), got " + kind_name(yaml_));
  YAML::Node self = yaml_;
  self[key] = fresh;
  const YAML::Node& c = yaml_;
  return child(c[key], key);
}

Node Node::operator[](std::size_t i) const {
  KPDE_ASSERT(is_list() && i < yaml_.size(), "config list index out of range");
  const YAML::Node& c = yaml_;
  return Node(doc_, c[i], path_ + "[" + std::to_string(i) + "]");
}

std::size_t Node::size() const {
  if (!is_list()) fail("expected a list, got " + kind_name(yaml_));
  return yaml_.size();
}

std::vector<std::string> Node::keys() const {
  std::vector<std::string> out;
  if (!is_map()) return out;
  for (const auto& kv : yaml_) {
    if (!kv.first.IsScalar()) Node(doc_, kv.first, path_).fail("a key must be a plain name, not a list or a map");
    out.push_back(kv.first.Scalar());
  }
  return out;
}

double Node::as_double() const {
  if (!is_scalar()) fail("expected a number, got " + kind_name(yaml_));
  const std::string& s = yaml_.Scalar();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE)
    fail("expected a number, got '" + s + "'");
  if (!std::isfinite(v)) fail("expected a finite number, got '" + s + "'");
  return v;
}

long Node::as_long() const {
  if (!is_scalar()) fail("expected an integer, got " + kind_name(yaml_));
  const std::string& s = yaml_.Scalar();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v != std::floor(v) ||
      std::abs(v) > 9.0e15)
    fail("expected an integer, got '" + s + "'");
  return static_cast<long>(v);
}

bool Node::as_bool() const {
  if (!is_scalar()) fail("expected true or false, got " + kind_name(yaml_));
  const std::string s = to_lower(yaml_.Scalar());
  if (s == "true" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "no" || s == "off") return false;
  fail("expected true or false, got '" + yaml_.Scalar() + "'");
}

std::string Node::as_string() const {
  if (!is_scalar()) fail("expected a text value, got " + kind_name(yaml_));
  return yaml_.Scalar();
}

std::vector<double> Node::as_doubles() const {
  if (is_scalar()) return {as_double()};
  if (!is_list()) fail("expected a number or a list of numbers, got " + kind_name(yaml_));
  std::vector<double> out;
  for (std::size_t i = 0; i < size(); ++i) out.push_back((*this)[i].as_double());
  return out;
}

std::vector<std::string> Node::as_strings() const {
  if (is_scalar()) return {as_string()};
  if (!is_list()) fail("expected a name or a list of names, got " + kind_name(yaml_));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < size(); ++i) out.push_back((*this)[i].as_string());
  return out;
}

std::string Node::as_path() const {
  std::string path = doc_->resolve_path(as_string());
  if (!path.empty() && path[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd)) path = std::string(cwd) + "/" + path;
  }
  YAML::Node self = yaml_;  // the same node of the document
  self = path;
  return path;
}

namespace {
/// Writes `fallback` under `key` of the map `self` (the default becomes part of the
/// resolved document) and returns it.
template <class V>
V store_default(const Node& n, YAML::Node self, const std::string& key, const V& fallback) {
  if (!self.IsMap()) n.fail("expected a map (key: value pairs), got " + kind_name(self));
  self[key] = fallback;
  return fallback;
}
}  // namespace

double Node::get_double(const std::string& key, double fallback) const {
  if (auto n = find(key)) return n->as_double();
  return store_default(*this, yaml_, key, fallback);
}

long Node::get_long(const std::string& key, long fallback) const {
  if (auto n = find(key)) return n->as_long();
  return store_default(*this, yaml_, key, fallback);
}

bool Node::get_bool(const std::string& key, bool fallback) const {
  if (auto n = find(key)) return n->as_bool();
  return store_default(*this, yaml_, key, fallback);
}

std::string Node::get_string(const std::string& key, const std::string& fallback) const {
  if (auto n = find(key)) return n->as_string();
  return store_default(*this, yaml_, key, fallback);
}

long Node::get_long_min(const std::string& key, long fallback, long lo, long hi) const {
  const long v = get_long(key, fallback);
  if (v < lo) at(key).fail("must be >= " + std::to_string(lo) + ", got " + std::to_string(v));
  if (v > hi) at(key).fail("must be <= " + std::to_string(hi) + ", got " + std::to_string(v));
  return v;
}

long Node::require_long(const std::string& key, long lo, long hi) const {
  const Node n = at(key);
  const long v = n.as_long();
  if (v < lo) n.fail("must be >= " + std::to_string(lo) + ", got " + std::to_string(v));
  if (v > hi) n.fail("must be <= " + std::to_string(hi) + ", got " + std::to_string(v));
  return v;
}

double Node::get_double_above(const std::string& key, double fallback, double lo) const {
  const double v = get_double(key, fallback);
  if (!(v > lo)) {
    std::ostringstream s;
    s << "must be > " << lo << ", got " << v;
    at(key).fail(s.str());
  }
  return v;
}

std::string Node::get_choice(const std::string& key, const std::vector<std::string>& choices) const {
  const Node n = at(key);
  const std::string v = to_lower(n.as_string());
  for (const auto& c : choices)
    if (v == c) return v;
  n.fail("unknown value '" + n.as_string() + "' (expected one of: " + join(choices) + ")");
}

std::string Node::get_choice(const std::string& key, const std::string& fallback,
                             const std::vector<std::string>& choices) const {
  if (!has(key)) {
    get_string(key, fallback);
    return fallback;
  }
  return get_choice(key, choices);
}

// ---- Document -----------------------------------------------------------------------

Document::Document() : state_(std::make_unique<State>()) {}
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

Document Document::load_string(const std::string& text, const std::string& name, const std::string& directory) {
  Document doc;
  doc.file_ = name;
  doc.directory_ = directory;
  try {
    doc.state_->root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    const auto& m = e.mark;
    throw InputError(name + (m.is_null() ? std::string() : ":" + std::to_string(m.line + 1) + ":" +
                                                             std::to_string(m.column + 1)) +
                     ": not valid YAML: " + e.msg);
  }
  if (!doc.state_->root.IsDefined() || doc.state_->root.IsNull())
    throw InputError(name + ": the configuration is empty (expected a map of sections)");
  if (!doc.state_->root.IsMap())
    throw InputError(name + ": the top level must be a map of sections (problem:, model:, training:, ...)");
  return doc;
}

Document Document::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read the configuration file (missing or not readable)");
  std::ostringstream text;
  text << in.rdbuf();
  return load_string(text.str(), path);
}

Node Document::root() { return Node(this, state_->root, ""); }

std::string Document::directory() const {
  if (!directory_.empty()) return directory_;
  const auto slash = file_.find_last_of('/');
  return slash == std::string::npos ? "." : file_.substr(0, slash);
}

std::string Document::resolve_path(const std::string& path) const {
  if (path.empty() || path[0] == '/') return path;
  return directory() + "/" + path;
}

void Document::mark_known(const std::string& map_path, const std::string& key) {
  state_->known[map_path].insert(key);
}

bool Document::is_override(const std::string& path) const {
  for (const auto& o : state_->overrides)
    if (path == o || (path.size() > o.size() && path.compare(0, o.size(), o) == 0 &&
                      (path[o.size()] == '.' || path[o.size()] == '[')))
      return true;
  return false;
}

void Document::apply_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set " + assignment + ": expected key.path=value");
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError("--set " + assignment + ": the value is not valid YAML: " + e.msg);
  }
  if (!value.IsDefined()) value = YAML::Node(YAML::NodeType::Null);
  const auto parts = split_path(path, assignment);
  YAML::Node cur = state_->root;
  std::string canonical;
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const std::string& p = parts[k];
    const bool last = k + 1 == parts.size();
    if (p[0] == '[') {
      const std::string digits = p.substr(1, p.size() - 2);
      if (digits.size() > 9)
        throw InputError("--set " + assignment + ": list index " + digits + " is out of range");
      const std::size_t i = std::stoul(digits);
      if (!cur.IsSequence() || i >= cur.size())
        throw InputError("--set " + assignment + ": '" + canonical + "' is not a list with an element " +
                         std::to_string(i));
      canonical += p;
      if (last) {
        cur[i] = value;
      } else {
        YAML::Node next = cur[i];
        cur.reset(next);
      }
    } else {
      if (cur.IsNull()) cur = YAML::Node(YAML::NodeType::Map);
      if (!cur.IsMap())
        throw InputError("--set " + assignment + ": '" + canonical + "' is not a map, cannot set a key in it");
      canonical = child_path(canonical, p);
      if (last) {
        cur[p] = value;
      } else {
        if (!cur[p].IsDefined() || cur[p].IsNull()) cur[p] = YAML::Node(YAML::NodeType::Map);
        YAML::Node next = cur[p];
        cur.reset(next);
      }
    }
  }
  state_->overrides.insert(canonical);
}

namespace {

void check_tree(const Document& doc, const YAML::Node& node, const std::string& path,
                const std::map<std::string, std::set<std::string>>& known, const std::string& file,
                const std::function<bool(const std::string&)>& is_override) {
  if (node.IsMap()) {
    const auto it = known.find(path);
    for (const auto& kv : node) {
      const YAML::Mark m = kv.first.Mark();
      if (!kv.first.IsScalar())
        throw InputError(file + (m.is_null() ? std::string() : ":" + std::to_string(m.line + 1) + ":" +
                                                                  std::to_string(m.column + 1)) +
                         ": " + (path.empty() ? std::string("(top level)") : path) +
                         ": a key must be a plain name, not a list or a map");
      const std::string key = kv.first.Scalar();
      if (it == known.end() || !it->second.count(key)) {
        const std::string p = child_path(path, key);
        std::string where = is_override(p) ? "--set " + p
                                           : file + (m.is_null() ? std::string()
                                                                 : ":" + std::to_string(m.line + 1) + ":" +
                                                                       std::to_string(m.column + 1)) +
                                                 ": " + (path.empty() ? std::string("(top level)") : path);
        std::string known_here = it == known.end() ? std::string("none") : join(it->second);
        throw InputError(where + ": unknown key '" + key + "' (known here: " + known_here + ")");
      }
      check_tree(doc, kv.second, child_path(path, key), known, file, is_override);
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      check_tree(doc, node[i], path + "[" + std::to_string(i) + "]", known, file, is_override);
  }
}

}  // namespace

void Document::check_unused() const {
  check_tree(*this, state_->root, "", state_->known, file_,
             [this](const std::string& p) { return is_override(p); });
}

std::string emit_yaml(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return out.c_str();
}

std::string training_fingerprint(const YAML::Node& root) {
  YAML::Node fingerprinted = YAML::Clone(root);
  if (fingerprinted["training"]) fingerprinted["training"].remove("max_wall_s");
  if (fingerprinted["output"]) fingerprinted.remove("output");
  return emit_yaml(fingerprinted);
}

std::string Document::resolved_text() const { return emit_yaml(state_->root) + "\n"; }

}  // namespace kpde::config
