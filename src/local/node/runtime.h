// A node's container runtime: containerd started inside the node's network namespace with the
// node's own configuration, and a teardown that leaves nothing of the node on the machine.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/context.h"
#include "common/status.h"
#include "local/node/node_spec.h"

namespace aic::node {

struct ContainerdHandle {
  pid_t pid = 0;
  std::string socket;
  std::chrono::milliseconds startup{0};  // from exec until the API answered
};

// Writes the node's configuration, creates its network and starts containerd there; returns
// once containerd answers on its socket. On failure everything started is torn down again.
// REQUIRES: root; spec.containerd_bin_dir holds containerd and containerd-shim-runc-v2.
Result<ContainerdHandle> StartNode(const Context& ctx, const NodeSpec& spec);

// Imports an OCI archive into the node's containerd (namespace k8s.io, where the CRI plugin
// looks) and unpacks it for the overlayfs snapshotter.
Status ImportImage(const Context& ctx, const NodeSpec& spec, const std::string& archive);

// Stops the node: containerd gets SIGTERM, then every process of the node (shims, containers,
// anything in its namespace) is killed, mounts under the node directory are unmounted, and the
// namespace, veth, cgroups, shim sockets and CNI cache entries are removed, as is the runtime
// state. `purge` also removes the node directory (images, configuration). Works from the spec
// alone, so it also cleans up after a crash. Safe to call when nothing runs.
Status StopNode(const Context& ctx, const NodeSpec& spec, bool purge = false);

// What of the node is still on the machine, one line per item ("process 123 (containerd)",
// "mount /x", "netns aic-w1", ...). Empty after a clean StopNode.
std::vector<std::string> NodeLeftovers(const NodeSpec& spec);

}  // namespace aic::node
