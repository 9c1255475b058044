#include "local/commands.h"

#include <unistd.h>

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

}  // namespace

int UpCommand(const LocalCommandOptions& options) {
  if (options.workers < 0 || options.workers > 99) {
    return ReportError("--workers: expected a number of nodes from 0 to 99", kExitUsage);
  }
  if (options.workers > 0 && geteuid() != 0) {
    return ReportError(
        "--workers: worker nodes need root (network namespaces, cgroups); run as root or "
        "pass --workers 0 for the control plane alone",
        kExitUsage);
  }
  Context ctx = Context::WithTimeout(seconds(180));
  CancelOnSignal(ctx);
  ControlPlane cp = Make(options);
  Progress progress;
  auto changed = cp.Up(ctx, progress);
  if (!changed.ok()) return Fail(changed.status());
  auto nodes_changed = MakeWorkers(options, cp).Up(ctx, options.workers, progress);
  if (!nodes_changed.ok()) return Fail(nodes_changed.status());
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

int KubeconfigPathCommand(const LocalCommandOptions& options) {
  ControlPlane cp = Make(options);
  std::cout << cp.layout().admin_kubeconfig() << "\n";
  return kExitOk;
}

}  // namespace aic::local
