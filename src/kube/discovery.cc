// Discovery: which resources the server serves, cached per group-version.
#include <algorithm>

#include "kube/client.h"

namespace aic::kube {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return tolower(c); });
  return out;
}

bool LooksLikeVersion(std::string_view s) {
  return s.size() >= 2 && s[0] == 'v' && isdigit(static_cast<unsigned char>(s[1]));
}

}  // namespace

void Client::InvalidateDiscovery() {
  std::lock_guard lock(mu_);
  discovery_.clear();
  preferred_.clear();
}

// The resources of one group-version ("v1", "apps/v1"), subresources left out. The network
// call runs without the lock held.
Result<std::vector<Client::Discovered>> Client::GroupVersionResources(
    const Context& ctx, const std::string& group_version, bool refresh) {
  {
    std::lock_guard lock(mu_);
    auto it = discovery_.find(group_version);
    if (it != discovery_.end() && !refresh) return it->second;
  }
  std::string path = group_version == "v1" ? "/api/v1" : "/apis/" + group_version;
  AIC_ASSIGN_OR_RETURN(json doc, SendJson(ctx, {"GET", path, "", "", "discover " + group_version}));
  auto slash = group_version.find('/');
  std::string group = slash == std::string::npos ? "" : group_version.substr(0, slash);
  std::string version = group_version.substr(slash == std::string::npos ? 0 : slash + 1);

  std::vector<Discovered> found;
  for (const auto& r : doc.value("resources", json::array())) {
    std::string name = r.value("name", "");
    if (name.empty() || name.find('/') != std::string::npos) continue;
    Discovered d;
    d.info = {group, version, name, r.value("kind", ""), r.value("namespaced", false)};
    d.names = {name, Lower(d.info.kind)};
    if (!r.value("singularName", "").empty()) d.names.push_back(r.value("singularName", ""));
    for (const auto& s : r.value("shortNames", json::array()))
      d.names.push_back(s);
    found.push_back(std::move(d));
  }
  std::lock_guard lock(mu_);
  discovery_[group_version] = found;
  return found;
}

// group -> preferred version for every API group, "" -> "v1" for the core group.
Result<std::map<std::string, std::string>> Client::PreferredVersions(const Context& ctx,
                                                                     bool refresh) {
  {
    std::lock_guard lock(mu_);
    if (!preferred_.empty() && !refresh) return preferred_;
  }
  AIC_ASSIGN_OR_RETURN(json doc, SendJson(ctx, {"GET", "/apis", "", "", "discover API groups"}));
  std::map<std::string, std::string> preferred = {{"", "v1"}};
  for (const auto& g : doc.value("groups", json::array())) {
    std::string gv = g.value("preferredVersion", json::object()).value("groupVersion", "");
    auto slash = gv.find('/');
    if (slash != std::string::npos) preferred[g.value("name", "")] = gv.substr(slash + 1);
  }
  std::lock_guard lock(mu_);
  preferred_ = preferred;
  return preferred;
}

Result<ResourceInfo> Client::Resource(const Context& ctx, const GroupVersionKind& gvk) {
  for (bool refresh : {false, true}) {
    auto resources = GroupVersionResources(ctx, gvk.ApiVersion(), refresh);
    if (!resources.ok() && resources.status().code() != Code::kNotFound) {
      return resources.status();
    }
    if (!resources.ok()) continue;
    for (const auto& d : *resources) {
      if (d.info.kind == gvk.kind) return d.info;
    }
  }
  return Error(Code::kNotFound, "the server at {} does not serve kind {} in {}", config_.server,
               gvk.kind, gvk.ApiVersion());
}

Result<ResourceInfo> Client::FindByName(const Context& ctx, const std::string& group_version,
                                        const std::string& name) {
  for (bool refresh : {false, true}) {
    AIC_ASSIGN_OR_RETURN(auto resources, GroupVersionResources(ctx, group_version, refresh));
    for (const auto& d : resources) {
      if (std::find(d.names.begin(), d.names.end(), name) != d.names.end()) return d.info;
    }
  }
  return Error(Code::kNotFound, "no resource \"{}\" in {}", name, group_version);
}

Result<ResourceInfo> Client::Resource(const Context& ctx, std::string_view name) {
  std::string lower = Lower(name);
  auto dot = lower.find('.');
  std::string plural = lower.substr(0, dot);
  std::string group = dot == std::string::npos ? "" : lower.substr(dot + 1);
  std::string version;
  if (auto next = group.find('.'); next != std::string::npos && LooksLikeVersion(group)) {
    version = group.substr(0, next);  // "deployments.v1.apps"
    group = group.substr(next + 1);
  }
  AIC_ASSIGN_OR_RETURN(auto preferred, PreferredVersions(ctx, false));
  if (dot != std::string::npos && version.empty() && preferred.count(group) == 0) {
    AIC_ASSIGN_OR_RETURN(preferred, PreferredVersions(ctx, true));  // a group added since
  }
  if (dot != std::string::npos) {
    if (version.empty() && preferred.count(group) == 0) {
      return Error(Code::kNotFound, "the server at {} does not serve API group \"{}\"",
                   config_.server, group);
    }
    if (version.empty()) version = preferred[group];
    return FindByName(ctx, group.empty() ? version : group + "/" + version, plural);
  }
  auto core = FindByName(ctx, "v1", plural);
  if (core.ok() || core.status().code() != Code::kNotFound) return core;
  for (const auto& [g, v] : preferred) {
    if (g.empty()) continue;
    auto found = FindByName(ctx, g + "/" + v, plural);
    if (found.ok()) return found;
  }
  return Error(Code::kNotFound, "the server at {} does not serve a resource named \"{}\"",
               config_.server, std::string(name));
}

Result<ResourceInfo> Client::ResourceFor(const Context& ctx, const json& object) {
  AIC_ASSIGN_OR_RETURN(GroupVersionKind gvk, GroupVersionKind::FromObject(object));
  return Resource(ctx, gvk);
}

}  // namespace aic::kube
