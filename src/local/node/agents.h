// The Kubernetes agents of a worker node: kubelet and kube-proxy, configured from the node's spec
// and started inside its network namespace. Certificates and kubeconfigs are the caller's (the
// cluster holds the CA); this file knows where they go and what the agents are told.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "local/node/node_spec.h"

namespace aic::node {

struct AgentOptions {
  std::string bin_dir;  // holds kubelet and kube-proxy
  std::string ca_file;  // the cluster CA; kubelet accepts clients it signed
  std::string cluster_dns = "10.96.0.10";
  std::string cluster_domain = "cluster.local";
  std::string cluster_cidr = "10.244.0.0/16";
  // Name servers pods with dnsPolicy Default (CoreDNS among them) get; loopback ones of the
  // host are useless inside a pod and left out by the caller.
  std::vector<std::string> upstream_dns;
};

struct AgentPaths {
  std::string kubelet_root;        // <dir>/kubelet: pods, pod-resources, plugins_registry
  std::string kubelet_config;      // KubeletConfiguration
  std::string kubelet_kubeconfig;  // system:node:<name>
  std::string kubelet_cert;        // serving certificate (SAN: node IP)
  std::string kubelet_key;
  std::string kubelet_log;
  std::string proxy_config;      // KubeProxyConfiguration
  std::string proxy_kubeconfig;  // system:kube-proxy
  std::string proxy_log;
  std::string resolv_conf;
  std::string pod_logs;  // instead of /var/log/pods
};
AgentPaths AgentPathsOf(const NodeSpec& spec);

// The kubelet's configuration: cgroupfs under the node's own cgroup root, the node's
// containerd, its own root directory, TLS serving with the node's certificate and webhook
// authorization, so that the apiserver can proxy logs, exec and port-forward. Kernel tunables
// are not protected (kubelet would refuse to start on this VM's kernel.panic=1); the cluster
// puts the host's values back once kubelet has set its own.
std::string KubeletConfig(const NodeSpec& spec, const AgentOptions& options);

// kube-proxy in iptables mode; it leaves conntrack limits and timeouts alone, since some of them
// are machine-wide.
std::string KubeProxyConfig(const NodeSpec& spec, const AgentOptions& options);

// Writes both configurations and the node's resolv.conf.
Status WriteAgentConfigs(const NodeSpec& spec, const AgentOptions& options);

// Creates the node's cgroup root (CgroupParent) in every cgroup hierarchy; kubelet requires it
// to exist. StopNode removes it.
Status CreateCgroupRoot(const NodeSpec& spec);

// Start the agents in the node's network namespace; logs go to AgentPaths.
Result<pid_t> StartKubelet(const NodeSpec& spec, const AgentOptions& options);
Result<pid_t> StartKubeProxy(const NodeSpec& spec, const AgentOptions& options);

}  // namespace aic::node
