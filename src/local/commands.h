// The local side of `aiconform up / down / status` (target `local`, the default).
#pragma once

#include <string>

namespace aic::local {

struct LocalCommandOptions {
  std::string state_dir;  // default: $AICONFORM_STATE_DIR or ~/.local/state/aiconform/<name>
  std::string name = "aiconform";
  std::string bin_dir;  // default: $AICONFORM_BIN_DIR or ~/.cache/aiconform/bin/v1.34.2
  std::string output = "table";
  bool purge = false;  // down: also remove the cluster's data
  int workers = 2;     // worker nodes (PlanWorkers); 0: the control plane alone
};

int UpCommand(const LocalCommandOptions& options);
int DownCommand(const LocalCommandOptions& options);
int StatusCommand(const LocalCommandOptions& options);
// Prints the path of the cluster's admin kubeconfig.
int KubeconfigPathCommand(const LocalCommandOptions& options);

}  // namespace aic::local
