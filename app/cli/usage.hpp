#pragma once
/// The commands of `kpde` and their options, in one table: `kpde COMMAND --help` prints a
/// command's entry, `kpde help` the list, and cli::Args accepts exactly the options an
/// entry names (so the help can never miss a flag a command takes).
#include <string>
#include <vector>

namespace kpde::cli {

struct Option {
  std::string name;   ///< "--out"
  std::string value;  ///< the value's placeholder ("DIR"); empty for a flag
  std::string help;   ///< one line: what it does, its default
  bool repeatable = false;  ///< may be given several times (--set)
};

struct Command {
  std::string name;                     ///< "solve", "bench eval"
  std::vector<std::string> positional;  ///< placeholders of positional arguments ("CONFIG")
  std::string summary;                  ///< one line
  std::vector<Option> options;          ///< every option it takes (--threads included)
  std::string notes;                    ///< more text after the options; may be empty
};

/// Every command, in the order of `kpde help`.
const std::vector<Command>& commands();
/// The command called `name` ("solve", "bench pinn-step"); null when there is none.
const Command* find_command(const std::string& name);
/// `usage: kpde NAME POSITIONAL [options]`, the summary, every option with its help, notes.
std::string usage(const Command& c);
/// The overview of `kpde help`: one line per command.
std::string overview();

}  // namespace kpde::cli
