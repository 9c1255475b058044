// The worker nodes of the local cluster: which nodes the local spec asks for (pools with the
// labels and taints AKS gives its node pools), and bringing them up, checking them and taking
// them down. Each node is a network namespace with containerd, kubelet and kube-proxy
// (local/node); this file adds the cluster's side: certificates, Node objects, host settings,
// cluster DNS, and the record in cluster.json.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/context.h"
#include "common/status.h"
#include "common/table.h"
#include "local/state.h"

namespace aic::local {

constexpr const char* kClusterDnsIp = "10.96.0.10";

struct Taint {
  std::string key, value, effect;
};

// A node pool of the local spec. Labels follow AKS: agentpool=<pool>,
// kubernetes.azure.com/agentpool=<pool> and kubernetes.azure.com/mode=system|user.
struct PoolSpec {
  std::string name;
  std::map<std::string, std::string> labels;
  std::vector<Taint> taints;
};

struct WorkerSpec {
  std::string name;  // "<pool>-<n>"
  PoolSpec pool;
  int index = 0;  // node::MakeNodeSpec's index: addresses and pod CIDR
  std::string pod_cidr;
};

// The local spec for `workers` nodes: one node is the accelerator pool "gpunp" (tainted
// sku=gpu:NoSchedule) once there are two or more, the rest form the "system" pool. System node n
// has index n, accelerator node n index 100+n.
std::vector<WorkerSpec> PlanWorkers(int workers);

struct NodeHealth {
  std::string name;
  std::string pool;
  std::string pod_cidr;                                          // as the Node object says
  bool containerd = false, kubelet = false, kube_proxy = false;  // processes alive
  std::string ready = "-";  // the Ready condition: True, False, Unknown; "-" without an answer
  bool healthy() const { return containerd && kubelet && kube_proxy && ready == "True"; }
};

class Workers {
 public:
  Workers(Layout layout, std::string bin_dir);

  // Brings the nodes to PlanWorkers(workers): starts missing nodes, restarts dead agents,
  // stops nodes the plan no longer has, then waits until every node is Ready and cluster DNS
  // answers. REQUIRES: root; the control plane of `layout` runs. Returns false when nothing
  // had to change.
  Result<bool> Up(const Context& ctx, int workers, Progress& progress);

  // Stops every node (processes, namespaces, mounts, cgroups) and restores the host settings
  // the nodes changed. `purge` also removes the nodes' directories.
  Status Down(const Context& ctx, bool purge, Progress& progress);

  // The nodes of the record, with their processes and their Node objects' state.
  Result<std::vector<NodeHealth>> Health(const Context& ctx);

 private:
  Layout layout_;
  std::string bin_dir_;
};

}  // namespace aic::local
