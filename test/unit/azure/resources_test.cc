#include "azure/resources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aic::azure {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;

const Resource& Find(const std::vector<Resource>& rs, const std::string& key) {
  for (const auto& r : rs) {
    if (r.key == key) return r;
  }
  ADD_FAILURE() << "no resource " << key;
  return rs.front();
}

std::vector<Resource> Defaults() {
  return BuildResources(*ParseSpec("kind: AksEnvironment\n", "x"), "sub");
}

TEST(Resources, ClusterEnablesTheManagedGatewayApiTheWayTheApiDefinesIt) {
  auto rs = Defaults();
  const auto& c = Find(rs, "cluster");
  EXPECT_EQ(c.api_version, "2026-02-01");
  EXPECT_EQ(c.body["properties"]["ingressProfile"]["gatewayAPI"]["installation"], "Standard");
  // The proof of concept's property does not exist in the API.
  EXPECT_FALSE(c.body["properties"].contains("networkProfile"));
  EXPECT_EQ(c.body["identity"]["type"], "SystemAssigned");
  EXPECT_EQ(c.body["properties"]["oidcIssuerProfile"]["enabled"], true);
  EXPECT_EQ(c.body["properties"]["securityProfile"]["workloadIdentity"]["enabled"], true);
  EXPECT_EQ(c.body["properties"]["azureMonitorProfile"]["metrics"]["enabled"], true);
  const json& mesh = c.body["properties"]["serviceMeshProfile"];
  EXPECT_EQ(mesh["mode"], "Istio");
  EXPECT_EQ(mesh["istio"]["revisions"], json({"asm-1-28"}));
}

TEST(Resources, SystemPoolIsCriticalAddonsOnlyAcrossThreeZones) {
  auto rs = Defaults();
  const auto& c = Find(rs, "cluster");
  const json& sys = c.body["properties"]["agentPoolProfiles"][0];
  EXPECT_EQ(sys["mode"], "System");
  EXPECT_EQ(sys["minCount"], 2);
  EXPECT_EQ(sys["maxCount"], 5);
  EXPECT_EQ(sys["availabilityZones"], json({"1", "2", "3"}));
  EXPECT_EQ(sys["nodeTaints"], json({"CriticalAddonsOnly=true:NoSchedule"}));
}

TEST(Resources, AcceleratorPoolIsTaintedAndAutoscaled) {
  auto rs = Defaults();
  const auto& p = Find(rs, "pool/gpunp");
  EXPECT_THAT(p.id, HasSubstr("/managedClusters/aks-ai-conformant-dev/agentPools/gpunp"));
  EXPECT_EQ(p.body["properties"]["nodeTaints"], json({"sku=gpu:NoSchedule"}));
  EXPECT_EQ(p.body["properties"]["enableAutoScaling"], true);
  EXPECT_FALSE(p.body["properties"].contains("gpuProfile"));
  EXPECT_THAT(p.deps, ElementsAre("cluster"));
}

TEST(Resources, GpuPoolCarriesTheDriverAndTheManagedExperienceFeature) {
  auto spec = *ParseSpec(
      "acceleratorPool:\n  vmSize: Standard_NC6s_v3\n  gpuDriver: None\n  managedGPUExperience: "
      "true\n",
      "x");
  auto rs = BuildResources(spec, "sub");
  EXPECT_EQ(Find(rs, "pool/gpunp").body["properties"]["gpuProfile"]["driver"], "None");
  EXPECT_EQ(Find(rs, "feature/ManagedGPUExperiencePreview").kind, ResourceKind::kFeature);
  EXPECT_THAT(Find(rs, "provider").deps, ElementsAre("feature/ManagedGatewayAPIPreview",
                                                     "feature/ManagedGPUExperiencePreview"));
}

TEST(Resources, EndpointAssociationHasTheRequiredName) {
  auto rs = Defaults();
  EXPECT_THAT(Find(rs, "dcea").id,
              HasSubstr("/providers/Microsoft.Insights/dataCollectionRuleAssociations/"
                        "configurationAccessEndpoint"));
  const json& dcr = Find(rs, "dcr").body["properties"];
  EXPECT_EQ(dcr["dataSources"]["prometheusForwarder"][0]["streams"],
            json({"Microsoft-PrometheusMetrics"}));
  EXPECT_EQ(Find(rs, "dce").body["kind"], "Linux");
}

TEST(Resources, RuleGroupsAreScopedToWorkspaceAndCluster) {
  auto rs = Defaults();
  const json& node = Find(rs, "rules/node").body["properties"];
  EXPECT_EQ(node["interval"], "PT1M");
  EXPECT_EQ(node["clusterName"], "aks-ai-conformant-dev");
  EXPECT_EQ(node["enabled"], true);
  EXPECT_EQ(node["rules"].size(), 11u);
  EXPECT_EQ(Find(rs, "rules/kubernetes").body["properties"]["rules"].size(), 19u);
  EXPECT_EQ(node["scopes"][0], Find(rs, "workspace").id);
  EXPECT_EQ(node["scopes"][1], Find(rs, "cluster").id);
}

TEST(Resources, EveryDependencyIsDeclaredEarlier) {
  auto rs = Defaults();
  for (size_t i = 0; i < rs.size(); ++i) {
    for (const auto& d : rs[i].deps) {
      bool earlier = false;
      for (size_t j = 0; j < i; ++j)
        earlier |= rs[j].key == d;
      EXPECT_TRUE(earlier) << rs[i].key << " depends on " << d;
    }
  }
}

TEST(Diff, ServerFieldsAreIgnoredAndChangesNamed) {
  json want = {{"properties", {{"vmSize", "Standard_D8s_v3"}, {"count", 1}}}};
  json have = {{"properties",
                {{"vmSize", "Standard_D4s_v3"}, {"count", 3}, {"provisioningState", "Succeeded"}}}};
  auto d = DiffFields(want, have, {"/properties/count"});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0], "properties/vmSize: \"Standard_D4s_v3\" -> \"Standard_D8s_v3\"");
}

TEST(Diff, NamedArrayItemsMatchByName) {
  json want = {{"pools", {{{"name", "system"}, {"maxCount", 5}}}}};
  json have = {
      {"pools", {{{"name", "gpunp"}, {"maxCount", 3}}, {{"name", "system"}, {"maxCount", 5}}}}};
  EXPECT_TRUE(DiffFields(want, have, {}).empty());
}

TEST(Resources, EverythingTaggableCarriesTheManagedByTag) {
  auto rs = Defaults();
  for (const auto& r : rs) {
    if (r.kind != ResourceKind::kArm || r.key == "dcra" || r.key == "dcea") continue;
    const json& tags = r.key == "pool/gpunp" ? r.body["properties"]["tags"] : r.body["tags"];
    EXPECT_EQ(tags.value(kManagedByTag, ""), "aks-ai-conformant-dev") << r.key;
  }
  const json& sys = Find(rs, "cluster").body["properties"]["agentPoolProfiles"][0];
  EXPECT_EQ(sys["tags"][kManagedByTag], "aks-ai-conformant-dev");
}

TEST(Resources, OwnershipOfListedPoolsFollowsTheTagAndSparesTheSystemPool) {
  auto spec = *ParseSpec("kind: AksEnvironment\n", "x");
  auto owned = OwnedCollections(spec, "sub");
  ASSERT_EQ(owned.size(), 3u);
  const OwnedCollection& pools = owned[0];
  EXPECT_THAT(pools.list_path, HasSubstr("/managedClusters/aks-ai-conformant-dev/agentPools"));
  auto pool = [](const std::string& name, const json& tags) {
    return json{{"name", name}, {"properties", {{"tags", tags}}}};
  };
  EXPECT_TRUE(Owns(pools, pool("oldpool", {{kManagedByTag, "aks-ai-conformant-dev"}})));
  EXPECT_FALSE(Owns(pools, pool("system", {{kManagedByTag, "aks-ai-conformant-dev"}})));
  EXPECT_FALSE(Owns(pools, pool("handmade", json::object())));
  EXPECT_FALSE(Owns(pools, pool("other", {{kManagedByTag, "another-env"}})));
  EXPECT_FALSE(Owns(pools, json("not an object")));
}

TEST(Resources, AssociationsAreOursWhenTheyPointIntoTheOwnedGroup) {
  auto owned = OwnedCollections(*ParseSpec("kind: AksEnvironment\n", "x"), "sub");
  const OwnedCollection& assoc = owned[2];
  auto to = [](const char* field, const std::string& id) {
    return json{{"name", "a"}, {"properties", {{field, id}}}};
  };
  // ARM may return ids in another case.
  EXPECT_TRUE(Owns(assoc, to("dataCollectionRuleId",
                             "/subscriptions/sub/resourcegroups/AKS-AI-CONFORMANT-DEV-RG/providers/"
                             "Microsoft.Insights/dataCollectionRules/x")));
  EXPECT_TRUE(Owns(assoc, to("dataCollectionEndpointId",
                             "/subscriptions/sub/resourceGroups/aks-ai-conformant-dev-rg/providers/"
                             "Microsoft.Insights/dataCollectionEndpoints/x")));
  EXPECT_FALSE(Owns(assoc, to("dataCollectionRuleId",
                              "/subscriptions/sub/resourceGroups/aks-ai-conformant-dev-rg2/"
                              "providers/Microsoft.Insights/dataCollectionRules/x")));
  EXPECT_FALSE(Owns(assoc, json{{"name", "a"}}));
}

}  // namespace
}  // namespace aic::azure
