// Runs the aiconform CLI as a user would, for end-to-end tests.
#pragma once

#include <string>
#include <vector>

namespace aic::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the built aiconform binary with `args` and waits for it.
CliResult RunCli(const std::vector<std::string>& args);

// Starts the CLI without waiting; returns its pid. Its stderr goes to `err_file`.
int StartCli(const std::vector<std::string>& args, const std::string& err_file);
// Waits for a pid from StartCli and returns its exit code (128+signal when killed).
int WaitCli(int pid);

// Pids of live (non-zombie) processes whose command line mentions `needle`.
std::vector<int> ProcessesMentioning(const std::string& needle);

// Names of the entries directly under `dir` (empty when it cannot be read).
std::vector<std::string> ListDir(const std::string& dir);

}  // namespace aic::testing
