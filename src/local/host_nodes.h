// The worker nodes of every local cluster on this machine, as the kernel shows them. Node
// indexes pick addresses and routes in the host's one network namespace (node::MakeNodeSpec),
// so a cluster must not give a new node an index that a node of another cluster holds, and the
// host settings the nodes need must stay until the last cluster's nodes have stopped.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/context.h"
#include "common/status.h"
#include "local/node/node_spec.h"

namespace aic::local {

struct HostNode {
  int index = 0;
  std::string netns;  // "aic<index>-<name>"; empty when only the link is left
  std::string link;   // the host end of its veth; empty when only the namespace is left
  std::string owner;  // the node directory the link's alias names; empty when unknown
};

// Every node namespace and host veth of any cluster, one entry per index.
std::vector<HostNode> NodesOnHost();

// True when `node` is one of `mine`: its link names one of their directories, or, with no link
// left to say, its namespace has one of their names.
bool IsMine(const HostNode& node, const std::vector<node::NodeSpec>& mine);

// The indexes held by nodes that are not `mine`, each with who holds it ("the cluster of
// <node directory>" or the namespace name).
std::map<int, std::string> IndexesHeldByOthers(const std::vector<node::NodeSpec>& mine);

// Serialises the changes clusters make to the host's shared state (choosing node indexes and
// creating node networks, restoring host settings): an exclusive lock on
// /run/aiconform/lock, held from Acquire until destruction. The file goes with the directory
// once the last cluster's nodes stop (ForgetSharedHostSettings).
class HostLock {
 public:
  HostLock() = default;
  ~HostLock();
  HostLock(const HostLock&) = delete;
  HostLock& operator=(const HostLock&) = delete;

  // Waits for the lock until `ctx` ends.
  Status Acquire(const Context& ctx);
  // Gives the lock up; when no node of any cluster is left on the host, removes what
  // /run/aiconform held, so an idle machine shows no trace of it.
  void Release();

 private:
  int fd_ = -1;
};

// The host settings as they were before the first node of any cluster started, kept in
// /run/aiconform while nodes run; empty when none are kept.
std::map<std::string, std::string> SharedHostSettings();
Status SaveSharedHostSettings(const std::map<std::string, std::string>& settings);
void ForgetSharedHostSettings();

}  // namespace aic::local
