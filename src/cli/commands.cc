#include "cli/commands.h"

#include <iostream>

namespace aic::cli {
namespace {

std::function<int()> AddVersion(CLI::App& cmd, const GlobalOptions&) {
  cmd.description("print aiconform's version and the Kubernetes version it runs");
  return [] {
    std::cout << "aiconform " << AIC_VERSION << " (Kubernetes v1.34.2)\n";
    return kExitOk;
  };
}

}  // namespace

const std::vector<Command>& CommandTable() {
  static const std::vector<Command> table = {
      {"version", "print version information", AddVersion},
  };
  return table;
}

}  // namespace aic::cli
