#pragma once
/// A minimal JSON writer for metrics.json: nested objects of numbers, strings, bools and
/// arrays of numbers. Numbers print round-trippable (%.17g); NaN and +-inf print as null.
/// No parser, no arrays of objects yet.
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kpde::io {

/// One JSON value. Objects keep insertion order.
class JsonValue {
 public:
  /// The kinds a value can have.
  enum class Kind { null, number, string, boolean, number_array, object };
  /// null.
  JsonValue() = default;
  /// A number (non-finite -> null on output).
  JsonValue(double v) : kind_(Kind::number), number_(v) {}  // NOLINT implicit
  /// A number from an integer (exact up to 2^53).
  JsonValue(int v) : JsonValue(static_cast<double>(v)) {}  // NOLINT
  /// A number from a count.
  JsonValue(long v) : JsonValue(static_cast<double>(v)) {}  // NOLINT
  /// A number from a count.
  JsonValue(unsigned long v) : JsonValue(static_cast<double>(v)) {}  // NOLINT
  /// A string (escaped on output).
  JsonValue(std::string v) : kind_(Kind::string), string_(std::move(v)) {}  // NOLINT
  /// A string.
  JsonValue(const char* v) : JsonValue(std::string(v)) {}  // NOLINT
  /// A boolean.
  JsonValue(bool v) : kind_(Kind::boolean), boolean_(v) {}  // NOLINT
  /// An array of numbers.
  JsonValue(std::vector<double> v) : kind_(Kind::number_array), array_(std::move(v)) {}  // NOLINT
  /// An empty object.
  static JsonValue object();

  /// The kind of this value.
  Kind kind() const noexcept { return kind_; }
  /// Sets (or replaces) member `key` of an object value; returns the member.
  JsonValue& set(const std::string& key, JsonValue value);
  /// Member access that creates a null member (turning a null value into an object).
  JsonValue& operator[](const std::string& key);
  /// Member `key` of an object, or null when absent.
  const JsonValue* find(const std::string& key) const {
    for (const auto& m : members_)
      if (m.first == key) return &m.second;
    return nullptr;
  }
  /// The number of a number value (NaN for other kinds).
  double number() const { return kind_ == Kind::number ? number_ : std::numeric_limits<double>::quiet_NaN(); }
  /// The text of a string value ("" for other kinds).
  const std::string& text() const { return string_; }
  /// Serialises with two-space indentation (indent < 0: one line).
  std::string dump(int indent = 2) const;

 private:
  void dump_to(std::string& out, int indent, int depth) const;
  Kind kind_ = Kind::null;
  double number_ = 0;
  std::string string_;
  bool boolean_ = false;
  std::vector<double> array_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

/// Formats a number as JSON: %.17g for finite values, null otherwise.
std::string json_number(double v);
/// Quotes and escapes a string as JSON.
std::string json_string(const std::string& s);
/// Writes value.dump() plus a newline to `path` atomically (AtomicFile).
void write_json(const std::string& path, const JsonValue& value);

}  // namespace kpde::io
