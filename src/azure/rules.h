// The recording rules that Azure Managed Prometheus deploys by default for an AKS cluster: the
// node group (11 rules over node-exporter series, job "node") and the Kubernetes group (19 rules
// over cAdvisor and kube-state-metrics series).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace aic::azure {

struct RecordingRule {
  std::string record;
  std::string expression;
  std::map<std::string, std::string> labels;
};

const std::vector<RecordingRule>& NodeRecordingRules();
const std::vector<RecordingRule>& KubernetesRecordingRules();

// Both groups as a Prometheus rule file (YAML), for `promtool check rules` and `promtool test`.
std::string RecordingRulesAsPrometheusYaml();

}  // namespace aic::azure
