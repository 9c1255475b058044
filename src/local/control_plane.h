// The local control plane: etcd, kube-apiserver, kube-controller-manager and kube-scheduler
// from upstream binaries, started as detached processes with their logs, certificates and
// data under one state directory.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/context.h"
#include "common/status.h"
#include "common/table.h"
#include "local/state.h"

namespace aic::local {

struct ControlPlaneOptions {
  std::string name = "aiconform";
  std::string state_dir;  // resolved by the caller (DefaultStateDir)
  std::string bin_dir;    // resolved by the caller (DefaultBinDir)
};

struct ComponentHealth {
  std::string name;
  ProcessId process;
  bool running = false;
  bool healthy = false;
  std::string detail;  // "ok", or why the component is not healthy
  std::string version;
  long uptime_seconds = -1;
};

// The components in start order.
const std::vector<std::string>& ComponentNames();

class ControlPlane {
 public:
  explicit ControlPlane(ControlPlaneOptions options);

  // Starts what is not running and waits until the apiserver is ready and the controllers
  // hold their leases. Returns false when everything was already running (nothing changed).
  // On failure it prints the failing component's last log lines into the Status, stops what
  // this call started, and leaves a fresh cluster's state directory as it found it.
  Result<bool> Up(const Context& ctx, Progress& progress);

  // Stops every recorded process (SIGTERM, SIGKILL after a grace period); with `purge` also
  // removes the state directory. NotFound when there is no cluster.
  Status Down(const Context& ctx, bool purge, Progress& progress);

  // Probes each component. NotFound when there is no cluster.
  Result<std::vector<ComponentHealth>> Health(const Context& ctx);

  const Layout& layout() const { return layout_; }
  const ControlPlaneOptions& options() const { return options_; }

 private:
  struct Clients;
  Status CheckBinaries() const;
  Status EnsureCertificates(const std::string& advertise_address);
  Status WriteKubeconfigs(const Ports& ports);
  Result<Ports> ChoosePorts(const ClusterRecord* previous) const;
  Status StartComponent(const Context& ctx, const std::string& name, ClusterRecord& record,
                        Clients& clients, Progress& progress);
  Status WaitHealthy(const Context& ctx, const std::string& name, const ClusterRecord& record,
                     Clients& clients);
  Status WaitForLeases(const Context& ctx, Clients& clients, const ClusterRecord& record);
  Status StartAll(const Context& ctx, ClusterRecord& record, Progress& progress);
  Status Probe(const Context& ctx, const std::string& name, const ClusterRecord& record,
               Clients& clients);
  std::vector<std::string> Args(const std::string& name, const Ports& ports,
                                const std::string& advertise_address) const;

  ControlPlaneOptions options_;
  Layout layout_;
  std::shared_ptr<Clients> clients_;  // set by StartAll
  std::vector<std::string> started_;  // components this Up started
};

// A kubeconfig (YAML) with one cluster, user and context, credentials embedded.
std::string MakeKubeconfig(const std::string& cluster_name, const std::string& server,
                           const std::string& ca_pem, const std::string& user,
                           const std::string& cert_pem, const std::string& key_pem);

}  // namespace aic::local
