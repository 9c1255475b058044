#include "azure/spec.h"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "common/yaml_reader.h"

namespace aic::azure {
namespace {

const std::regex kPoolName("^[a-z][a-z0-9]{0,11}$");
const std::regex kPrefix("^[a-z][a-z0-9-]{0,40}[a-z0-9]$");
const std::regex kLocation("^[a-z][a-z0-9]{1,30}$");
// Standard_<family letters><vCPUs><feature letters>[_<accelerator>][_v<generation>], e.g.
// Standard_D2s_v3, Standard_D4ads_v5, Standard_NC6s_v3, Standard_NC24ads_A100_v4.
const std::regex kVmSize(
    "^Standard_[A-Z]{1,3}[0-9]{1,3}[a-z]{0,6}(_[A-Z][A-Za-z0-9]{1,8})?(_v[0-9])?$");
const std::regex kVersion("^([0-9]+)\\.([0-9]+)(\\.([0-9]+))?$");
const std::regex kTaint(
    "^[A-Za-z0-9][-A-Za-z0-9_./"
    "]{0,252}=[-A-Za-z0-9_.]{0,63}:(NoSchedule|PreferNoSchedule|NoExecute)$");
const std::regex kSubscription("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$");
const std::regex kAllowKey("^[A-Za-z0-9][-A-Za-z0-9_./]*$");

void ReadAllowlist(YamlReader& r, const YAML::Node& parent, const char* key,
                   std::map<std::string, std::vector<std::string>>* out) {
  auto n = parent[key];
  if (!n) return;
  if (!r.IsMap(n, fmt::format("\"{}\"", key))) return;
  out->clear();
  for (const auto& kv : n) {
    auto kind = kv.first.as<std::string>();
    std::vector<std::string> keys;
    if (!kv.second.IsSequence()) {
      r.Error(kv.second.Mark(), fmt::format("\"{}.{}\" must be a list of keys", key, kind));
      continue;
    }
    for (const auto& item : kv.second) {
      auto k = item.as<std::string>();
      if (!std::regex_match(k, kAllowKey) || k.find_first_of(",[]=") != std::string::npos) {
        r.Error(item.Mark(), fmt::format("\"{}\" is not a Kubernetes label or annotation key", k));
      }
      keys.push_back(k);
    }
    (*out)[kind] = keys;
  }
}

void ReadPool(YamlReader& r, const YAML::Node& n, const std::string& where, bool system,
              PoolSpec* p) {
  if (!r.IsMap(n, where)) return;
  r.CheckKeys(n, where,
              {"name", "vmSize", "minCount", "maxCount", "zones", "taints", "gpuDriver",
               "managedGPUExperience"});
  r.String(n, "name", &p->name);
  r.String(n, "vmSize", &p->vm_size);
  r.Int(n, "minCount", system ? 1 : 0, 1000, &p->min_count);
  r.Int(n, "maxCount", 1, 1000, &p->max_count);
  r.StringList(n, "zones", &p->zones);
  r.StringList(n, "taints", &p->taints);
  r.String(n, "gpuDriver", &p->gpu_driver);
  r.Bool(n, "managedGPUExperience", &p->managed_gpu_experience);

  r.Match(n, "name", p->name, kPoolName, "^[a-z][a-z0-9]{0,11}$ (lowercase, 1-12 characters)");
  r.Match(n, "vmSize", p->vm_size, kVmSize,
          "a VM size such as Standard_D2s_v3, Standard_D4ads_v5 or Standard_NC6s_v3");
  // Either bound may be the one given: the other is the default then.
  if ((n["maxCount"] || n["minCount"]) && p->min_count > p->max_count) {
    auto at = n["maxCount"] ? n["maxCount"] : n["minCount"];
    r.Error(at.Mark(), fmt::format("\"maxCount\" ({}) is below \"minCount\" ({}); autoscale "
                                   "needs minCount <= maxCount",
                                   p->max_count, p->min_count));
  }
  for (size_t i = 0; n["zones"] && i < p->zones.size(); ++i) {
    const auto& z = p->zones[i];
    if (z != "1" && z != "2" && z != "3") {
      r.Error(n["zones"][i].Mark(), fmt::format("zone \"{}\"; allowed: 1, 2, 3", z));
    }
  }
  for (size_t i = 0; n["taints"] && i < p->taints.size(); ++i) {
    if (!std::regex_match(p->taints[i], kTaint)) {
      r.Error(n["taints"][i].Mark(),
              fmt::format("taint \"{}\"; allowed: key=value:NoSchedule|PreferNoSchedule|NoExecute",
                          p->taints[i]));
    }
  }
  r.OneOf(n, "gpuDriver", p->gpu_driver, {"", "Install", "None"});
  if (n["gpuDriver"] && !p->gpu_driver.empty() && !IsGpuVmSize(p->vm_size)) {
    r.Error(n["gpuDriver"].Mark(),
            fmt::format("\"gpuDriver\" needs an N-series GPU size; \"{}\" has no GPU; remove the "
                        "field or choose e.g. Standard_NC6s_v3",
                        p->vm_size));
  }
  if (system && (n["gpuDriver"] || n["managedGPUExperience"])) {
    r.Error(n.Mark(), "the system pool takes no GPU settings");
  }
}

void ReadCluster(YamlReader& r, const YAML::Node& n, AksSpec* s) {
  if (!r.IsMap(n, "\"cluster\"")) return;
  r.CheckKeys(n, "cluster",
              {"kubernetesVersion", "gatewayAPI", "systemPool", "istio", "monitoring"});
  r.String(n, "kubernetesVersion", &s->kubernetes_version);
  if (auto v = n["kubernetesVersion"]) {
    std::smatch m;
    if (!std::regex_match(s->kubernetes_version, m, kVersion)) {
      r.Error(v.Mark(),
              fmt::format("\"kubernetesVersion\" is \"{}\"; allowed: MAJOR.MINOR[.PATCH], "
                          "1.34 or later",
                          s->kubernetes_version));
    } else if (std::stoi(m[1]) < 1 || (std::stoi(m[1]) == 1 && std::stoi(m[2]) < 34)) {
      r.Error(v.Mark(), fmt::format("\"kubernetesVersion\" is {}; AI conformance needs 1.34 or "
                                    "later (e.g. 1.34.2)",
                                    s->kubernetes_version));
    }
  }
  r.String(n, "gatewayAPI", &s->gateway_api);
  r.OneOf(n, "gatewayAPI", s->gateway_api, {"Standard", "Disabled"});
  if (auto p = n["systemPool"]) ReadPool(r, p, "\"cluster.systemPool\"", true, &s->system_pool);
  if (auto i = n["istio"]; i && r.IsMap(i, "\"cluster.istio\"")) {
    r.CheckKeys(i, "cluster.istio",
                {"enabled", "revision", "externalIngressGateway", "internalIngressGateway"});
    r.Bool(i, "enabled", &s->istio.enabled);
    r.String(i, "revision", &s->istio.revision);
    r.Match(i, "revision", s->istio.revision, std::regex("^asm-[0-9]+-[0-9]+$"),
            "asm-MAJOR-MINOR, e.g. asm-1-28");
    r.Bool(i, "externalIngressGateway", &s->istio.external_ingress_gateway);
    r.Bool(i, "internalIngressGateway", &s->istio.internal_ingress_gateway);
  }
  if (auto m = n["monitoring"]; m && r.IsMap(m, "\"cluster.monitoring\"")) {
    r.CheckKeys(m, "cluster.monitoring", {"enabled", "labelsAllowlist", "annotationsAllowlist"});
    r.Bool(m, "enabled", &s->monitoring.enabled);
    ReadAllowlist(r, m, "labelsAllowlist", &s->monitoring.labels_allowlist);
    ReadAllowlist(r, m, "annotationsAllowlist", &s->monitoring.annotations_allowlist);
  }
}

void ReadTop(YamlReader& r, const YAML::Node& root, AksSpec* s) {
  r.CheckKeys(root, "the spec",
              {"apiVersion", "kind", "subscription", "prefix", "location", "tags", "auth",
               "cluster", "acceleratorPool"});
  std::string kind = "AksEnvironment";
  r.String(root, "kind", &kind);
  r.OneOf(root, "kind", kind, {"AksEnvironment"});
  r.String(root, "subscription", &s->subscription);
  if (!s->subscription.empty()) {
    r.Match(root, "subscription", s->subscription, kSubscription, "a subscription id (a GUID)");
  }
  r.String(root, "prefix", &s->prefix);
  r.Match(root, "prefix", s->prefix, kPrefix,
          "lowercase letters, digits and '-', 2-42 characters, starting with a letter");
  r.String(root, "location", &s->location);
  r.Match(root, "location", s->location, kLocation, "an Azure region name such as centralus");
  r.String(root, "auth", &s->auth);
  r.OneOf(root, "auth", s->auth, {"", "env", "workload-identity", "managed-identity", "cli"});
  if (auto t = root["tags"]; t && r.IsMap(t, "\"tags\"")) {
    s->tags.clear();
    for (const auto& kv : t)
      s->tags[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  if (auto c = root["cluster"]) ReadCluster(r, c, s);
  if (auto p = root["acceleratorPool"]) {
    ReadPool(r, p, "\"acceleratorPool\"", false, &s->accelerator_pool);
  }
  if (s->accelerator_pool.name == s->system_pool.name) {
    // Point at whichever name the spec spelt out.
    auto name_in = [](const YAML::Node& pool) {
      return pool && pool.IsMap() ? pool["name"] : YAML::Node();
    };
    YAML::Node at = name_in(root["acceleratorPool"]);
    if (!at && root["cluster"] && root["cluster"].IsMap())
      at = name_in(root["cluster"]["systemPool"]);
    r.Error(at ? at.Mark() : root.Mark(),
            fmt::format("the accelerator pool and the system pool are both named \"{}\"; pool "
                        "names must differ",
                        s->system_pool.name));
  }
}

}  // namespace

AksSpec::AksSpec() {
  system_pool = PoolSpec{"system", "Standard_D2s_v3", 2, 5, {"1", "2", "3"}, {}, "", false};
  accelerator_pool =
      PoolSpec{"gpunp", "Standard_D4s_v3", 1, 3, {}, {"sku=gpu:NoSchedule"}, "", false};
}

Result<AksSpec> ParseSpec(const std::string& yaml_text, const std::string& file_name) {
  AksSpec spec;
  spec.file = file_name;
  YamlReader r(file_name);
  try {
    YAML::Node root = YAML::Load(yaml_text);
    if (!root.IsMap()) {
      r.Error(root.Mark(), "the spec must be a mapping (see examples/aks-ai-conformant.yaml)");
    } else {
      ReadTop(r, root, &spec);
    }
  } catch (const YAML::Exception& e) {
    r.Error(e.mark, e.msg);
  }
  if (!r.ok()) return Status(Code::kInvalidArgument, r.Joined());
  return spec;
}

Result<AksSpec> LoadSpec(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error(Code::kInvalidArgument, "cannot read spec \"{}\"", path);
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseSpec(buf.str(), path);
}

std::string RenderAllowlist(const std::map<std::string, std::vector<std::string>>& list) {
  std::vector<std::string> parts;
  for (const auto& [kind, keys] : list) {
    parts.push_back(fmt::format("{}=[{}]", kind, fmt::join(keys, ",")));
  }
  return fmt::format("{}", fmt::join(parts, ","));
}

bool IsGpuVmSize(const std::string& vm_size) {
  return vm_size.rfind("Standard_N", 0) == 0;
}

}  // namespace aic::azure
