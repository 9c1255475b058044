#include "local/commands.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "common/report.h"
#include "common/signals.h"
#include "common/table.h"
#include "local/control_plane.h"
#include "local/workers.h"

namespace aic::local {
namespace {

using std::chrono::seconds;

ControlPlane Make(const LocalCommandOptions& o) {
  ControlPlaneOptions cp;
  cp.name = o.name;
  cp.state_dir = o.state_dir.empty() ? DefaultStateDir(o.name) : o.state_dir;
  cp.bin_dir = o.bin_dir.empty() ? DefaultBinDir() : o.bin_dir;
  return ControlPlane(cp);
}

Workers MakeWorkers(const LocalCommandOptions& o, const ControlPlane& cp) {
  return Workers(cp.layout(), o.bin_dir.empty() ? DefaultBinDir() : o.bin_dir);
}

int Fail(const Status& s) {
  if (s.code() == Code::kCancelled || Interrupted()) {
    return ReportError("interrupted; stopped what this command had started", kExitInterrupted);
  }
  bool usage = s.code() == Code::kInvalidArgument || s.code() == Code::kFailedPrecondition;
  return ReportError(s.message(), usage ? kExitUsage : kExitFailure);
}

std::string Uptime(long s) {
  if (s < 0) return "-";
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  return std::to_string(s / 3600) + "h" + std::to_string(s / 60 % 60) + "m";
}

// The pools `up` brings the cluster to: the spec file's, the default spec for --workers, else
// what the cluster last ran (so a second `up` changes nothing), else two workers.
Result<std::vector<PoolSpec>> WantedPools(const LocalCommandOptions& o, const ControlPlane& cp) {
  if (!o.spec_file.empty() && o.workers >= 0) {
    return Error(Code::kInvalidArgument,
                 "-f and --workers both describe the nodes; give one of them");
  }
  if (!o.spec_file.empty()) {
    AIC_ASSIGN_OR_RETURN(LocalSpec spec, LoadLocalSpec(o.spec_file));
    return spec.pools;
  }
  if (o.workers < -1 || o.workers > kMaxNodes) {
    return Error(Code::kInvalidArgument, "--workers: expected a number of nodes from 0 to {}",
                 kMaxNodes);
  }
  if (o.workers >= 0) return DefaultLocalSpec(o.workers).pools;
  auto record = LoadRecord(cp.layout());
  if (record.ok() && record->pools) return *record->pools;
  return DefaultLocalSpec(2).pools;
}

int NodeCount(const std::vector<PoolSpec>& pools) {
  int n = 0;
  for (const auto& p : pools)
    n += p.count;
  return n;
}

Status NeedRoot(const char* what) {
  if (geteuid() == 0) return Status::Ok();
  return Error(Code::kInvalidArgument,
               "{}: worker nodes need root (network namespaces, cgroups); run as root or pass "
               "--workers 0 for the control plane alone",
               what);
}

// What `node add` and `node delete` need: root, and a cluster that `up` made.
Status NeedCluster(const char* what, const ControlPlane& cp, const LocalCommandOptions& o) {
  AIC_RETURN_IF_ERROR(NeedRoot(what));
  if (LoadRecord(cp.layout()).ok()) return Status::Ok();
  return Error(Code::kInvalidArgument, "{}: no local cluster \"{}\" in {}; run aiconform up first",
               what, o.name, cp.layout().root);
}

void StopAfterFailedUp(const LocalCommandOptions& options, ControlPlane& cp, bool fresh,
                       Progress& progress) {
  Context ctx = Context::WithTimeout(seconds(120));
  Status s = MakeWorkers(options, cp).Down(ctx, fresh, progress);
  if (s.ok() || s.code() == Code::kNotFound) s = cp.Down(ctx, fresh, progress);
  if (!s.ok()) ReportError("stopping the cluster after the failure: " + s.message(), kExitFailure);
}

}  // namespace

int UpCommand(const LocalCommandOptions& options) {
  ControlPlane cp = Make(options);
  auto pools = WantedPools(options, cp);
  if (!pools.ok()) return Fail(pools.status());
  if (NodeCount(*pools) > 0) {
    if (Status s = NeedRoot(options.spec_file.empty() ? "--workers" : "-f"); !s.ok()) {
      return Fail(s);
    }
  }
  Context ctx = Context::WithTimeout(seconds(180));
  CancelOnSignal(ctx);
  Progress progress;
  const bool fresh = !std::filesystem::exists(cp.layout().root);
  auto changed = cp.Up(ctx, progress);
  if (!changed.ok()) return Fail(changed.status());
  auto nodes_changed = MakeWorkers(options, cp).Up(ctx, *pools, progress);
  if (!nodes_changed.ok()) {
    // A control plane this command started does not stay up without its nodes: a new
    // cluster goes away whole, a stopped one is stopped again.
    if (*changed) StopAfterFailedUp(options, cp, fresh, progress);
    return Fail(nodes_changed.status());
  }
  if (!*changed && !*nodes_changed) {
    std::cerr << "local cluster \"" << options.name << "\" is already running; nothing changed\n";
  }
  std::cout << "kubeconfig: " << cp.layout().admin_kubeconfig() << "\n"
            << "use it with:  export KUBECONFIG=" << cp.layout().admin_kubeconfig() << "; "
            << (options.bin_dir.empty() ? DefaultBinDir() : options.bin_dir)
            << "/kubectl get nodes\n";
  return kExitOk;
}

int DownCommand(const LocalCommandOptions& options) {
  Context ctx = Context::WithTimeout(seconds(120));
  ControlPlane cp = Make(options);
  Progress progress;
  Status s = MakeWorkers(options, cp).Down(ctx, options.purge, progress);
  if (!s.ok() && s.code() != Code::kNotFound) return Fail(s);
  s = cp.Down(ctx, options.purge, progress);
  if (!s.ok()) return Fail(s);
  std::cerr << "local cluster \"" << options.name << "\" stopped"
            << (options.purge ? " and its data removed" : "") << "\n";
  return kExitOk;
}

int StatusCommand(const LocalCommandOptions& options) {
  Context ctx = Context::WithTimeout(seconds(30));
  ControlPlane cp = Make(options);
  auto health = cp.Health(ctx);
  if (!health.ok()) return Fail(health.status());
  bool all_healthy = true;
  nlohmann::json components = nlohmann::json::array();
  Table table({"COMPONENT", "PID", "HEALTH", "VERSION", "UPTIME"});
  for (const auto& h : *health) {
    all_healthy = all_healthy && h.healthy;
    std::string pid = h.running ? std::to_string(h.process.pid) : "-";
    table.Add({h.name, pid, h.healthy ? "healthy" : h.detail, h.version, Uptime(h.uptime_seconds)});
    components.push_back({{"name", h.name},
                          {"pid", h.running ? h.process.pid : 0},
                          {"running", h.running},
                          {"healthy", h.healthy},
                          {"detail", h.detail},
                          {"version", h.version},
                          {"uptimeSeconds", h.uptime_seconds}});
  }
  auto nodes = MakeWorkers(options, cp).Health(ctx);
  if (!nodes.ok()) return Fail(nodes.status());
  nlohmann::json node_list = nlohmann::json::array();
  Table node_table({"NODE", "POOL", "READY", "POD CIDR", "NOT RUNNING"});
  for (const auto& n : *nodes) {
    all_healthy = all_healthy && n.healthy();
    std::vector<std::string> down;
    if (!n.containerd) down.push_back("containerd");
    if (!n.kubelet) down.push_back("kubelet");
    if (!n.kube_proxy) down.push_back("kube-proxy");
    node_table.Add({n.name, n.pool, n.ready, n.pod_cidr.empty() ? "-" : n.pod_cidr,
                    down.empty() ? "-" : fmt::format("{}", fmt::join(down, ","))});
    node_list.push_back({{"name", n.name},
                         {"pool", n.pool},
                         {"ready", n.ready},
                         {"podCIDR", n.pod_cidr},
                         {"containerd", n.containerd},
                         {"kubelet", n.kubelet},
                         {"kubeProxy", n.kube_proxy},
                         {"healthy", n.healthy()}});
  }
  if (options.output == "json") {
    nlohmann::json out = {{"name", options.name},
                          {"stateDir", cp.layout().root},
                          {"kubeconfig", cp.layout().admin_kubeconfig()},
                          {"healthy", all_healthy},
                          {"components", components},
                          {"nodes", node_list}};
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "cluster " << options.name << " (" << cp.layout().root << ")\n";
    table.Print(std::cout);
    if (!nodes->empty()) {
      std::cout << "\n";
      node_table.Print(std::cout);
    }
  }
  return all_healthy ? kExitOk : kExitUnhealthy;
}

int NodeAddCommand(const LocalCommandOptions& options) {
  if (options.count < 1 || options.count > kMaxNodes) {
    return ReportError(fmt::format("--count: expected 1 to {}", kMaxNodes), kExitUsage);
  }
  ControlPlane cp = Make(options);
  if (Status s = NeedCluster("node add", cp, options); !s.ok()) return Fail(s);
  Context ctx = Context::WithTimeout(seconds(180));
  CancelOnSignal(ctx);
  Progress progress;
  auto added = MakeWorkers(options, cp).Add(ctx, options.pool, options.count, progress);
  if (!added.ok()) return Fail(added.status());
  if (options.output == "json") {
    std::cout << nlohmann::json({{"added", *added}}).dump(2) << "\n";
  } else {
    for (const auto& n : *added)
      std::cout << "node " << n << " added to pool " << options.pool << "\n";
  }
  return kExitOk;
}

int NodeDeleteCommand(const LocalCommandOptions& options) {
  ControlPlane cp = Make(options);
  if (Status s = NeedCluster("node delete", cp, options); !s.ok()) return Fail(s);
  Context ctx = Context::WithTimeout(seconds(300));
  CancelOnSignal(ctx);
  Progress progress;
  Status s = MakeWorkers(options, cp).Delete(ctx, options.nodes, progress);
  if (!s.ok()) return Fail(s);
  for (const auto& n : options.nodes)
    std::cout << "node " << n << " drained and removed\n";
  return kExitOk;
}

int KubeconfigPathCommand(const LocalCommandOptions& options) {
  ControlPlane cp = Make(options);
  std::cout << cp.layout().admin_kubeconfig() << "\n";
  return kExitOk;
}

}  // namespace aic::local
