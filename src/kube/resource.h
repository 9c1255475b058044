// Names of Kubernetes resources and the query strings and bodies of API calls. Pure
// functions: no I/O, so the unit tests pin down exactly what goes over the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace aic::kube {

using json = nlohmann::json;

struct GroupVersionKind {
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;

  // Splits an object's apiVersion ("v1", "apps/v1") and kind.
  static Result<GroupVersionKind> FromObject(const json& object);
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

// One resource of one group-version as discovery reports it.
struct ResourceInfo {
  std::string group;
  std::string version;
  std::string resource;  // plural, lower case: "configmaps"
  std::string kind;      // "ConfigMap"
  bool namespaced = false;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }

  // The URL path of the collection (name == "") or of one object. For a namespaced resource
  // an empty `ns` means all namespaces (valid for list and watch only); for a cluster-scoped
  // one `ns` is ignored. `subresource` ("status", "token", ...) needs a name.
  std::string Path(std::string_view ns, std::string_view name = "",
                   std::string_view subresource = "") const;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;  // 0: no limit
  std::string continue_token;
  std::string resource_version;
  std::string resource_version_match;  // "NotOlderThan" or "Exact", with resource_version
};

// "?labelSelector=...&limit=..." or "" when no option is set; values are percent-encoded.
std::string ListQuery(const ListOptions& options);

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // "" starts with synthetic ADDED events for every object
  bool allow_bookmarks = true;
  int timeout_seconds = 0;  // 0: the server's default
};

// "?watch=1&..." for a watch request.
std::string WatchQuery(const WatchOptions& options);

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJson,            // application/json-patch+json (RFC 6902)
  kStrategicMerge,  // application/strategic-merge-patch+json; built-in types only
  kApply,           // application/apply-patch+yaml: server-side apply
};

const char* PatchContentType(PatchType type);

struct PatchOptions {
  std::string field_manager;  // required for kApply
  bool force = false;         // kApply only: take ownership of conflicting fields
  bool dry_run = false;
};

// The query string of a patch; fails when apply has no field manager or force is set on a
// patch that is not an apply.
Result<std::string> PatchQuery(PatchType type, const PatchOptions& options);

// The body of a server-side apply of `object` as `resource`: apiVersion and kind filled in
// when absent (and checked when present), metadata.managedFields dropped because the server
// rejects them in an apply, metadata.name required.
Result<std::string> ApplyBody(const ResourceInfo& resource, json object);

struct DeleteOptions {
  std::string propagation_policy;  // "Foreground", "Background", "Orphan" or "" (default)
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  std::optional<int64_t> grace_period_seconds;
  bool dry_run = false;
};

// The DeleteOptions body (kind DeleteOptions, meta.k8s.io/v1).
json DeleteBody(const DeleteOptions& options);

// "kind name" for messages: `configmaps "x" in namespace "ns"`.
std::string Describe(const ResourceInfo& resource, std::string_view ns, std::string_view name);

}  // namespace aic::kube
