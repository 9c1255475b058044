// The local cluster's spec: its worker nodes, in pools shaped like the AKS environment's node
// pools (a system pool and an accelerator pool with the sku=gpu:NoSchedule taint by default).
//
//   pools:
//     - name: system        ^[a-z][a-z0-9]{0,6}$, unique
//       mode: system        system | user (default user); CoreDNS runs on system nodes
//       count: 1            0..99 nodes (default 1)
//     - name: gpunp
//       count: 1
//       labels: {sku: gpu}  added to the AKS ones (agentpool, kubernetes.azure.com/...)
//       taints: ["sku=gpu:NoSchedule"]
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace aic::local {

struct Taint {
  std::string key, value, effect;
  bool operator==(const Taint&) const = default;
};

struct PoolSpec {
  std::string name;
  std::string mode = "user";  // "system" or "user", as AKS's kubernetes.azure.com/mode
  int count = 1;
  std::map<std::string, std::string> labels;  // the spec's own, without the AKS ones
  std::vector<Taint> taints;
  bool operator==(const PoolSpec&) const = default;
};

struct LocalSpec {
  std::vector<PoolSpec> pools;
};

constexpr int kMaxNodes = 99;

// Reads a spec file; errors name file:line:column and the allowed values, all at once.
Result<LocalSpec> LoadLocalSpec(const std::string& path);
Result<LocalSpec> ParseLocalSpec(const std::string& text, const std::string& file);

// The spec `up --workers N` means: the system pool with N-1 nodes and the accelerator pool
// "gpunp" with one once N is two or more; a single worker is a system node.
LocalSpec DefaultLocalSpec(int workers);

// The labels a pool's nodes carry: the AKS ones (agentpool, kubernetes.azure.com/agentpool and
// kubernetes.azure.com/mode) and the spec's.
std::map<std::string, std::string> NodeLabels(const PoolSpec& pool);

// Checks what a spec from any source must hold (names, counts, a system node for CoreDNS).
// `where` prefixes the messages (a file name, or "--workers").
Status ValidatePools(const std::vector<PoolSpec>& pools, const std::string& where);

// "key=value:Effect" as kubectl taint writes it.
Result<Taint> ParseTaint(const std::string& text);
std::string TaintString(const Taint& taint);

}  // namespace aic::local
