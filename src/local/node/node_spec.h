// What identifies one worker node of the local cluster on this machine: its names in the
// kernel, its addresses, and the directories that hold all of its state.
#pragma once

#include <string>

#include "common/status.h"

namespace aic::node {

struct NodeSpec {
  std::string name;      // e.g. "w1"; at most 10 characters of [a-z0-9-]
  int index = 1;         // 1..250, picks the addresses below
  std::string dir;       // the node's directory; everything the node writes lives under it
  std::string pod_cidr;  // e.g. "10.244.1.0/24"
  std::string host_ip;   // host end of the veth, e.g. "10.250.1.1"
  std::string node_ip;   // node end of the veth (eth0 in the namespace), e.g. "10.250.1.2"
  int link_prefix = 30;  // prefix length of the host-node link

  std::string containerd_bin_dir;  // holds containerd, containerd-shim-runc-v2 and ctr
  std::string runc = "/usr/bin/runc";
  std::string cni_bin_dir = "/usr/lib/cni";
  std::string sandbox_image;  // the pause image reference
};

// A spec with the addresses of node `index` (10.250.<index>.0/30 link, 10.244.<index>.0/24
// pods) and its directory under `base_dir`.
NodeSpec MakeNodeSpec(const std::string& name, int index, const std::string& base_dir);

// Checks the name (so kernel names fit in 15 characters) and the index.
Status ValidateNodeSpec(const NodeSpec& spec);

// Kernel and file-system names derived from the spec. Every kernel object starts with "aic" so
// a teardown check can list what is left. Names on the host carry the index, which is unique on
// the machine (local/node_registry.h), so clusters with nodes of the same name can coexist.
std::string NetnsName(const NodeSpec& spec);       // "aic<index>-<name>"
std::string NetnsPath(const NodeSpec& spec);       // "/run/netns/aic<index>-<name>"
std::string HostVethName(const NodeSpec& spec);    // "aicv<index>-<name>", cut to 15 characters
std::string CniNetworkName(const NodeSpec& spec);  // "aic-<name>", inside the node namespace
std::string BridgeName(const NodeSpec& spec);      // "aicbr0", inside the node namespace
std::string CgroupParent(const NodeSpec& spec);    // "/aic<index>-<name>", the node's cgroup root

struct ContainerdPaths {
  std::string config;     // <dir>/containerd/config.toml
  std::string root;       // persistent: content store and snapshots (survives a restart)
  std::string state;      // runtime state: tasks, sockets, netns mounts
  std::string socket;     // <state>/containerd.sock
  std::string runc_root;  // runc's state, instead of /run/containerd/runc
  std::string cni_conf_dir;
  std::string cni_data_dir;  // host-local IP allocations
  std::string cdi_dir;
  std::string opt_dir;
  std::string log;
};
ContainerdPaths PathsOf(const NodeSpec& spec);

}  // namespace aic::node
