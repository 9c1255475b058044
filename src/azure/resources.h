// The ARM resources one spec stands for, with their exact request bodies, API versions and the
// dependency edges between them.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "azure/spec.h"

namespace aic::azure {

// API versions: for each resource type the newest stable version that carries every property
// sent. The managed Gateway API (ingressProfile.gatewayAPI) first appears in a stable
// Microsoft.ContainerService version with 2026-02-01.
inline constexpr char kFeaturesApi[] = "2021-07-01";
inline constexpr char kResourcesApi[] = "2024-11-01";
inline constexpr char kContainerServiceApi[] = "2026-02-01";
inline constexpr char kMonitorAccountsApi[] = "2023-04-03";
inline constexpr char kDataCollectionApi[] = "2024-03-11";
inline constexpr char kPrometheusRulesApi[] = "2023-03-01";

enum class ResourceKind {
  kFeature,   // a subscription feature: POST .../register, then wait for "Registered"
  kProvider,  // re-registration of a resource provider after its features changed
  kArm,       // an ordinary resource: PUT body, wait for the operation
};

struct Resource {
  std::string
      key;  // stable short name: "cluster", "pool/gpunp", "feature/ManagedGatewayAPIPreview"
  std::string type;  // e.g. "Microsoft.ContainerService/managedClusters"
  std::string name;
  ResourceKind kind = ResourceKind::kArm;
  std::string id;  // ARM path without api-version
  std::string api_version;
  nlohmann::json body;            // the PUT body (kArm only)
  std::vector<std::string> deps;  // keys of resources that must exist first
  // JSON pointers (into the body) whose server-side values may drift without being a change,
  // e.g. a pool's node count under the cluster autoscaler.
  std::vector<std::string> drift_ok;
};

// The tag aiconform sets on every resource it creates that takes tags (the resource group, the
// cluster, its pools, the Monitor resources, the rule groups); the value is the spec's prefix.
// Azure tag names may not contain '/', so this cannot be spelt "aiconform.io/managed-by".
inline constexpr char kManagedByTag[] = "aiconform-managed-by";

// A list in which resources this spec created may remain after they left the spec (a renamed
// agent pool, a removed rule group or association). Plan lists it and deletes what it owns.
struct OwnedCollection {
  std::string key_prefix;  // an orphan's key is key_prefix + its name
  std::string type;
  std::string list_path;  // ARM path of the list, without api-version
  std::string api_version;
  // Ownership: tags[kManagedByTag] equals `tag_value` when that is set; otherwise a
  // properties.*Id reference starts with `points_into` (associations carry no tags, so one is
  // ours when it points at a collection rule or endpoint in the resource group the spec owns).
  std::string tag_value;
  std::string points_into;
  std::vector<std::string> keep;  // names never deleted (the system pool lives in the cluster)
};

// The resources for `spec` in subscription `subscription`, in a dependency-respecting order.
std::vector<Resource> BuildResources(const AksSpec& spec, const std::string& subscription);

// Where resources that left `spec` may remain: the cluster's agent pools, the rule groups of
// the resource group, and the collection rule associations of the cluster.
std::vector<OwnedCollection> OwnedCollections(const AksSpec& spec, const std::string& subscription);

// True when `item` (one entry of the collection's list) was created by this spec.
bool Owns(const OwnedCollection& collection, const nlohmann::json& item);

// The subset of `desired` that differs from `actual`, as "a.b.c: old -> new" lines; objects in
// arrays that have a "name" are matched by name. Fields only the server sets are ignored.
std::vector<std::string> DiffFields(const nlohmann::json& desired, const nlohmann::json& actual,
                                    const std::vector<std::string>& drift_ok);

}  // namespace aic::azure
