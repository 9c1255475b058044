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

// The resources for `spec` in subscription `subscription`, in a dependency-respecting order.
std::vector<Resource> BuildResources(const AksSpec& spec, const std::string& subscription);

// The subset of `desired` that differs from `actual`, as "a.b.c: old -> new" lines; objects in
// arrays that have a "name" are matched by name. Fields only the server sets are ignored.
std::vector<std::string> DiffFields(const nlohmann::json& desired, const nlohmann::json& actual,
                                    const std::vector<std::string>& drift_ok);

}  // namespace aic::azure
