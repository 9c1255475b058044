#include "azure/resources.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "azure/rules.h"

namespace aic::azure {
namespace {

using json = nlohmann::json;

json Tags(const AksSpec& spec) {
  json tags = json::object();
  for (const auto& [k, v] : spec.tags)
    tags[k] = v;
  tags[kManagedByTag] = spec.prefix;
  return tags;
}

std::string Lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string ResourceGroupId(const AksSpec& spec, const std::string& subscription) {
  return "/subscriptions/" + subscription + "/resourceGroups/" + spec.ResourceGroup();
}

std::string ClusterId(const AksSpec& spec, const std::string& subscription) {
  return ResourceGroupId(spec, subscription) +
         "/providers/Microsoft.ContainerService/managedClusters/" + spec.ClusterName();
}

json PoolProperties(const AksSpec& spec, const PoolSpec& pool, bool system) {
  json p = {
      {"mode", system ? "System" : "User"},
      {"vmSize", pool.vm_size},
      {"osType", "Linux"},
      {"type", "VirtualMachineScaleSets"},
      {"orchestratorVersion", spec.kubernetes_version},
      {"enableAutoScaling", true},
      {"count", pool.min_count},
      {"minCount", pool.min_count},
      {"maxCount", pool.max_count},
  };
  if (!pool.zones.empty()) p["availabilityZones"] = pool.zones;
  std::vector<std::string> taints = pool.taints;
  // "Critical add-ons only": AKS keeps user workloads off a system pool tainted this way.
  if (system) taints.push_back("CriticalAddonsOnly=true:NoSchedule");
  if (!taints.empty()) p["nodeTaints"] = taints;
  if (!pool.gpu_driver.empty()) p["gpuProfile"] = {{"driver", pool.gpu_driver}};
  // Node pools carry tags of their own; the spec's tag marks the pools aiconform created.
  p["tags"] = {{kManagedByTag, spec.prefix}};
  if (pool.managed_gpu_experience) p["tags"]["EnableManagedGPUExperience"] = "true";
  return p;
}

json ClusterBody(const AksSpec& spec) {
  json sys = PoolProperties(spec, spec.system_pool, true);
  sys["name"] = spec.system_pool.name;
  json props = {
      {"kubernetesVersion", spec.kubernetes_version},
      {"dnsPrefix", spec.prefix},
      {"enableRBAC", true},
      {"agentPoolProfiles", json::array({sys})},
      {"oidcIssuerProfile", {{"enabled", true}}},
      {"securityProfile", {{"workloadIdentity", {{"enabled", true}}}}},
      {"ingressProfile", {{"gatewayAPI", {{"installation", spec.gateway_api}}}}},
  };
  if (spec.istio.enabled) {
    props["serviceMeshProfile"] = {
        {"mode", "Istio"},
        {"istio",
         {{"revisions", {spec.istio.revision}},
          {"components",
           {{"ingressGateways",
             {{{"mode", "External"}, {"enabled", spec.istio.external_ingress_gateway}},
              {{"mode", "Internal"}, {"enabled", spec.istio.internal_ingress_gateway}}}}}}}}};
  }
  json metrics = {{"enabled", spec.monitoring.enabled}};
  json ksm = json::object();
  if (!spec.monitoring.labels_allowlist.empty()) {
    ksm["metricLabelsAllowlist"] = RenderAllowlist(spec.monitoring.labels_allowlist);
  }
  if (!spec.monitoring.annotations_allowlist.empty()) {
    // The API spells this one with a capital L.
    ksm["metricAnnotationsAllowList"] = RenderAllowlist(spec.monitoring.annotations_allowlist);
  }
  if (!ksm.empty()) metrics["kubeStateMetrics"] = ksm;
  props["azureMonitorProfile"] = {{"metrics", metrics}};
  return {{"location", spec.location},
          {"tags", Tags(spec)},
          {"identity", {{"type", "SystemAssigned"}}},
          {"properties", props}};
}

json RuleGroupBody(const AksSpec& spec, const std::string& workspace_id,
                   const std::string& cluster_id, const char* description,
                   const std::vector<RecordingRule>& rules) {
  json list = json::array();
  for (const auto& r : rules) {
    json rule = {{"record", r.record}, {"expression", r.expression}, {"enabled", true}};
    if (!r.labels.empty()) rule["labels"] = r.labels;
    list.push_back(rule);
  }
  return {{"location", spec.location},
          {"tags", Tags(spec)},
          {"properties",
           {{"description", description},
            {"scopes", {workspace_id, cluster_id}},
            {"clusterName", spec.ClusterName()},
            {"enabled", true},
            {"interval", "PT1M"},
            {"rules", list}}}};
}

std::string Render(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

void Diff(const json& want, const json& have, const std::string& path,
          const std::vector<std::string>& drift_ok, std::vector<std::string>* out) {
  if (std::find(drift_ok.begin(), drift_ok.end(), path) != drift_ok.end()) return;
  if (want.is_object()) {
    for (const auto& [k, v] : want.items()) {
      static const json kNull;
      const json& h = have.is_object() && have.contains(k) ? have[k] : kNull;
      Diff(v, h, path + "/" + k, drift_ok, out);
    }
    return;
  }
  bool named = want.is_array() && !want.empty() && want[0].is_object() && want[0].contains("name");
  if (named && have.is_array()) {
    for (const auto& w : want) {
      auto it = std::find_if(have.begin(), have.end(), [&](const json& h) {
        return h.is_object() && h.value("name", "") == w.value("name", "");
      });
      std::string sub = path + "[" + w.value("name", "") + "]";
      if (it == have.end()) {
        out->push_back(fmt::format("{}: (none) -> {}", sub, Render(w)));
      } else {
        Diff(w, *it, sub, drift_ok, out);
      }
    }
    return;
  }
  if (want != have) {
    out->push_back(fmt::format("{}: {} -> {}", path.substr(1),
                               have.is_null() ? "(none)" : Render(have), Render(want)));
  }
}

}  // namespace

std::vector<std::string> DiffFields(const json& desired, const json& actual,
                                    const std::vector<std::string>& drift_ok) {
  std::vector<std::string> out;
  Diff(desired, actual, "", drift_ok, &out);
  for (auto& line : out) {
    if (!line.empty() && line[0] == '/') line.erase(0, 1);
  }
  return out;
}

std::vector<Resource> BuildResources(const AksSpec& spec, const std::string& subscription) {
  std::vector<Resource> out;
  const std::string sub = "/subscriptions/" + subscription;
  const std::string rg = ResourceGroupId(spec, subscription);

  // 1. Features under Microsoft.ContainerService, then the provider's re-registration.
  std::vector<std::string> features = {"ManagedGatewayAPIPreview"};
  if (spec.accelerator_pool.managed_gpu_experience) {
    features.push_back("ManagedGPUExperiencePreview");
  }
  std::vector<std::string> feature_keys;
  for (const auto& f : features) {
    out.push_back({"feature/" + f,
                   "Microsoft.Features/features",
                   f,
                   ResourceKind::kFeature,
                   sub +
                       "/providers/Microsoft.Features/providers/Microsoft.ContainerService/"
                       "features/" +
                       f,
                   kFeaturesApi,
                   json(),
                   {},
                   {}});
    feature_keys.push_back("feature/" + f);
  }
  out.push_back({"provider",
                 "Microsoft.Resources/providers",
                 "Microsoft.ContainerService",
                 ResourceKind::kProvider,
                 sub + "/providers/Microsoft.ContainerService",
                 kResourcesApi,
                 json(),
                 feature_keys,
                 {}});

  // 2. Resource group.
  out.push_back({"group",
                 "Microsoft.Resources/resourceGroups",
                 spec.ResourceGroup(),
                 ResourceKind::kArm,
                 rg,
                 kResourcesApi,
                 {{"location", spec.location}, {"tags", Tags(spec)}},
                 {},
                 {}});

  // 3. Cluster and 4. the accelerator pool.
  const std::string cluster_id = ClusterId(spec, subscription);
  out.push_back({"cluster",
                 "Microsoft.ContainerService/managedClusters",
                 spec.ClusterName(),
                 ResourceKind::kArm,
                 cluster_id,
                 kContainerServiceApi,
                 ClusterBody(spec),
                 {"group", "provider"},
                 {"/properties/agentPoolProfiles[" + spec.system_pool.name + "]/count"}});
  const auto& pool = spec.accelerator_pool;
  out.push_back({"pool/" + pool.name,
                 "Microsoft.ContainerService/managedClusters/agentPools",
                 pool.name,
                 ResourceKind::kArm,
                 cluster_id + "/agentPools/" + pool.name,
                 kContainerServiceApi,
                 {{"properties", PoolProperties(spec, pool, false)}},
                 {"cluster"},
                 {"/properties/count"}});

  // 5. Managed Prometheus: workspace, collection endpoint and rule, their associations.
  const std::string ws_id = rg + "/providers/Microsoft.Monitor/accounts/" + spec.WorkspaceName();
  const std::string dce_id =
      rg + "/providers/Microsoft.Insights/dataCollectionEndpoints/" + spec.CollectionName();
  const std::string dcr_id =
      rg + "/providers/Microsoft.Insights/dataCollectionRules/" + spec.CollectionName();
  out.push_back({"workspace",
                 "Microsoft.Monitor/accounts",
                 spec.WorkspaceName(),
                 ResourceKind::kArm,
                 ws_id,
                 kMonitorAccountsApi,
                 {{"location", spec.location}, {"tags", Tags(spec)}},
                 {"group"},
                 {}});
  out.push_back({"dce",
                 "Microsoft.Insights/dataCollectionEndpoints",
                 spec.CollectionName(),
                 ResourceKind::kArm,
                 dce_id,
                 kDataCollectionApi,
                 {{"location", spec.location},
                  {"tags", Tags(spec)},
                  {"kind", "Linux"},
                  {"properties", json::object()}},
                 {"group"},
                 {}});
  json dcr_props = {
      {"dataCollectionEndpointId", dce_id},
      {"dataSources",
       {{"prometheusForwarder",
         {{{"name", "PrometheusDataSource"},
           {"streams", {"Microsoft-PrometheusMetrics"}},
           {"labelIncludeFilter", json::object()}}}}}},
      {"destinations",
       {{"monitoringAccounts", {{{"name", "MonitoringAccount1"}, {"accountResourceId", ws_id}}}}}},
      {"dataFlows",
       {{{"streams", {"Microsoft-PrometheusMetrics"}}, {"destinations", {"MonitoringAccount1"}}}}},
  };
  out.push_back({"dcr",
                 "Microsoft.Insights/dataCollectionRules",
                 spec.CollectionName(),
                 ResourceKind::kArm,
                 dcr_id,
                 kDataCollectionApi,
                 {{"location", spec.location},
                  {"tags", Tags(spec)},
                  {"kind", "Linux"},
                  {"properties", dcr_props}},
                 {"dce", "workspace"},
                 {}});
  const std::string assoc =
      cluster_id + "/providers/Microsoft.Insights/dataCollectionRuleAssociations/";
  out.push_back({"dcra",
                 "Microsoft.Insights/dataCollectionRuleAssociations",
                 spec.CollectionName(),
                 ResourceKind::kArm,
                 assoc + spec.CollectionName(),
                 kDataCollectionApi,
                 {{"properties",
                   {{"dataCollectionRuleId", dcr_id},
                    {"description", "Sends the cluster's Prometheus metrics to the workspace."}}}},
                 {"dcr", "cluster"},
                 {}});
  // The endpoint association must carry exactly this name for the metrics add-on to find it.
  out.push_back({"dcea",
                 "Microsoft.Insights/dataCollectionRuleAssociations",
                 "configurationAccessEndpoint",
                 ResourceKind::kArm,
                 assoc + "configurationAccessEndpoint",
                 kDataCollectionApi,
                 {{"properties", {{"dataCollectionEndpointId", dce_id}}}},
                 {"dce", "cluster"},
                 {}});

  // 6. Recording rule groups, scoped to the workspace and the cluster.
  const std::string rules = rg + "/providers/Microsoft.AlertsManagement/prometheusRuleGroups/";
  const std::string node_group = "NodeRecordingRulesRuleGroup-" + spec.ClusterName();
  const std::string kube_group = "KubernetesRecordingRulesRuleGroup-" + spec.ClusterName();
  out.push_back({"rules/node",
                 "Microsoft.AlertsManagement/prometheusRuleGroups",
                 node_group,
                 ResourceKind::kArm,
                 rules + node_group,
                 kPrometheusRulesApi,
                 RuleGroupBody(spec, ws_id, cluster_id, "Node Recording Rules RuleGroup",
                               NodeRecordingRules()),
                 {"workspace", "cluster"},
                 {}});
  out.push_back({"rules/kubernetes",
                 "Microsoft.AlertsManagement/prometheusRuleGroups",
                 kube_group,
                 ResourceKind::kArm,
                 rules + kube_group,
                 kPrometheusRulesApi,
                 RuleGroupBody(spec, ws_id, cluster_id, "Kubernetes Recording Rules RuleGroup",
                               KubernetesRecordingRules()),
                 {"workspace", "cluster"},
                 {}});
  return out;
}

std::vector<OwnedCollection> OwnedCollections(const AksSpec& spec,
                                              const std::string& subscription) {
  const std::string rg = ResourceGroupId(spec, subscription);
  const std::string cluster = ClusterId(spec, subscription);
  return {
      {"pool/",
       "Microsoft.ContainerService/managedClusters/agentPools",
       cluster + "/agentPools",
       kContainerServiceApi,
       spec.prefix,
       "",
       {spec.system_pool.name}},
      {"rules/",
       "Microsoft.AlertsManagement/prometheusRuleGroups",
       rg + "/providers/Microsoft.AlertsManagement/prometheusRuleGroups",
       kPrometheusRulesApi,
       spec.prefix,
       "",
       {}},
      {"association/",
       "Microsoft.Insights/dataCollectionRuleAssociations",
       cluster + "/providers/Microsoft.Insights/dataCollectionRuleAssociations",
       kDataCollectionApi,
       "",
       rg + "/",
       {}},
  };
}

bool Owns(const OwnedCollection& c, const json& item) {
  if (!item.is_object()) return false;
  std::string name = item.value("name", "");
  for (const auto& k : c.keep) {
    if (Lower(k) == Lower(name)) return false;
  }
  if (!c.tag_value.empty()) {
    // Pools keep their tags under properties; tracked resources at the top.
    for (const json* holder : {&item, item.contains("properties") ? &item["properties"] : &item}) {
      const json& tags = holder->contains("tags") ? (*holder)["tags"] : json();
      if (tags.is_object() && tags.value(kManagedByTag, "") == c.tag_value) return true;
    }
    return false;
  }
  if (c.points_into.empty() || !item.contains("properties")) return false;
  const json& props = item["properties"];
  if (!props.is_object()) return false;
  for (const char* field : {"dataCollectionRuleId", "dataCollectionEndpointId"}) {
    std::string ref = Lower(props.value(field, ""));
    if (!ref.empty() && ref.rfind(Lower(c.points_into), 0) == 0) return true;
  }
  return false;
}

}  // namespace aic::azure
