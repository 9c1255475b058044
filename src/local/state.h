// Where a local cluster keeps its files, and the record of what `up` started
// (<state>/cluster.json). Everything `up` creates lives under the state directory.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "local/process.h"
#include "local/spec.h"

namespace aic::local {

constexpr const char* kKubeVersion = "v1.34.2";

// Resolves defaults: --state-dir, else $AICONFORM_STATE_DIR/<name> , else
// ~/.local/state/aiconform/<name>.
std::string DefaultStateDir(const std::string& name);
// --bin-dir, else $AICONFORM_BIN_DIR, else ~/.cache/aiconform/bin/v1.34.2.
std::string DefaultBinDir();

struct Layout {
  std::string root;

  std::string pki() const { return root + "/pki"; }
  std::string logs() const { return root + "/logs"; }
  std::string etcd_data() const { return root + "/etcd"; }
  std::string nodes() const { return root + "/nodes"; }
  std::string manifests() const { return root + "/manifests"; }
  std::string state_file() const { return root + "/cluster.json"; }
  std::string admin_kubeconfig() const { return root + "/kubeconfig"; }
  std::string component_kubeconfig(const std::string& c) const {
    return root + "/kubeconfigs/" + c + ".conf";
  }
  std::string log(const std::string& component) const { return logs() + "/" + component + ".log"; }
  std::string cert(const std::string& base) const { return pki() + "/" + base + ".crt"; }
  std::string key(const std::string& base) const { return pki() + "/" + base + ".key"; }
};

struct Ports {
  int apiserver = 0;
  int etcd_client = 0;
  int etcd_peer = 0;
  int controller_manager = 0;
  int scheduler = 0;
};

struct ComponentRecord {
  std::string name;
  ProcessId process;
  std::string version;
};

// A worker node `up` started: its pool and the processes that make it up.
struct NodeRecord {
  std::string name;
  std::string pool;
  int index = 0;  // picks the node's addresses (node::MakeNodeSpec)
  ProcessId containerd;
  ProcessId kubelet;
  ProcessId kube_proxy;
};

struct ClusterRecord {
  std::string name;
  std::string bin_dir;
  Ports ports;
  // The address the apiserver advertises (the kubernetes Service's endpoint) and that worker
  // nodes in their own network namespaces reach it on.
  std::string advertise_address = "127.0.0.1";
  std::vector<ComponentRecord> components;
  std::vector<NodeRecord> nodes;
  // The pools the nodes come from, as the last `up -f`, `up --workers` or `node add/delete`
  // left them; absent before any of those ran.
  std::optional<std::vector<PoolSpec>> pools;
  // Host settings the nodes change, with their values from before the first node started, so
  // that `down` puts them back: "net.ipv4.ip_forward" and the kernel tunables kubelet sets.
  std::map<std::string, std::string> host_settings;

  ComponentRecord* Find(const std::string& component);
  const ComponentRecord* Find(const std::string& component) const;
  NodeRecord* FindNode(const std::string& node);
};

// Reads <state>/cluster.json; NotFound when there is none.
Result<ClusterRecord> LoadRecord(const Layout& layout);
Status SaveRecord(const Layout& layout, const ClusterRecord& record);

// The IPv4 address of the interface that holds the default route, or 127.0.0.1 when there is
// none. Network namespaces routed through the host reach the host on it.
std::string HostAddress();

// A TCP port on 127.0.0.1 nobody listens on now; `preferred` when it is free.
Result<int> FreePort(int preferred = 0);
// True when a socket is bound to the port on 127.0.0.1 (TIME_WAIT leftovers do not count).
bool PortInUse(int port);

// Writes `content` to `path` atomically with the given mode, creating parent directories.
Status WriteFile(const std::string& path, const std::string& content, unsigned mode = 0644);
Result<std::string> ReadFile(const std::string& path);

}  // namespace aic::local
