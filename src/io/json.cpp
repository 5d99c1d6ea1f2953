#include "io/json.hpp"

#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "io/atomic_file.hpp"

namespace kpde::io {

JsonValue JsonValue::object() {
  JsonValue v;
  v.kind_ = Kind::object;
  return v;
}

JsonValue& JsonValue::set(const std::string& key, JsonValue value) {
  return (*this)[key] = std::move(value);
}

JsonValue& JsonValue::operator[](const std::string& key) {
  if (kind_ == Kind::null) kind_ = Kind::object;
  if (kind_ != Kind::object) throw Error("json: member '" + key + "' on a non-object value");
  for (auto& m : members_)
    if (m.first == key) return m.second;
  members_.emplace_back(key, JsonValue());
  return members_.back().second;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void JsonValue::dump_to(std::string& out, int indent, int depth) const {
  const auto newline = [&](int d) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * d), ' ');
  };
  switch (kind_) {
    case Kind::null: out += "null"; break;
    case Kind::number: out += json_number(number_); break;
    case Kind::string: out += json_string(string_); break;
    case Kind::boolean: out += boolean_ ? "true" : "false"; break;
    case Kind::number_array:
      out += '[';
      for (std::size_t i = 0; i < array_.size(); ++i) {
        if (i) out += indent < 0 ? "," : ", ";
        out += json_number(array_[i]);
      }
      out += ']';
      break;
    case Kind::object:
      out += '{';
      for (std::size_t i = 0; i < members_.size(); ++i) {
        if (i) out += ',';
        newline(depth + 1);
        out += json_string(members_[i].first);
        out += indent < 0 ? ":" : ": ";
        members_[i].second.dump_to(out, indent, depth + 1);
      }
      if (!members_.empty()) newline(depth);
      out += '}';
      break;
  }
}

std::string JsonValue::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

void write_json(const std::string& path, const JsonValue& value) {
  write_file_atomically(path, value.dump() + "\n");
}

}  // namespace kpde::io
