// The declarative description of one AKS environment, read from YAML. Parsing validates every
// field and reports problems as "file:line:column: message" with the allowed values.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace aic::azure {

struct PoolSpec {
  std::string name;
  std::string vm_size;
  int min_count = 1;
  int max_count = 3;
  std::vector<std::string> zones;
  std::vector<std::string> taints;
  std::string gpu_driver;               // "", "Install" or "None" (N-series sizes only)
  bool managed_gpu_experience = false;  // needs the ManagedGPUExperiencePreview feature
};

struct IstioSpec {
  bool enabled = true;
  std::string revision = "asm-1-28";
  bool external_ingress_gateway = true;
  bool internal_ingress_gateway = false;
};

struct MonitoringSpec {
  bool enabled = true;
  // Resource kind ("namespaces", "pods", ...) to label or annotation keys; rendered in the API's
  // "kind=[key,key],kind=[key]" format.
  std::map<std::string, std::vector<std::string>> labels_allowlist;
  std::map<std::string, std::vector<std::string>> annotations_allowlist;
};

struct AksSpec {
  std::string file;  // where the spec came from, for messages
  std::string subscription;
  std::string prefix = "aks-ai-conformant-dev";
  std::string location = "centralus";
  std::map<std::string, std::string> tags = {{"ManagedBy", "aiconform"},
                                             {"Purpose", "ai-conformance"}};
  std::string auth;  // "", "env", "workload-identity", "managed-identity", "cli"
  std::string kubernetes_version = "1.34.2";
  std::string gateway_api = "Standard";  // ingressProfile.gatewayAPI.installation
  PoolSpec system_pool;
  PoolSpec accelerator_pool;
  IstioSpec istio;
  MonitoringSpec monitoring;

  AksSpec();

  // Names derived from the prefix.
  std::string ResourceGroup() const { return prefix + "-rg"; }
  std::string ClusterName() const { return prefix; }
  std::string WorkspaceName() const { return prefix + "-amw"; }
  std::string CollectionName() const { return "MSProm-" + location + "-" + ClusterName(); }
};

// Parses and validates a spec. Errors carry Code::kInvalidArgument and list every problem found,
// one "file:line:column: message" per line.
Result<AksSpec> ParseSpec(const std::string& yaml_text, const std::string& file_name);
Result<AksSpec> LoadSpec(const std::string& path);

// "namespaces=[a,b],pods=[app]": the format of metricLabelsAllowlist / metricAnnotationsAllowList.
std::string RenderAllowlist(const std::map<std::string, std::vector<std::string>>& list);

// True for GPU sizes (the N family: Standard_NC..., Standard_ND..., Standard_NV...).
bool IsGpuVmSize(const std::string& vm_size);

}  // namespace aic::azure
