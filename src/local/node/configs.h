// The configuration files of a node's runtime, generated from its spec: containerd's
// config.toml and the CNI network list of its pod bridge.
#pragma once

#include <string>

#include "common/status.h"
#include "local/node/node_spec.h"

namespace aic::node {

// containerd 2.x (config version 3). Every path containerd, its shims and runc write to is
// under the node's directory, so nodes do not share state and teardown has one place to look.
// The CRI plugin runs pods with runc and cgroupfs, keeps pod network namespaces under its state
// directory, injects CDI devices from the node's own spec directory, and uses our pause image.
std::string ContainerdConfig(const NodeSpec& spec);

// A bridge + host-local + portmap network list for the node's pod CIDR. The bridge lives in the
// node's network namespace and is the pods' gateway; nothing is masqueraded, since the host
// holds a route to every node's pod CIDR.
std::string CniConflist(const NodeSpec& spec);

// Creates the node's directories and writes both files.
Status WriteNodeConfigs(const NodeSpec& spec);

}  // namespace aic::node
