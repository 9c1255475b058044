// The worker nodes of the local cluster: which nodes the local spec asks for (pools with the
// labels and taints AKS gives its node pools), and bringing them up, checking them and taking
// them down. Each node is a network namespace with containerd, kubelet and kube-proxy
// (local/node); this file adds the cluster's side: certificates, Node objects, host settings,
// cluster DNS, and the record in cluster.json.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/context.h"
#include "common/status.h"
#include "common/table.h"
#include "local/spec.h"
#include "local/state.h"

namespace aic::local {

constexpr const char* kClusterDnsIp = "10.96.0.10";

struct WorkerSpec {
  std::string name;  // "<pool>-<n>"
  PoolSpec pool;
  int index = 0;  // node::MakeNodeSpec's index: addresses and pod CIDR
  std::string pod_cidr;
};

// The nodes `pools` ask for, in pool order. Existing nodes of a pool stay (lowest numbers
// first, up to its count); new ones take the lowest free names "<pool>-<n>" and the lowest
// indexes (1..250) that no kept node holds and that are not `taken` (held by nodes of other
// clusters on this machine).
Result<std::vector<WorkerSpec>> PlanWorkers(const std::vector<PoolSpec>& pools,
                                            const std::vector<NodeRecord>& existing,
                                            const std::set<int>& taken = {});

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

  // Brings the nodes to PlanWorkers(pools): drains and removes nodes the plan no longer has,
  // starts missing nodes, restarts dead agents, then waits until every node is Ready and
  // cluster DNS answers; records the pools. REQUIRES: root unless there are no nodes; the
  // control plane of `layout` runs. Returns false when nothing had to change.
  Result<bool> Up(const Context& ctx, const std::vector<PoolSpec>& pools, Progress& progress);

  // Adds `count` nodes to the recorded pool `pool` while the cluster runs; returns their names.
  Result<std::vector<std::string>> Add(const Context& ctx, const std::string& pool, int count,
                                       Progress& progress);

  // Drains the named nodes (cordon, evict; skipped for a node whose kubelet is gone), stops
  // them, deletes their Node objects and lowers their pools' counts.
  Status Delete(const Context& ctx, const std::vector<std::string>& names, Progress& progress);

  // Stops every node (processes, namespaces, mounts, cgroups) and restores the host settings
  // the nodes changed. `purge` also removes the nodes' directories.
  Status Down(const Context& ctx, bool purge, Progress& progress);

  // The nodes of the record, with their processes and their Node objects' state.
  Result<std::vector<NodeHealth>> Health(const Context& ctx);

 private:
  Status RemoveNode(const Context& ctx, const NodeRecord& rec);

  Layout layout_;
  std::string bin_dir_;
};

}  // namespace aic::local
