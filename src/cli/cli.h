// The aiconform command line: every subcommand is one row of the table in cli.cc.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace aic::cli {

// Options every subcommand understands.
struct GlobalOptions {
  std::string log_level = "warn";
  std::string log_file;
  std::string output = "table";  // "table" or "json"
};

// Exit codes. Scripts may rely on them.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,    // the operation failed
  kExitUsage = 2,      // bad flags or bad input files
  kExitUnhealthy = 3,  // status/verify: the system is reachable but not healthy
  kExitInterrupted = 130,
};

// Prints "aiconform: error: <message>" to stderr (redacted) and returns `code`.
int ReportError(const std::string& message, int code = kExitFailure);

// One row of the command table: `add` declares the subcommand's flags on `cmd` and returns
// the function that runs it once the flags are parsed.
struct Command {
  const char* name;
  const char* help;
  std::function<std::function<int()>(CLI::App& cmd, const GlobalOptions& global)> add;
};

int Main(int argc, char** argv);

}  // namespace aic::cli
