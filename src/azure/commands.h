// The AKS side of `aiconform plan / up / down --target aks`.
#pragma once

#include <string>

namespace aic::azure {

struct AksCommandOptions {
  std::string spec_file;         // -f: the environment spec (YAML)
  std::string output = "table";  // "table" or "json"
  bool offline = false;          // plan without credentials: every resource is a create
  bool keep_group = false;       // down: delete each resource, keep the resource group
  std::string auth;              // "", "env", "workload-identity", "managed-identity", "cli"
  std::string kubeconfig_out;    // up: where to write the cluster's kubeconfig
  std::string arm_endpoint;      // ARM base URL; default https://management.azure.com
  std::string ca_file;           // PEM CA bundle to trust for ARM and the authority host
};

// Each returns a process exit code (see cli::ExitCode) after printing its result.
int PlanCommand(const AksCommandOptions& options);
int UpCommand(const AksCommandOptions& options);
int DownCommand(const AksCommandOptions& options);
// Each resource's provisioning state (features and the provider: their registration), the
// cluster's power state, Kubernetes version and node counts. Exits kExitUnhealthy unless every
// resource exists and has succeeded.
int StatusCommand(const AksCommandOptions& options);

}  // namespace aic::azure
