#pragma once
/// A small strict command-line reader: `--key value` and `--flag`; anything it
/// does not know is an InputError naming the argument (exit code 2).
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/usage.hpp"
#include "core/error.hpp"

namespace kpde::cli {

class Args {
 public:
  /// argv[first..] against the options and positional arguments of `command` (usage.hpp).
  Args(int argc, char** argv, int first, const Command& command)
      : Args(argc, argv, first, command.name, valued_of(command), flags_of(command), command.positional.size()) {}
  /// Same, by the command's name in the table.
  Args(int argc, char** argv, int first, const std::string& command)
      : Args(argc, argv, first, table_entry(command)) {}
  /// argv[first..] are options; `valued` take a value, `flags` do not.
  /// Up to max_positional arguments that do not start with "--" are kept in order
  /// (positional()); a valued option given several times keeps every value (all()).
  Args(int argc, char** argv, int first, const std::string& command, const std::set<std::string>& valued,
       const std::set<std::string>& flags, std::size_t max_positional = 0)
      : command_(command) {
    for (int i = first; i < argc; ++i) {
      const std::string a = argv[i];
      if (flags.count(a)) {
        values_[a] = "1";
      } else if (valued.count(a)) {
        if (i + 1 >= argc) throw InputError(command + ": option " + a + " needs a value");
        values_[a] = argv[++i];
        all_[a].push_back(values_[a]);
      } else if (a.rfind("--", 0) != 0 && positional_.size() < max_positional) {
        positional_.push_back(a);
      } else {
        throw InputError(command + ": unknown argument '" + a + "' (kpde " + command + " --help lists the options)");
      }
    }
  }
  bool has(const std::string& k) const { return values_.count(k) > 0; }
  /// Positional arguments in order.
  const std::vector<std::string>& positional() const { return positional_; }
  /// Every value of a repeatable option, in order (empty when absent).
  std::vector<std::string> all(const std::string& k) const {
    auto it = all_.find(k);
    return it == all_.end() ? std::vector<std::string>() : it->second;
  }
  std::string str(const std::string& k, const std::string& def) const {
    auto it = values_.find(k);
    return it == values_.end() ? def : it->second;
  }
  long integer(const std::string& k, long def, long min_value) const {
    auto it = values_.find(k);
    if (it == values_.end()) return def;
    std::size_t pos = 0;
    long v = 0;
    try {
      v = std::stol(it->second, &pos);
    } catch (...) {
      pos = 0;
    }
    if (pos != it->second.size() || it->second.empty())
      throw InputError(command_ + ": " + k + " expects an integer, got '" + it->second + "'");
    if (v < min_value)
      throw InputError(command_ + ": " + k + " must be >= " + std::to_string(min_value) + ", got " + it->second);
    return v;
  }
  /// A comma-separated list of integers >= min_value ("800,1600"); at least one.
  std::vector<long> integer_list(const std::string& k, const std::string& def, long min_value) const {
    auto it = values_.find(k);
    const std::string text = it == values_.end() ? def : it->second;
    std::vector<long> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
      std::size_t pos = 0;
      long v = 0;
      try {
        v = std::stol(item, &pos);
      } catch (...) {
        pos = 0;
      }
      if (item.empty() || pos != item.size() || v < min_value)
        throw InputError(command_ + ": " + k + " expects integers >= " + std::to_string(min_value) +
                         " separated by commas, got '" + text + "'");
      out.push_back(v);
    }
    if (out.empty()) throw InputError(command_ + ": " + k + " needs at least one value");
    return out;
  }
  double real(const std::string& k, double def) const {
    auto it = values_.find(k);
    if (it == values_.end()) return def;
    std::size_t pos = 0;
    double v = 0;
    try {
      v = std::stod(it->second, &pos);
    } catch (...) {
      pos = 0;
    }
    if (pos != it->second.size() || it->second.empty())
      throw InputError(command_ + ": " + k + " expects a number, got '" + it->second + "'");
    return v;
  }

 private:
  static const Command& table_entry(const std::string& name) {
    const Command* c = find_command(name);
    if (!c) throw Error("cli: no usage entry for the command '" + name + "'");
    return *c;
  }
  static std::set<std::string> valued_of(const Command& c) {
    std::set<std::string> s;
    for (const auto& o : c.options)
      if (!o.value.empty()) s.insert(o.name);
    return s;
  }
  static std::set<std::string> flags_of(const Command& c) {
    std::set<std::string> s;
    for (const auto& o : c.options)
      if (o.value.empty()) s.insert(o.name);
    return s;
  }
  std::string command_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> all_;
  std::vector<std::string> positional_;
};

}  // namespace kpde::cli
