// The aiconform command line: every subcommand is one row of the table in cli.cc.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "common/report.h"

namespace aic::cli {

// Options every subcommand understands.
struct GlobalOptions {
  std::string log_level = "warn";
  std::string log_file;
  std::string output = "table";  // "table" or "json"
};

// One row of the command table: `add` declares the subcommand's flags on `cmd` and returns
// the function that runs it once the flags are parsed.
struct Command {
  const char* name;
  const char* help;
  std::function<std::function<int()>(CLI::App& cmd, const GlobalOptions& global)> add;
};

int Main(int argc, char** argv);

}  // namespace aic::cli
