// `aiconform plan / up / down --target aks`: read the spec, pick credentials, talk to ARM.
#include "azure/commands.h"

#include <sys/stat.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/evp.h>

#include "azure/arm.h"
#include "azure/engine.h"
#include "azure/resources.h"
#include "azure/spec.h"
#include "common/log.h"
#include "common/report.h"
#include "common/table.h"

namespace aic::azure {
namespace {

using std::chrono::milliseconds;

constexpr char kPlaceholderSubscription[] = "{subscriptionId}";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int Fail(const Status& st) {
  int code = st.code() == Code::kInvalidArgument ? kExitUsage : kExitFailure;
  return ReportError(st.message(), code);
}

struct Session {
  AksSpec spec;
  std::string subscription;
  std::vector<Resource> resources;
  std::vector<OwnedCollection> owned;  // where resources that left the spec may remain
  std::unique_ptr<ArmClient> arm;
  milliseconds poll{10000};
};

// Loads the spec; unless `offline`, also finds credentials and an ARM client.
Result<Session> Open(const AksCommandOptions& o, bool offline) {
  Session s;
  AIC_ASSIGN_OR_RETURN(s.spec, LoadSpec(o.spec_file));
  s.subscription =
      !s.spec.subscription.empty() ? s.spec.subscription : Env("AZURE_SUBSCRIPTION_ID");
  if (s.subscription.empty()) {
    if (!offline) {
      return Status(Code::kInvalidArgument,
                    "no subscription: set \"subscription\" in the spec or AZURE_SUBSCRIPTION_ID");
    }
    s.subscription = kPlaceholderSubscription;
  }
  s.resources = BuildResources(s.spec, s.subscription);
  s.owned = OwnedCollections(s.spec, s.subscription);
  if (offline) return s;

  http::TlsOptions tls;
  tls.ca_file = o.ca_file;
  auto ctx = Context::WithTimeout(std::chrono::seconds(60));
  AuthOptions auth{!o.auth.empty() ? o.auth : s.spec.auth, tls};
  AIC_ASSIGN_OR_RETURN(auto tokens, MakeTokenSource(ctx, auth));
  ArmOptions arm;
  if (!o.arm_endpoint.empty()) arm.endpoint = o.arm_endpoint;
  arm.tls = tls;
  if (auto ms = Env("AIC_AZURE_POLL_INTERVAL_MS"); !ms.empty()) {
    arm.poll_interval = milliseconds(std::atoi(ms.c_str()));
    arm.retry.initial = std::min(arm.retry.initial, arm.poll_interval);
  }
  s.poll = arm.poll_interval;
  AIC_ASSIGN_OR_RETURN(s.arm,
                       ArmClient::Create(arm, std::shared_ptr<TokenSource>(std::move(tokens))));
  return s;
}

std::string Summary(const std::vector<Change>& changes) {
  std::map<Action, int> n;
  for (const auto& c : changes)
    n[c.action]++;
  return fmt::format("{} to create, {} to update, {} to register, {} to delete, {} unchanged",
                     n[Action::kCreate], n[Action::kUpdate], n[Action::kRegister],
                     n[Action::kDelete], n[Action::kUnchanged]);
}

void PrintTable(const std::vector<Change>& changes) {
  std::cout << fmt::format("{:<10} {:<55} {}\n", "ACTION", "RESOURCE", "NAME");
  for (const auto& c : changes) {
    std::cout << fmt::format("{:<10} {:<55} {}\n", ActionName(c.action), c.resource.type,
                             c.resource.name);
    for (const auto& f : c.fields)
      std::cout << "    ~ " << f << "\n";
  }
  std::cout << "\nplan: " << Summary(changes) << "\n";
}

void PrintJson(const std::string& subscription, const std::vector<Change>& changes) {
  json out = {
      {"subscription", subscription}, {"changes", json::array()}, {"requests", json::array()}};
  for (const auto& c : changes) {
    out["changes"].push_back({{"key", c.resource.key},
                              {"type", c.resource.type},
                              {"name", c.resource.name},
                              {"action", ActionName(c.action)},
                              {"fields", c.fields}});
  }
  for (const auto& r : Requests(changes)) {
    json req = {{"key", r.key}, {"action", r.action}, {"method", r.method}, {"path", r.path}};
    if (!r.body.is_null()) req["body"] = r.body;
    out["requests"].push_back(req);
  }
  std::cout << out.dump(2) << "\n";
}

// What `up` did, in the plan's terms.
std::string DoneSummary(const std::vector<Change>& changes) {
  std::map<Action, int> n;
  for (const auto& c : changes)
    n[c.action]++;
  return fmt::format("{} created, {} updated, {} registered, {} deleted, {} unchanged",
                     n[Action::kCreate], n[Action::kUpdate], n[Action::kRegister],
                     n[Action::kDelete], n[Action::kUnchanged]);
}

// Progress lines on stderr, one per step start and end; unchanged resources stay quiet.
std::function<void(const ApplyEvent&)> Progress() {
  auto mu = std::make_shared<std::mutex>();
  return [mu](const ApplyEvent& e) {
    bool quiet = e.what == "start" || e.what == "done";
    if (quiet && e.action == Action::kUnchanged) return;
    std::lock_guard lock(*mu);
    const std::string& name = e.name;
    if (e.what == "start") {
      std::cerr << fmt::format("  ... {} {} {}\n", ActionName(e.action), e.key, name);
    } else if (e.what == "done") {
      std::cerr << fmt::format("  ok  {} {} {} ({:.1f}s)\n", ActionName(e.action), e.key, name,
                               e.elapsed.count() / 1000.0);
    } else {
      std::cerr << fmt::format("  !!  {} {} {}: {}\n", e.what, e.key, name, log::Redact(e.message));
    }
  };
}

std::vector<unsigned char> Base64Decode(const std::string& in) {
  std::vector<unsigned char> out(in.size());
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return {};
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i)
    ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Status WriteKubeconfig(const Context& ctx, Session& s, const std::string& requested) {
  const Resource* cluster = nullptr;
  for (const auto& r : s.resources) {
    if (r.key == "cluster") cluster = &r;
  }
  AIC_ASSIGN_OR_RETURN(auto creds, s.arm->Post(ctx, cluster->id + "/listClusterUserCredential",
                                               kContainerServiceApi));
  if (!creds.contains("kubeconfigs") || creds["kubeconfigs"].empty()) {
    return Status(Code::kInternal, "listClusterUserCredential returned no kubeconfig");
  }
  auto bytes = Base64Decode(creds["kubeconfigs"][0].value("value", ""));
  std::string path = requested;
  if (path.empty()) {
    path = Env("HOME") + "/.aiconform/aks/" + s.spec.ClusterName() + ".kubeconfig";
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  {
    std::ofstream out(path, std::ios::trunc | std::ios::binary);
    if (!out) return Error(Code::kFailedPrecondition, "cannot write kubeconfig \"{}\"", path);
    chmod(path.c_str(), 0600);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<long>(bytes.size()));
  }
  std::cerr << "kubeconfig: " << path << "\n";
  return Status::Ok();
}

// One row of `status`: what ARM reports about a resource of the spec.
struct Observed {
  const Resource* resource = nullptr;
  bool exists = false;
  std::string state;  // provisioningState, or a registration state for features / the provider
  json details = json::object();
};

Observed Observe(const Resource& r, const std::optional<json>& got) {
  Observed o{&r, got.has_value(), "absent", json::object()};
  if (!got || !got->is_object()) return o;
  const json& props =
      got->contains("properties") && (*got)["properties"].is_object() ? (*got)["properties"] : *got;
  auto text = [](const json& j, const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
  };
  o.state = r.kind == ResourceKind::kFeature    ? text(props, "state")
            : r.kind == ResourceKind::kProvider ? text(*got, "registrationState")
                                                : text(props, "provisioningState");
  if (r.key == "cluster") {
    if (props.contains("powerState")) o.details["powerState"] = text(props["powerState"], "code");
    std::string version = text(props, "currentKubernetesVersion");
    o.details["kubernetesVersion"] = version.empty() ? text(props, "kubernetesVersion") : version;
    json pools = json::object();
    for (const auto& p : props.value("agentPoolProfiles", json::array())) {
      if (p.is_object() && p.contains("count")) pools[text(p, "name")] = p["count"];
    }
    o.details["nodeCounts"] = pools;
  } else if (r.type == "Microsoft.ContainerService/managedClusters/agentPools") {
    if (props.contains("count")) o.details["nodeCount"] = props["count"];
    if (props.contains("powerState")) o.details["powerState"] = text(props["powerState"], "code");
  }
  return o;
}

std::string DetailText(const json& d) {
  std::vector<std::string> parts;
  if (d.contains("powerState")) parts.push_back("power " + d["powerState"].get<std::string>());
  if (d.contains("kubernetesVersion")) {
    parts.push_back("Kubernetes " + d["kubernetesVersion"].get<std::string>());
  }
  if (d.contains("nodeCount")) parts.push_back(fmt::format("{} nodes", d["nodeCount"].dump()));
  if (d.contains("nodeCounts")) {
    for (const auto& [pool, n] : d["nodeCounts"].items())
      parts.push_back(fmt::format("pool {}: {} nodes", pool, n.dump()));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

bool Healthy(const Observed& o) {
  return o.exists && (o.state == "Succeeded" || o.state == "Registered");
}

void PrintStatus(const Session& s, const std::vector<Observed>& rows, bool as_json) {
  if (as_json) {
    json out = {{"subscription", s.subscription},
                {"cluster", s.spec.ClusterName()},
                {"healthy", std::all_of(rows.begin(), rows.end(), Healthy)},
                {"resources", json::array()}};
    for (const auto& o : rows) {
      json row = {{"key", o.resource->key}, {"type", o.resource->type}, {"name", o.resource->name},
                  {"id", o.resource->id},   {"exists", o.exists},       {"state", o.state}};
      row.update(o.details);
      out["resources"].push_back(row);
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  Table table({"RESOURCE", "NAME", "STATE", "DETAILS"});
  for (const auto& o : rows)
    table.Add({o.resource->type, o.resource->name, o.state, DetailText(o.details)});
  table.Print(std::cout);
}

// `down` deletes a whole resource group only when aiconform made it for this spec (its tag names
// the prefix): a group of the same name made by someone else may hold resources of theirs.
Status CheckGroupIsOurs(const Context& ctx, Session& s, const Resource& group) {
  AIC_ASSIGN_OR_RETURN(auto got, s.arm->Get(ctx, group.id, group.api_version));
  if (!got) return Status::Ok();  // deleting it again is a no-op
  std::string owner;
  if (got->is_object() && got->contains("tags") && (*got)["tags"].is_object()) {
    owner = (*got)["tags"].value(kManagedByTag, "");
  }
  if (owner == s.spec.prefix) return Status::Ok();
  return Error(Code::kFailedPrecondition,
               "resource group \"{}\" is not tagged {}={}, so aiconform did not create it for "
               "this spec; not deleting it. `down --keep-group` deletes only the spec's resources",
               group.name, kManagedByTag, s.spec.prefix);
}

}  // namespace

int StatusCommand(const AksCommandOptions& o) {
  auto s = Open(o, false);
  if (!s.ok()) return Fail(s.status());
  auto ctx = Context::WithTimeout(std::chrono::minutes(2));
  // Every read is independent: issue them together.
  std::vector<std::future<Result<std::optional<json>>>> reads;
  for (const auto& r : s->resources) {
    reads.push_back(std::async(std::launch::async,
                               [&ctx, &s, &r] { return s->arm->Get(ctx, r.id, r.api_version); }));
  }
  std::vector<Observed> rows;
  Status failed;
  for (size_t i = 0; i < reads.size(); ++i) {
    auto got = reads[i].get();
    if (!got.ok()) {
      if (failed.ok())
        failed = got.status().Prefixed(fmt::format("reading {}", s->resources[i].key));
      continue;
    }
    rows.push_back(Observe(s->resources[i], *got));
  }
  if (!failed.ok()) return Fail(failed);
  PrintStatus(*s, rows, o.output == "json");
  return std::all_of(rows.begin(), rows.end(), Healthy) ? kExitOk : kExitUnhealthy;
}

int PlanCommand(const AksCommandOptions& o) {
  auto s = Open(o, o.offline);
  if (!s.ok()) return Fail(s.status());
  std::vector<Change> changes;
  if (o.offline) {
    changes = OfflinePlan(s->resources);
  } else {
    auto ctx = Context::WithTimeout(std::chrono::minutes(5));
    auto planned = Plan(ctx, *s->arm, s->resources, s->owned);
    if (!planned.ok()) return Fail(planned.status());
    changes = std::move(*planned);
  }
  if (o.output == "json") {
    PrintJson(s->subscription, changes);
  } else {
    PrintTable(changes);
  }
  return kExitOk;
}

int UpCommand(const AksCommandOptions& o) {
  auto s = Open(o, false);
  if (!s.ok()) return Fail(s.status());
  auto ctx = Context::WithTimeout(std::chrono::minutes(90));
  // Each resource is read and, if needed, written as soon as its dependencies allow; `plan`
  // shows the same decisions without the writes.
  ApplyOptions apply;
  apply.poll_interval = s->poll;
  apply.on_event = Progress();
  auto changes = PlanAndApply(ctx, *s->arm, s->resources, s->owned, apply);
  if (!changes.ok()) return Fail(changes.status());
  std::cerr << "up: " << DoneSummary(*changes) << "\n";
  if (Status st = WriteKubeconfig(ctx, *s, o.kubeconfig_out); !st.ok()) return Fail(st);
  std::cerr << "up: " << s->spec.ClusterName() << " is ready\n";
  return kExitOk;
}

int DownCommand(const AksCommandOptions& o) {
  auto s = Open(o, false);
  if (!s.ok()) return Fail(s.status());
  auto ctx = Context::WithTimeout(std::chrono::minutes(60));
  ApplyOptions apply;
  apply.poll_interval = s->poll;
  Status st;
  if (o.keep_group) {
    apply.on_event = Progress();
    st = DeleteEach(ctx, *s->arm, s->resources, apply);
  } else {
    // Deleting the group deletes everything in it, the cluster's associations included.
    const Resource& group = *std::find_if(s->resources.begin(), s->resources.end(),
                                          [](const Resource& r) { return r.key == "group"; });
    st = CheckGroupIsOurs(ctx, *s, group);
    if (st.ok()) {
      std::cerr << "  ... delete group " << group.name << "\n";
      st = s->arm->Delete(ctx, group.id, group.api_version);
    }
  }
  if (!st.ok()) return Fail(st);
  std::cerr << "down: " << s->spec.ClusterName() << " deleted\n";
  return kExitOk;
}

}  // namespace aic::azure
