// The local side of `aiconform up / down / status` (target `local`, the default).
#pragma once

#include <string>
#include <vector>

namespace aic::local {

struct LocalCommandOptions {
  std::string state_dir;  // default: $AICONFORM_STATE_DIR or ~/.local/state/aiconform/<name>
  std::string name = "aiconform";
  std::string bin_dir;  // default: $AICONFORM_BIN_DIR or ~/.cache/aiconform/bin/v1.34.2
  std::string output = "table";
  bool purge = false;     // down: also remove the cluster's data
  int workers = -1;       // up: worker nodes of DefaultLocalSpec; -1: the spec or what runs
  std::string spec_file;  // up: the local spec (pools of worker nodes)
  std::string pool;       // node add: the pool to grow
  int count = 1;          // node add: how many nodes
  std::vector<std::string> nodes;  // node delete: the nodes to remove
};

int UpCommand(const LocalCommandOptions& options);
int DownCommand(const LocalCommandOptions& options);
int StatusCommand(const LocalCommandOptions& options);
// `node add --pool P [--count N]` and `node delete NAME...` on a running cluster.
int NodeAddCommand(const LocalCommandOptions& options);
int NodeDeleteCommand(const LocalCommandOptions& options);
// Prints the path of the cluster's admin kubeconfig.
int KubeconfigPathCommand(const LocalCommandOptions& options);

}  // namespace aic::local
