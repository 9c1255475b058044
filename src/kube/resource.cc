#include "kube/resource.h"

#include "common/http.h"

namespace aic::kube {
namespace {

void AddParam(std::string* query, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  query->append(query->empty() ? "?" : "&");
  query->append(key);
  query->append("=");
  query->append(http::Escape(value));
}

}  // namespace

Result<GroupVersionKind> GroupVersionKind::FromObject(const json& object) {
  if (!object.is_object()) return Status(Code::kInvalidArgument, "object is not a JSON object");
  std::string api_version = object.value("apiVersion", "");
  std::string kind = object.value("kind", "");
  if (api_version.empty() || kind.empty()) {
    return Status(Code::kInvalidArgument, "object has no apiVersion or kind");
  }
  GroupVersionKind gvk;
  auto slash = api_version.find('/');
  if (slash == std::string::npos) {
    gvk.version = api_version;
  } else {
    gvk.group = api_version.substr(0, slash);
    gvk.version = api_version.substr(slash + 1);
  }
  gvk.kind = kind;
  return gvk;
}

std::string ResourceInfo::Path(std::string_view ns, std::string_view name,
                               std::string_view subresource) const {
  std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) path += "/namespaces/" + http::Escape(ns);
  path += "/" + resource;
  if (!name.empty()) path += "/" + http::Escape(name);
  if (!name.empty() && !subresource.empty()) path += "/" + std::string(subresource);
  return path;
}

std::string ListQuery(const ListOptions& o) {
  std::string q;
  AddParam(&q, "labelSelector", o.label_selector);
  AddParam(&q, "fieldSelector", o.field_selector);
  if (o.limit > 0) AddParam(&q, "limit", std::to_string(o.limit));
  AddParam(&q, "continue", o.continue_token);
  AddParam(&q, "resourceVersion", o.resource_version);
  if (!o.resource_version.empty()) AddParam(&q, "resourceVersionMatch", o.resource_version_match);
  return q;
}

std::string WatchQuery(const WatchOptions& o) {
  std::string q = "?watch=1";
  AddParam(&q, "labelSelector", o.label_selector);
  AddParam(&q, "fieldSelector", o.field_selector);
  AddParam(&q, "resourceVersion", o.resource_version);
  if (o.allow_bookmarks) AddParam(&q, "allowWatchBookmarks", "true");
  if (o.timeout_seconds > 0) AddParam(&q, "timeoutSeconds", std::to_string(o.timeout_seconds));
  return q;
}

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

Result<std::string> PatchQuery(PatchType type, const PatchOptions& o) {
  if (type == PatchType::kApply && o.field_manager.empty()) {
    return Status(Code::kInvalidArgument, "server-side apply needs a field manager");
  }
  if (type != PatchType::kApply && o.force) {
    return Status(Code::kInvalidArgument, "force is only valid for server-side apply");
  }
  std::string q;
  AddParam(&q, "fieldManager", o.field_manager);
  if (o.force) AddParam(&q, "force", "true");
  if (o.dry_run) AddParam(&q, "dryRun", "All");
  return q;
}

Result<std::string> ApplyBody(const ResourceInfo& resource, json object) {
  if (!object.is_object()) return Status(Code::kInvalidArgument, "apply: object is not a map");
  std::string api_version = object.value("apiVersion", "");
  std::string kind = object.value("kind", "");
  if (!api_version.empty() && api_version != resource.ApiVersion()) {
    return Error(Code::kInvalidArgument, "apply: object apiVersion \"{}\" does not match {}",
                 api_version, resource.ApiVersion());
  }
  if (!kind.empty() && kind != resource.kind) {
    return Error(Code::kInvalidArgument, "apply: object kind \"{}\" does not match {}", kind,
                 resource.kind);
  }
  object["apiVersion"] = resource.ApiVersion();
  object["kind"] = resource.kind;
  json& meta = object["metadata"];
  if (!meta.is_object() || meta.value("name", "").empty()) {
    return Status(Code::kInvalidArgument, "apply: metadata.name is required");
  }
  meta.erase("managedFields");
  return object.dump();
}

json DeleteBody(const DeleteOptions& o) {
  json body = {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "DeleteOptions"}};
  if (!o.propagation_policy.empty()) body["propagationPolicy"] = o.propagation_policy;
  if (o.grace_period_seconds) body["gracePeriodSeconds"] = *o.grace_period_seconds;
  if (o.precondition_uid) body["preconditions"]["uid"] = *o.precondition_uid;
  if (o.precondition_resource_version) {
    body["preconditions"]["resourceVersion"] = *o.precondition_resource_version;
  }
  if (o.dry_run) body["dryRun"] = json::array({"All"});
  return body;
}

std::string Describe(const ResourceInfo& resource, std::string_view ns, std::string_view name) {
  std::string what = resource.resource;
  if (!resource.group.empty()) what += "." + resource.group;
  if (!name.empty()) what += fmt::format(" \"{}\"", name);
  if (resource.namespaced && !ns.empty()) what += fmt::format(" in namespace \"{}\"", ns);
  return what;
}

}  // namespace aic::kube
