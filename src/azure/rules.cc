#include "azure/rules.h"

#include <fmt/format.h>

namespace aic::azure {
namespace {

// Memory and CPU requests/limits of pods that are Pending or Running, per container.
std::string ActiveResource(const char* metric, const char* resource) {
  return fmt::format(
      "{}{{resource=\"{}\",job=\"kube-state-metrics\"}} * on (namespace, pod, cluster) "
      "group_left() max by (namespace, pod, cluster) ((kube_pod_status_phase{{phase=~\"Pending|"
      "Running\"}} == 1))",
      metric, resource);
}

// The namespace roll-up of ActiveResource.
std::string NamespaceSum(const char* metric, const char* resource) {
  return fmt::format(
      "sum by (namespace, cluster) (sum by (namespace, pod, cluster) (max by (namespace, pod, "
      "container, cluster) ({}{{resource=\"{}\",job=\"kube-state-metrics\"}}) * on (namespace, "
      "pod, cluster) group_left() max by (namespace, pod, cluster) (kube_pod_status_phase{{phase="
      "~\"Pending|Running\"}} == 1)))",
      metric, resource);
}

// A cAdvisor container series joined with the node its pod runs on.
std::string WithNode(const char* metric) {
  return fmt::format(
      "{}{{job=\"cadvisor\", image!=\"\"}} * on (namespace, pod) group_left(node) topk by "
      "(namespace, pod) (1, max by (namespace, pod, node) (kube_pod_info{{node!=\"\"}}))",
      metric);
}

// Pods owned directly by a workload of `kind`, labelled with the workload's name.
std::string OwnedBy(const char* kind) {
  return fmt::format(
      "max by (cluster, namespace, workload, pod) (label_replace(kube_pod_owner{{job=\"kube-"
      "state-metrics\", owner_kind=\"{}\"}}, \"workload\", \"$1\", \"owner_name\", \"(.*)\"))",
      kind);
}

const char kMemAvailable[] =
    "node_memory_MemAvailable_bytes{job=\"node\"} or (node_memory_Buffers_bytes{job=\"node\"} + "
    "node_memory_Cached_bytes{job=\"node\"} + node_memory_MemFree_bytes{job=\"node\"} + "
    "node_memory_Slab_bytes{job=\"node\"})";

std::string NetExcludingLo(const char* metric) {
  return fmt::format("sum without (device) (rate({}{{job=\"node\", device!=\"lo\"}}[5m]))", metric);
}

}  // namespace

const std::vector<RecordingRule>& NodeRecordingRules() {
  static const std::vector<RecordingRule> rules = {
      {"instance:node_num_cpu:sum",
       "count without (cpu, mode) (node_cpu_seconds_total{job=\"node\",mode=\"idle\"})",
       {}},
      {"instance:node_cpu_utilisation:rate5m",
       "1 - avg without (cpu) (sum without (mode) (rate(node_cpu_seconds_total{job=\"node\", "
       "mode=~\"idle|iowait|steal\"}[5m])))",
       {}},
      {"instance:node_load1_per_cpu:ratio",
       "(node_load1{job=\"node\"} / instance:node_num_cpu:sum{job=\"node\"})",
       {}},
      {"instance:node_memory_utilisation:ratio",
       fmt::format("1 - (({}) / node_memory_MemTotal_bytes{{job=\"node\"}})", kMemAvailable),
       {}},
      {"instance:node_vmstat_pgmajfault:rate5m",
       "rate(node_vmstat_pgmajfault{job=\"node\"}[5m])",
       {}},
      {"instance_device:node_disk_io_time_seconds:rate5m",
       "rate(node_disk_io_time_seconds_total{job=\"node\", device!=\"\"}[5m])",
       {}},
      {"instance_device:node_disk_io_time_weighted_seconds:rate5m",
       "rate(node_disk_io_time_weighted_seconds_total{job=\"node\", device!=\"\"}[5m])",
       {}},
      {"instance:node_network_receive_bytes_excluding_lo:rate5m",
       NetExcludingLo("node_network_receive_bytes_total"),
       {}},
      {"instance:node_network_transmit_bytes_excluding_lo:rate5m",
       NetExcludingLo("node_network_transmit_bytes_total"),
       {}},
      {"instance:node_network_receive_drop_excluding_lo:rate5m",
       NetExcludingLo("node_network_receive_drop_total"),
       {}},
      {"instance:node_network_transmit_drop_excluding_lo:rate5m",
       NetExcludingLo("node_network_transmit_drop_total"),
       {}},
  };
  return rules;
}

const std::vector<RecordingRule>& KubernetesRecordingRules() {
  static const std::vector<RecordingRule> rules = {
      {"node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate",
       "sum by (cluster, namespace, pod, container) (irate(container_cpu_usage_seconds_total{job="
       "\"cadvisor\", image!=\"\"}[5m])) * on (cluster, namespace, pod) group_left(node) topk by "
       "(cluster, namespace, pod) (1, max by (cluster, namespace, pod, node) (kube_pod_info{node!="
       "\"\"}))",
       {}},
      {"node_namespace_pod_container:container_memory_working_set_bytes",
       WithNode("container_memory_working_set_bytes"),
       {}},
      {"node_namespace_pod_container:container_memory_rss", WithNode("container_memory_rss"), {}},
      {"node_namespace_pod_container:container_memory_cache",
       WithNode("container_memory_cache"),
       {}},
      {"node_namespace_pod_container:container_memory_swap", WithNode("container_memory_swap"), {}},
      {"cluster:namespace:pod_memory:active:kube_pod_container_resource_requests",
       ActiveResource("kube_pod_container_resource_requests", "memory"),
       {}},
      {"namespace_memory:kube_pod_container_resource_requests:sum",
       NamespaceSum("kube_pod_container_resource_requests", "memory"),
       {}},
      {"cluster:namespace:pod_cpu:active:kube_pod_container_resource_requests",
       ActiveResource("kube_pod_container_resource_requests", "cpu"),
       {}},
      {"namespace_cpu:kube_pod_container_resource_requests:sum",
       NamespaceSum("kube_pod_container_resource_requests", "cpu"),
       {}},
      {"cluster:namespace:pod_memory:active:kube_pod_container_resource_limits",
       ActiveResource("kube_pod_container_resource_limits", "memory"),
       {}},
      {"namespace_memory:kube_pod_container_resource_limits:sum",
       NamespaceSum("kube_pod_container_resource_limits", "memory"),
       {}},
      {"cluster:namespace:pod_cpu:active:kube_pod_container_resource_limits",
       ActiveResource("kube_pod_container_resource_limits", "cpu"),
       {}},
      {"namespace_cpu:kube_pod_container_resource_limits:sum",
       NamespaceSum("kube_pod_container_resource_limits", "cpu"),
       {}},
      // Deployments own pods through ReplicaSets: join the ReplicaSet's owner in.
      {"namespace_workload_pod:kube_pod_owner:relabel",
       "max by (cluster, namespace, workload, pod) (label_replace(label_replace(kube_pod_owner{"
       "job=\"kube-state-metrics\", owner_kind=\"ReplicaSet\"}, \"replicaset\", \"$1\", "
       "\"owner_name\", \"(.*)\") * on (replicaset, namespace) group_left(owner_name) topk by "
       "(replicaset, namespace) (1, max by (replicaset, namespace, owner_name) (kube_replicaset_"
       "owner{job=\"kube-state-metrics\"})), \"workload\", \"$1\", \"owner_name\", \"(.*)\"))",
       {{"workload_type", "deployment"}}},
      {"namespace_workload_pod:kube_pod_owner:relabel",
       OwnedBy("DaemonSet"),
       {{"workload_type", "daemonset"}}},
      {"namespace_workload_pod:kube_pod_owner:relabel",
       OwnedBy("StatefulSet"),
       {{"workload_type", "statefulset"}}},
      {"namespace_workload_pod:kube_pod_owner:relabel", OwnedBy("Job"), {{"workload_type", "job"}}},
      {":node_memory_MemAvailable_bytes:sum",
       fmt::format("sum({}) by (cluster)", kMemAvailable),
       {}},
      {"cluster:node_cpu:ratio_rate5m",
       "sum(rate(node_cpu_seconds_total{job=\"node\",mode!=\"idle\",mode!=\"iowait\",mode!="
       "\"steal\"}[5m])) by (cluster) / count(sum(node_cpu_seconds_total{job=\"node\"}) by "
       "(cluster, instance, cpu)) by (cluster)",
       {}},
  };
  return rules;
}

std::string RecordingRulesAsPrometheusYaml() {
  std::string out = "groups:\n";
  auto group = [&out](const char* name, const std::vector<RecordingRule>& rules) {
    out += fmt::format("  - name: {}\n    interval: 1m\n    rules:\n", name);
    for (const auto& r : rules) {
      // Single-quoted YAML scalars: only the quote itself needs doubling.
      std::string expr;
      for (char c : r.expression)
        expr += (c == '\'') ? std::string("''") : std::string(1, c);
      out += fmt::format("      - record: {}\n        expr: '{}'\n", r.record, expr);
      if (!r.labels.empty()) {
        out += "        labels:\n";
        for (const auto& [k, v] : r.labels)
          out += fmt::format("          {}: {}\n", k, v);
      }
    }
  };
  group("NodeRecordingRulesRuleGroup", NodeRecordingRules());
  group("KubernetesRecordingRulesRuleGroup", KubernetesRecordingRules());
  return out;
}

}  // namespace aic::azure
