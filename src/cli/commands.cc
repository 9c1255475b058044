#include "cli/commands.h"

#include <cstdlib>
#include <iostream>

#include "azure/commands.h"
#include "local/commands.h"

namespace aic::cli {
namespace {

using Runner = std::function<int()>;

// Flags shared by the commands that act on a target.
struct TargetFlags {
  std::string target = "local";
  local::LocalCommandOptions local;
  azure::AksCommandOptions aks;
};

std::shared_ptr<TargetFlags> AddTargetFlags(CLI::App& cmd, bool with_output) {
  auto f = std::make_shared<TargetFlags>();
  cmd.add_option("--target", f->target, "where the cluster lives")
      ->check(CLI::IsMember({"local", "aks"}))
      ->capture_default_str();
  cmd.add_option("--name", f->local.name, "local: the cluster's name")->capture_default_str();
  cmd.add_option("--state-dir", f->local.state_dir,
                 "local: state directory (default $AICONFORM_STATE_DIR or "
                 "~/.local/state/aiconform/NAME)");
  cmd.add_option("--bin-dir", f->local.bin_dir,
                 "local: directory of the Kubernetes and etcd binaries (default "
                 "$AICONFORM_BIN_DIR or ~/.cache/aiconform/bin/v1.34.2)");
  cmd.add_option("-f,--file", f->aks.spec_file,
                 "the spec (YAML): local, the node pools (examples/local.yaml); aks, the "
                 "environment (examples/aks-ai-conformant.yaml)");
  cmd.add_option("--auth", f->aks.auth, "aks: credential source")
      ->check(CLI::IsMember({"", "env", "workload-identity", "managed-identity", "cli"}));
  cmd.add_option("--arm-endpoint", f->aks.arm_endpoint,
                 "aks: Azure Resource Manager URL (default https://management.azure.com)");
  cmd.add_option("--ca-file", f->aks.ca_file,
                 "aks: PEM CA certificates to trust for ARM and the authority host");
  if (with_output) {
    cmd.add_option("-o,--output", f->local.output, "table or json")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();
  }
  return f;
}

void SyncOutput(TargetFlags& f) {
  f.aks.output = f.local.output;
}

Runner AddUp(CLI::App& cmd, const GlobalOptions&) {
  auto f = AddTargetFlags(cmd, false);
  cmd.add_option("--workers", f->local.workers,
                 "local: worker nodes of the default pools (a new cluster gets 2; 0: the control "
                 "plane alone); -f describes pools instead");
  cmd.add_option("--kubeconfig-out", f->aks.kubeconfig_out,
                 "aks: where to write the cluster's kubeconfig");
  return [f] {
    if (f->target == "aks") {
      if (f->aks.spec_file.empty()) return ReportError("--target aks needs -f SPEC", kExitUsage);
      return azure::UpCommand(f->aks);
    }
    f->local.spec_file = f->aks.spec_file;
    return local::UpCommand(f->local);
  };
}

// `node add` and `node delete`: the local cluster's nodes while it runs.
Runner AddNode(CLI::App& cmd, const GlobalOptions&) {
  auto f = std::make_shared<local::LocalCommandOptions>();
  auto chosen = std::make_shared<std::function<int()>>();
  cmd.require_subcommand(1);
  for (CLI::App* sub : {cmd.add_subcommand("add", "add nodes to a pool of the running cluster"),
                        cmd.add_subcommand("delete", "drain and remove nodes")}) {
    sub->add_option("--name", f->name, "the cluster's name")->capture_default_str();
    sub->add_option("--state-dir", f->state_dir,
                    "state directory (default $AICONFORM_STATE_DIR or "
                    "~/.local/state/aiconform/NAME)");
    sub->add_option("--bin-dir", f->bin_dir, "directory of the Kubernetes binaries");
  }
  CLI::App* add = cmd.get_subcommand("add");
  add->add_option("--pool", f->pool, "the pool to grow")->required();
  add->add_option("--count", f->count, "how many nodes")->capture_default_str();
  add->add_option("-o,--output", f->output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  add->callback([f, chosen] { *chosen = [f] { return local::NodeAddCommand(*f); }; });
  CLI::App* del = cmd.get_subcommand("delete");
  del->add_option("nodes", f->nodes, "the nodes (as status lists them)")->required();
  del->callback([f, chosen] { *chosen = [f] { return local::NodeDeleteCommand(*f); }; });
  return [chosen] { return *chosen ? (*chosen)() : kExitUsage; };
}

Runner AddDown(CLI::App& cmd, const GlobalOptions&) {
  auto f = AddTargetFlags(cmd, false);
  cmd.add_flag("--purge", f->local.purge, "local: also remove the cluster's data");
  cmd.add_flag("--keep-group", f->aks.keep_group,
               "aks: delete each resource and keep the resource group");
  return [f] {
    if (f->target == "aks") {
      if (f->aks.spec_file.empty()) return ReportError("--target aks needs -f SPEC", kExitUsage);
      return azure::DownCommand(f->aks);
    }
    return local::DownCommand(f->local);
  };
}

Runner AddStatus(CLI::App& cmd, const GlobalOptions&) {
  auto f = AddTargetFlags(cmd, true);
  return [f] {
    if (f->target == "aks") {
      SyncOutput(*f);
      if (f->aks.spec_file.empty()) return ReportError("--target aks needs -f SPEC", kExitUsage);
      return azure::StatusCommand(f->aks);
    }
    return local::StatusCommand(f->local);
  };
}

Runner AddPlan(CLI::App& cmd, const GlobalOptions&) {
  auto f = AddTargetFlags(cmd, true);
  f->target = "aks";
  cmd.add_flag("--offline", f->aks.offline,
               "plan without credentials: every resource is shown as a create");
  return [f] {
    SyncOutput(*f);
    if (f->target != "aks") return ReportError("plan is only offered for --target aks");
    if (f->aks.spec_file.empty()) return ReportError("plan needs -f SPEC", kExitUsage);
    return azure::PlanCommand(f->aks);
  };
}

Runner AddKubeconfigPath(CLI::App& cmd, const GlobalOptions&) {
  auto f = AddTargetFlags(cmd, false);
  return [f] { return local::KubeconfigPathCommand(f->local); };
}

Runner AddVersion(CLI::App& cmd, const GlobalOptions&) {
  cmd.description("print aiconform's version and the Kubernetes version it runs");
  return [] {
    std::cout << "aiconform " << AIC_VERSION << " (Kubernetes v1.34.2)\n";
    return kExitOk;
  };
}

}  // namespace

const std::vector<Command>& CommandTable() {
  static const std::vector<Command> table = {
      {"up", "create or start a cluster (local by default, or --target aks -f SPEC)", AddUp},
      {"down", "stop a cluster and remove what up created", AddDown},
      {"status", "show each component's health", AddStatus},
      {"plan", "show what up --target aks would change", AddPlan},
      {"node", "add or delete worker nodes of the running local cluster", AddNode},
      {"kubeconfig-path", "print the local cluster's admin kubeconfig path", AddKubeconfigPath},
      {"version", "print version information", AddVersion},
  };
  return table;
}

}  // namespace aic::cli
