#include "local/workers.h"

#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/http.h"
#include "common/log.h"
#include "local/control_plane.h"
#include "local/host_nodes.h"
#include "local/images/catalog.h"
#include "local/node/agents.h"
#include "local/node/cri.h"
#include "local/node/exec.h"
#include "local/node/network.h"
#include "local/node/runtime.h"
#include "local/pki.h"

namespace aic::local {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kContainerdVersion = "containerd-v2.2.9";
constexpr const char* kCoreDnsVersion = "coredns-v1.14.7";
constexpr const char* kIpForward = "net.ipv4.ip_forward";
// The kernel tunables kubelet sets at start when protectKernelDefaults is off. The host's
// values come back once the node is Ready; kubelet reads them only at start.
constexpr const char* kKernelTunables[] = {
    "vm.overcommit_memory", "vm.panic_on_oom",          "kernel.panic",
    "kernel.panic_on_oops", "kernel.keys.root_maxkeys", "kernel.keys.root_maxbytes"};

std::shared_ptr<spdlog::logger> Log() {
  return log::Get("local");
}

std::string SysctlPath(const std::string& key) {
  std::string path = "/proc/sys/" + key;
  std::replace(path.begin() + 10, path.end(), '.', '/');
  return path;
}

std::string ReadSysctl(const std::string& key) {
  std::ifstream in(SysctlPath(key));
  std::string value;
  std::getline(in, value);
  return value;
}

void WriteSysctl(const std::string& key, const std::string& value) {
  std::ofstream out(SysctlPath(key));
  out << value << "\n";
  if (!out) Log()->warn("cannot restore {} to {}", key, value);
}

std::string ContainerdDir(const std::string& bin_dir) {
  if (const char* env = getenv("AICONFORM_CONTAINERD_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  return (fs::path(bin_dir).parent_path() / kContainerdVersion).string();
}

std::string CoreDnsBinary(const std::string& bin_dir) {
  return (fs::path(bin_dir).parent_path() / kCoreDnsVersion / "coredns").string();
}

// The host's name servers that a pod can reach (not loopback ones).
std::vector<std::string> UpstreamDns() {
  std::vector<std::string> servers;
  std::ifstream in("/etc/resolv.conf");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string key, value;
    fields >> key >> value;
    if (key == "nameserver" && !value.starts_with("127.") && value != "::1") {
      servers.push_back(value);
    }
  }
  return servers;
}

node::NodeSpec SpecOf(const Layout& layout, const std::string& name, int index,
                      const std::string& bin_dir) {
  node::NodeSpec spec = node::MakeNodeSpec(name, index, layout.root);
  spec.containerd_bin_dir = ContainerdDir(bin_dir);
  spec.sandbox_image = images::kPauseImage;
  return spec;
}

// The specs of the nodes `record` holds.
std::vector<node::NodeSpec> NodeSpecsOf(const Layout& layout, const ClusterRecord& record,
                                        const std::string& bin_dir) {
  std::vector<node::NodeSpec> specs;
  for (const auto& n : record.nodes)
    specs.push_back(SpecOf(layout, n.name, n.index, bin_dir));
  return specs;
}

node::AgentOptions AgentOptionsOf(const Layout& layout, const std::string& bin_dir) {
  node::AgentOptions o;
  o.bin_dir = bin_dir;
  o.ca_file = layout.cert("ca");
  o.cluster_dns = kClusterDnsIp;
  o.upstream_dns = UpstreamDns();
  return o;
}

Result<KeyPair> LoadPair(const std::string& cert, const std::string& key) {
  AIC_ASSIGN_OR_RETURN(std::string c, ReadFile(cert));
  AIC_ASSIGN_OR_RETURN(std::string k, ReadFile(key));
  return KeyPair{c, k};
}

// Issues the pair into cert/key unless both exist, so a node keeps its identity across starts.
Result<KeyPair> EnsurePair(const KeyPair& ca, const CertSpec& spec, const std::string& cert,
                           const std::string& key) {
  if (fs::exists(cert) && fs::exists(key)) return LoadPair(cert, key);
  AIC_ASSIGN_OR_RETURN(KeyPair pair, IssueCert(ca, spec));
  AIC_RETURN_IF_ERROR(WriteFile(key, pair.key_pem, 0600));
  AIC_RETURN_IF_ERROR(WriteFile(cert, pair.cert_pem, 0644));
  return pair;
}

// The kubelet's client and serving certificates and kube-proxy's client certificate, and their
// kubeconfigs, which reach the apiserver on the host's advertised address.
Status WriteCredentials(const Layout& layout, const ClusterRecord& record,
                        const node::NodeSpec& spec) {
  AIC_ASSIGN_OR_RETURN(KeyPair ca, LoadPair(layout.cert("ca"), layout.key("ca")));
  node::AgentPaths p = node::AgentPathsOf(spec);
  std::string server =
      fmt::format("https://{}:{}", record.advertise_address, record.ports.apiserver);
  std::string user = "system:node:" + spec.name;
  AIC_ASSIGN_OR_RETURN(KeyPair client, EnsurePair(ca, {user, {"system:nodes"}, {}, {}, false, true},
                                                  spec.dir + "/config/kubelet-client.crt",
                                                  spec.dir + "/config/kubelet-client.key"));
  AIC_RETURN_IF_ERROR(EnsurePair(ca, {spec.name, {}, {spec.name}, {spec.node_ip}, true, false},
                                 p.kubelet_cert, p.kubelet_key)
                          .status());
  AIC_ASSIGN_OR_RETURN(KeyPair proxy,
                       EnsurePair(ca, {"system:kube-proxy", {}, {}, {}, false, true},
                                  layout.cert("kube-proxy"), layout.key("kube-proxy")));
  AIC_RETURN_IF_ERROR(WriteFile(
      p.kubelet_kubeconfig,
      MakeKubeconfig(record.name, server, ca.cert_pem, user, client.cert_pem, client.key_pem),
      0600));
  return WriteFile(p.proxy_kubeconfig,
                   MakeKubeconfig(record.name, server, ca.cert_pem, "system:kube-proxy",
                                  proxy.cert_pem, proxy.key_pem),
                   0600);
}

// Node objects created before their kubelets register, so that each carries its pool's labels
// and taints and the pod CIDR its bridge and the host routes already use: kube-controller-
// manager's allocator leaves a node with a podCIDR alone and reserves that range.
std::string NodesManifest(const std::vector<WorkerSpec>& plan) {
  std::string out;
  for (const auto& w : plan) {
    json node = {{"apiVersion", "v1"},
                 {"kind", "Node"},
                 {"metadata", {{"name", w.name}, {"labels", NodeLabels(w.pool)}}},
                 {"spec", {{"podCIDR", w.pod_cidr}, {"podCIDRs", {w.pod_cidr}}}}};
    for (const auto& t : w.pool.taints) {
      node["spec"]["taints"].push_back({{"key", t.key}, {"value", t.value}, {"effect", t.effect}});
    }
    out += "---\n" + node.dump() + "\n";
  }
  return out;
}

std::string Corefile(const std::vector<std::string>& upstream) {
  std::string forward =
      upstream.empty() ? "" : fmt::format("    forward . {}\n", fmt::join(upstream, " "));
  return ".:53 {\n"
         "    errors\n"
         "    health :8080\n"
         "    ready :8181\n"
         "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
         "      pods insecure\n"
         "      fallthrough in-addr.arpa ip6.arpa\n"
         "      ttl 30\n"
         "    }\n" +
         forward +
         "    cache 30\n"
         "    loadbalance\n"
         "}\n";
}

// CoreDNS in kube-system behind the kube-dns Service at kClusterDnsIp, with the RBAC its
// kubernetes plugin needs. JSON documents are valid YAML, so kubectl applies them as they are.
std::string CoreDnsManifest(const std::vector<std::string>& upstream) {
  json labels = {{"k8s-app", "kube-dns"}};
  json meta = {{"name", "coredns"}, {"namespace", "kube-system"}};
  std::vector<json> docs;
  docs.push_back({{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", meta}});
  docs.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                  {"kind", "ClusterRole"},
                  {"metadata", {{"name", "system:coredns"}}},
                  {"rules",
                   {{{"apiGroups", {""}},
                     {"resources", {"endpoints", "services", "pods", "namespaces"}},
                     {"verbs", {"list", "watch"}}},
                    {{"apiGroups", {"discovery.k8s.io"}},
                     {"resources", {"endpointslices"}},
                     {"verbs", {"list", "watch"}}}}}});
  docs.push_back(
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "ClusterRoleBinding"},
       {"metadata", {{"name", "system:coredns"}}},
       {"roleRef",
        {{"apiGroup", "rbac.authorization.k8s.io"},
         {"kind", "ClusterRole"},
         {"name", "system:coredns"}}},
       {"subjects",
        {{{"kind", "ServiceAccount"}, {"name", "coredns"}, {"namespace", "kube-system"}}}}});
  docs.push_back({{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", meta},
                  {"data", {{"Corefile", Corefile(upstream)}}}});
  json container = {
      {"name", "coredns"},
      {"image", images::kCoreDnsImage},
      {"imagePullPolicy", "Never"},
      {"args", {"-conf", "/etc/coredns/Corefile"}},
      {"ports",
       {{{"name", "dns"}, {"containerPort", 53}, {"protocol", "UDP"}},
        {{"name", "dns-tcp"}, {"containerPort", 53}, {"protocol", "TCP"}}}},
      {"resources", {{"limits", {{"memory", "170Mi"}}}, {"requests", {{"cpu", "50m"}}}}},
      {"volumeMounts", {{{"name", "config"}, {"mountPath", "/etc/coredns"}}}},
      {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", 8181}}}, {"periodSeconds", 1}}},
      {"livenessProbe",
       {{"httpGet", {{"path", "/health"}, {"port", 8080}}}, {"initialDelaySeconds", 30}}}};
  json pod = {{"metadata", {{"labels", labels}}},
              {"spec",
               {{"serviceAccountName", "coredns"},
                {"priorityClassName", "system-cluster-critical"},
                {"dnsPolicy", "Default"},
                {"nodeSelector", {{"kubernetes.azure.com/mode", "system"}}},
                {"tolerations", {{{"key", "CriticalAddonsOnly"}, {"operator", "Exists"}}}},
                {"containers", {container}},
                {"volumes", {{{"name", "config"}, {"configMap", {{"name", "coredns"}}}}}}}}};
  docs.push_back(
      {{"apiVersion", "apps/v1"},
       {"kind", "Deployment"},
       {"metadata", meta},
       {"spec", {{"replicas", 1}, {"selector", {{"matchLabels", labels}}}, {"template", pod}}}});
  docs.push_back(
      {{"apiVersion", "v1"},
       {"kind", "Service"},
       {"metadata", {{"name", "kube-dns"}, {"namespace", "kube-system"}, {"labels", labels}}},
       {"spec",
        {{"clusterIP", kClusterDnsIp},
         {"selector", labels},
         {"ports",
          {{{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}},
           {{"name", "dns-tcp"}, {"port", 53}, {"protocol", "TCP"}}}}}}});
  std::string out;
  for (const auto& d : docs)
    out += "---\n" + d.dump() + "\n";
  return out;
}

Status Apply(const Context& ctx, const Layout& layout, const std::string& bin_dir,
             const std::string& file, const std::string& content) {
  std::string path = layout.manifests() + "/" + file;
  AIC_RETURN_IF_ERROR(WriteFile(path, content));
  auto out =
      node::Run(ctx.Child(seconds(30)),
                {bin_dir + "/kubectl", "--kubeconfig", layout.admin_kubeconfig(), "apply",
                 "--server-side", "--force-conflicts", "--field-manager=aiconform", "-f", path});
  if (!out.ok()) return out.status().Prefixed("applying " + path);
  return Status::Ok();
}

Result<std::string> Kubectl(const Context& ctx, const Layout& layout, const std::string& bin_dir,
                            std::vector<std::string> args) {
  args.insert(args.begin(), {bin_dir + "/kubectl", "--kubeconfig", layout.admin_kubeconfig()});
  return node::Run(ctx, args);
}

// The number at the end of "<pool>-<n>", or 0.
int NodeNumber(const std::string& name) {
  auto dash = name.rfind('-');
  if (dash == std::string::npos) return 0;
  return std::atoi(name.c_str() + dash + 1);
}

Result<std::unique_ptr<http::Client>> AdminClient(const Layout& layout) {
  AIC_ASSIGN_OR_RETURN(std::string ca, ReadFile(layout.cert("ca")));
  AIC_ASSIGN_OR_RETURN(KeyPair admin, LoadPair(layout.cert("admin"), layout.key("admin")));
  http::ClientOptions o;
  o.tls = {ca, "", admin.cert_pem, admin.key_pem, false, ""};
  o.http2 = false;
  o.connect_timeout = milliseconds(1000);
  return http::Client::Create(o);
}

Result<json> GetJson(const Context& ctx, http::Client& client, const ClusterRecord& record,
                     const std::string& path) {
  std::string url = fmt::format("https://127.0.0.1:{}{}", record.ports.apiserver, path);
  AIC_ASSIGN_OR_RETURN(http::Response r, client.Do(ctx.Child(seconds(3)), http::Get(url)));
  if (r.status != 200) return Error(Code::kUnavailable, "GET {}: HTTP {}", path, r.status);
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) return Error(Code::kInternal, "GET {}: not JSON", path);
  return j;
}

// Seconds since the epoch of an RFC 3339 time as the apiserver writes it ("...T12:00:00Z"); 0
// when it cannot be read.
long long EpochSeconds(const std::string& rfc3339) {
  std::tm tm{};
  if (strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) return 0;
  return timegm(&tm);
}

long long NowSeconds() {
  return std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ReadyCondition(const json& node) {
  for (const auto& c : node["status"].value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "Unknown");
  }
  return "Unknown";
}

// A Ready condition counts once its kubelet has reported it since `since` (epoch seconds): a
// Node object keeps the last status of a kubelet that is gone until the grace period ends.
bool FreshlyReady(const json& node, long long since) {
  for (const auto& c : node["status"].value("conditions", json::array())) {
    if (c.value("type", "") != "Ready") continue;
    return c.value("status", "") == "True" &&
           EpochSeconds(c.value("lastHeartbeatTime", "")) >= since;
  }
  return false;
}

Status WaitNodesReady(const Context& ctx, http::Client& client, const ClusterRecord& record,
                      long long since) {
  std::string last = "no answer";
  while (true) {
    auto nodes = GetJson(ctx, client, record, "/api/v1/nodes");
    if (nodes.ok()) {
      std::set<std::string> ready;
      for (const auto& n : (*nodes)["items"]) {
        if (FreshlyReady(n, since)) ready.insert(n["metadata"].value("name", ""));
      }
      last.clear();
      for (const auto& n : record.nodes) {
        if (!ready.count(n.name)) last += (last.empty() ? "" : ", ") + n.name;
      }
      if (last.empty()) return Status::Ok();
      last = "not Ready: " + last;
    } else {
      last = nodes.status().message();
    }
    if (Status s = ctx.Sleep(milliseconds(200)); !s.ok()) {
      return Error(s.code(), "nodes not Ready in time ({})", last);
    }
  }
}

// True when a CoreDNS pod is Ready and, if its node's runtime started over since `since`, its
// container started since then too (older statuses describe containers that `down` removed).
bool CoreDnsReady(const json& pods, const std::set<std::string>& emptied, long long since) {
  for (const auto& pod : pods.value("items", json::array())) {
    bool ready = false;
    for (const auto& c : pod["status"].value("conditions", json::array())) {
      if (c.value("type", "") == "Ready") ready = c.value("status", "") == "True";
    }
    if (!ready) continue;
    if (!emptied.count(pod["spec"].value("nodeName", ""))) return true;
    for (const auto& cs : pod["status"].value("containerStatuses", json::array())) {
      const json state = cs.value("state", json::object());
      const json running = state.value("running", json::object());
      if (EpochSeconds(running.value("startedAt", "")) >= since) return true;
    }
  }
  return false;
}

Status WaitCoreDns(const Context& ctx, http::Client& client, const ClusterRecord& record,
                   const std::set<std::string>& emptied, long long since) {
  std::string last = "no answer";
  while (true) {
    auto pods = GetJson(ctx, client, record,
                        "/api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dkube-dns");
    if (pods.ok()) {
      if (CoreDnsReady(*pods, emptied, since)) return Status::Ok();
      last = "no Ready pod";
    } else {
      last = pods.status().message();
    }
    if (Status s = ctx.Sleep(milliseconds(200)); !s.ok()) {
      return Error(s.code(), "CoreDNS not available in time ({})", last);
    }
  }
}

ProcessId IdOf(pid_t pid) {
  return {pid, StartTicks(pid)};
}

Status ImportImages(const Context& ctx, const node::NodeSpec& spec,
                    const std::vector<std::string>& archives) {
  node::CriClient cri(node::PathsOf(spec).socket);
  std::vector<std::string> refs = {images::kPauseImage, images::kProbeImage, images::kCoreDnsImage};
  for (size_t i = 0; i < archives.size(); ++i) {
    if (cri.ImageId(ctx, refs[i]).ok()) continue;
    AIC_RETURN_IF_ERROR(node::ImportImage(ctx, spec, archives[i]));
  }
  return Status::Ok();
}

// The images every node holds, built (or found unchanged) in the image cache.
Result<std::vector<std::string>> BuildImages(const std::string& bin_dir) {
  std::string pause = images::DefaultPauseBinary();
  if (pause.empty()) {
    return Error(Code::kFailedPrecondition,
                 "the pause program is missing; set AICONFORM_PAUSE_BIN or rebuild aiconform");
  }
  std::string coredns = CoreDnsBinary(bin_dir);
  if (access(coredns.c_str(), X_OK) != 0) {
    return Error(Code::kFailedPrecondition,
                 "{} not found; build it with scripts/build-node.sh (or make node-binaries)",
                 coredns);
  }
  std::vector<std::string> out;
  for (const auto& spec : {images::PauseImageSpec(pause), images::ProbeImageSpec(),
                           images::CoreDnsImageSpec(coredns)}) {
    AIC_ASSIGN_OR_RETURN(images::ImageArchive a,
                         images::BuildImage(spec, images::DefaultImageDir()));
    out.push_back(a.path);
  }
  return out;
}

// The node indexes recorded by the other clusters under the default state root, running or
// not: a new node avoids them so that a stopped cluster finds its addresses free when it comes
// back. (Clusters elsewhere are seen only while their nodes run.)
std::set<int> IndexesRecordedByOtherClusters(const Layout& own) {
  std::set<int> out;
  std::error_code ec;
  fs::path root = fs::path(DefaultStateDir("aiconform")).parent_path();
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::error_code same_ec;
    if (fs::equivalent(entry.path(), own.root, same_ec)) continue;
    auto record = LoadRecord(Layout{entry.path().string()});
    if (!record.ok()) continue;
    for (const auto& n : record->nodes)
      out.insert(n.index);
  }
  return out;
}

// Remembers the host settings the nodes change, as the machine had them before the first node
// of any cluster started, so that the last `down` restores them: this cluster's own record
// when it has one, else those kept by the clusters already running nodes, else the current
// values, which are then kept for the clusters that start nodes later.
Status RememberHostSettings(ClusterRecord& record, bool other_clusters_run_nodes) {
  const std::map<std::string, std::string> shared =
      other_clusters_run_nodes ? SharedHostSettings() : std::map<std::string, std::string>{};
  if (record.host_settings.empty()) record.host_settings = shared;
  if (record.host_settings.empty()) {
    record.host_settings[kIpForward] = ReadSysctl(kIpForward);
    for (const char* key : kKernelTunables)
      record.host_settings[key] = ReadSysctl(key);
  }
  return shared.empty() ? SaveSharedHostSettings(record.host_settings) : Status::Ok();
}

// Starts a whole node: runtime, images, kubelet and kube-proxy. Cleans up after itself on
// failure.
Status StartWorker(const Context& ctx, const node::NodeSpec& spec, const node::AgentOptions& agents,
                   const std::vector<std::string>& archives, NodeRecord& rec, bool recorded) {
  if (node::NetnsExists(spec) || node::HostVethExists(spec)) {
    // Kernel names are per machine: a namespace this cluster did not record, or whose link
    // names another node directory, belongs to another cluster (or a test) and is not ours to
    // tear down.
    std::string owner = node::LinkAlias(node::HostVethName(spec));
    if (!recorded || (!owner.empty() && owner != spec.dir)) {
      return Error(Code::kFailedPrecondition,
                   "node {}: network namespace {} exists and belongs to another cluster; stop "
                   "that cluster first",
                   spec.name, node::NetnsName(spec));
    }
    AIC_RETURN_IF_ERROR(node::StopNode(ctx, spec));
  }
  AIC_ASSIGN_OR_RETURN(node::ContainerdHandle containerd, node::StartNode(ctx, spec));
  rec.containerd = IdOf(containerd.pid);
  Status s = ImportImages(ctx, spec, archives);
  if (s.ok()) s = node::CreateCgroupRoot(spec);
  if (s.ok()) s = node::WriteAgentConfigs(spec, agents);
  Result<pid_t> kubelet = s.ok() ? node::StartKubelet(spec, agents) : Result<pid_t>(s);
  if (kubelet.ok()) rec.kubelet = IdOf(*kubelet);
  Result<pid_t> proxy = kubelet.ok() ? node::StartKubeProxy(spec, agents) : kubelet.status();
  if (proxy.ok()) {
    rec.kube_proxy = IdOf(*proxy);
    return Status::Ok();
  }
  (void)node::StopNode(ctx, spec);
  rec.containerd = rec.kubelet = rec.kube_proxy = {};
  return proxy.status().Prefixed("node " + spec.name);
}

}  // namespace

Result<std::vector<WorkerSpec>> PlanWorkers(const std::vector<PoolSpec>& pools,
                                            const std::vector<NodeRecord>& existing,
                                            const std::set<int>& taken) {
  std::vector<std::vector<WorkerSpec>> per_pool(pools.size());
  std::set<int> used;
  std::set<std::string> names;
  for (size_t i = 0; i < pools.size(); ++i) {
    std::vector<const NodeRecord*> mine;
    for (const auto& n : existing) {
      if (n.pool == pools[i].name) mine.push_back(&n);
    }
    std::sort(mine.begin(), mine.end(), [](const NodeRecord* a, const NodeRecord* b) {
      return NodeNumber(a->name) < NodeNumber(b->name);
    });
    for (int k = 0; k < pools[i].count && k < static_cast<int>(mine.size()); ++k) {
      const NodeRecord& n = *mine[k];
      per_pool[i].push_back({n.name, pools[i], n.index, fmt::format("10.244.{}.0/24", n.index)});
      used.insert(n.index);
      names.insert(n.name);
    }
  }
  used.insert(taken.begin(), taken.end());
  int next_index = 1;
  for (size_t i = 0; i < pools.size(); ++i) {
    int number = 1;
    while (static_cast<int>(per_pool[i].size()) < pools[i].count) {
      std::string name = fmt::format("{}-{}", pools[i].name, number++);
      if (names.count(name)) continue;
      while (used.count(next_index))
        ++next_index;
      if (next_index > 250) {
        return Error(Code::kInvalidArgument,
                     "pool {}: no node addresses left (250 at most on this machine, {} held by "
                     "other clusters)",
                     pools[i].name, taken.size());
      }
      per_pool[i].push_back(
          {name, pools[i], next_index, fmt::format("10.244.{}.0/24", next_index)});
      used.insert(next_index);
      names.insert(name);
    }
    std::sort(per_pool[i].begin(), per_pool[i].end(),
              [](const auto& a, const auto& b) { return NodeNumber(a.name) < NodeNumber(b.name); });
  }
  std::vector<WorkerSpec> plan;
  for (auto& p : per_pool)
    plan.insert(plan.end(), p.begin(), p.end());
  return plan;
}

Workers::Workers(Layout layout, std::string bin_dir)
    : layout_(std::move(layout)), bin_dir_(std::move(bin_dir)) {}

Result<bool> Workers::Up(const Context& ctx, const std::vector<PoolSpec>& pools,
                         Progress& progress) {
  AIC_ASSIGN_OR_RETURN(ClusterRecord record, LoadRecord(layout_));
  // Held until the nodes' networks exist, so that a cluster starting at the same time sees
  // them and chooses other indexes.
  HostLock host_lock;
  const bool any_nodes =
      !record.nodes.empty() ||
      std::any_of(pools.begin(), pools.end(), [](const auto& p) { return p.count > 0; });
  if (any_nodes) AIC_RETURN_IF_ERROR(host_lock.Acquire(ctx));
  const std::map<int, std::string> others =
      IndexesHeldByOthers(NodeSpecsOf(layout_, record, bin_dir_));
  std::set<int> taken = IndexesRecordedByOtherClusters(layout_);
  for (const auto& [index, holder] : others)
    taken.insert(index);
  AIC_ASSIGN_OR_RETURN(std::vector<WorkerSpec> plan, PlanWorkers(pools, record.nodes, taken));
  for (const auto& w : plan) {
    auto held = others.find(w.index);
    if (held != others.end()) {
      return Error(Code::kFailedPrecondition,
                   "node {}: its addresses (index {}: host link 10.250.{}.0/30, pods {}) are "
                   "held by {} of another cluster; stop that cluster, or remove this one with "
                   "down --purge",
                   w.name, w.index, w.index, w.pod_cidr, held->second);
    }
  }
  bool changed = !record.pools || *record.pools != pools;
  record.pools = pools;

  // Nodes the plan no longer has go first.
  for (auto it = record.nodes.begin(); it != record.nodes.end();) {
    bool wanted = std::any_of(plan.begin(), plan.end(),
                              [&](const WorkerSpec& w) { return w.name == it->name; });
    if (wanted) {
      ++it;
      continue;
    }
    progress.Start("removing node " + it->name);
    Status removed = RemoveNode(ctx, *it);
    removed.ok() ? progress.Done() : progress.Fail();
    AIC_RETURN_IF_ERROR(removed);
    it = record.nodes.erase(it);
    AIC_RETURN_IF_ERROR(SaveRecord(layout_, record));
    changed = true;
  }
  if (plan.empty()) {
    AIC_RETURN_IF_ERROR(SaveRecord(layout_, record));
    return changed;
  }

  AIC_RETURN_IF_ERROR(RememberHostSettings(record, !others.empty()));
  AIC_RETURN_IF_ERROR(node::EnableHostForwarding().status());

  node::AgentOptions agents = AgentOptionsOf(layout_, bin_dir_);
  progress.Start("node images");
  auto archives = BuildImages(bin_dir_);
  if (!archives.ok()) {
    progress.Fail();
    return archives.status();
  }
  progress.Done();
  progress.Start("node objects and credentials");
  Status prepared = Apply(ctx, layout_, bin_dir_, "nodes.yaml", NodesManifest(plan));
  for (const auto& w : plan) {
    if (prepared.ok()) {
      prepared = WriteCredentials(layout_, record, SpecOf(layout_, w.name, w.index, bin_dir_));
    }
  }
  if (!prepared.ok()) {
    progress.Fail();
    return prepared;
  }
  progress.Done();

  // Each node starts on its own thread; a node whose containerd died starts over, one whose
  // kubelet or kube-proxy died gets that agent back.
  std::vector<NodeRecord> recs;
  std::vector<std::future<Status>> pending;
  std::vector<std::string> started;
  std::set<std::string> restarted;  // nodes whose kubelet starts now
  std::set<std::string> emptied;    // nodes whose runtime starts over, without containers
  const long long since = NowSeconds();
  for (const auto& w : plan) {
    NodeRecord* existing = record.FindNode(w.name);
    recs.push_back(existing ? *existing : NodeRecord{w.name, w.pool.name, w.index, {}, {}, {}});
  }
  for (auto& rec : recs) {
    node::NodeSpec spec = SpecOf(layout_, rec.name, rec.index, bin_dir_);
    bool recorded = record.FindNode(rec.name) != nullptr;
    if (!IsAlive(rec.containerd)) {
      started.push_back(rec.name);
      restarted.insert(rec.name);
      emptied.insert(rec.name);
      pending.push_back(std::async(std::launch::async, [&, spec] {
        return StartWorker(ctx, spec, agents, *archives, rec, recorded);
      }));
      continue;
    }
    if (!IsAlive(rec.kubelet)) {
      started.push_back(rec.name + " kubelet");
      restarted.insert(rec.name);
      AIC_RETURN_IF_ERROR(node::WriteAgentConfigs(spec, agents));
      AIC_ASSIGN_OR_RETURN(pid_t pid, node::StartKubelet(spec, agents));
      rec.kubelet = IdOf(pid);
    }
    if (!IsAlive(rec.kube_proxy)) {
      started.push_back(rec.name + " kube-proxy");
      AIC_ASSIGN_OR_RETURN(pid_t pid, node::StartKubeProxy(spec, agents));
      rec.kube_proxy = IdOf(pid);
    }
  }
  if (!started.empty()) progress.Start(fmt::format("starting {}", fmt::join(started, ", ")));
  Status result;
  for (auto& f : pending) {
    Status s = f.get();
    if (result.ok() && !s.ok()) result = s;
  }
  record.nodes = recs;
  host_lock.Release();
  AIC_RETURN_IF_ERROR(SaveRecord(layout_, record));
  if (!result.ok()) {
    if (!started.empty()) progress.Fail();
    return result;
  }
  if (!started.empty()) progress.Done();
  changed = changed || !started.empty();

  AIC_ASSIGN_OR_RETURN(auto client, AdminClient(layout_));
  progress.Start("waiting for nodes to be Ready");
  Status ready = WaitNodesReady(ctx, *client, record, restarted.empty() ? 0 : since);
  // kubelet has set its kernel tunables by the time its node is Ready; the host's come back.
  for (const char* key : kKernelTunables) {
    auto it = record.host_settings.find(key);
    if (it != record.host_settings.end() && ReadSysctl(key) != it->second) {
      WriteSysctl(key, it->second);
    }
  }
  if (!ready.ok()) {
    progress.Fail();
    return ready;
  }
  progress.Done();

  progress.Start("cluster DNS");
  Status dns = Apply(ctx, layout_, bin_dir_, "coredns.yaml", CoreDnsManifest(agents.upstream_dns));
  if (dns.ok()) dns = WaitCoreDns(ctx, *client, record, emptied, since);
  dns.ok() ? progress.Done() : progress.Fail();
  AIC_RETURN_IF_ERROR(dns);
  return changed;
}

Status Workers::RemoveNode(const Context& ctx, const NodeRecord& rec) {
  node::NodeSpec spec = SpecOf(layout_, rec.name, rec.index, bin_dir_);
  // A node whose kubelet is gone cannot confirm evictions; its pods go with its Node object
  // (the pod garbage collector deletes pods bound to a node that no longer exists).
  if (IsAlive(rec.kubelet)) {
    auto drained = Kubectl(ctx.Child(seconds(90)), layout_, bin_dir_,
                           {"drain", rec.name, "--ignore-daemonsets", "--delete-emptydir-data",
                            "--force", "--grace-period=10", "--timeout=75s"});
    if (!drained.ok()) {
      (void)Kubectl(ctx.Child(seconds(10)), layout_, bin_dir_, {"uncordon", rec.name});
      return drained.status().Prefixed("draining node " + rec.name + " (left running)");
    }
  }
  for (const ProcessId* p : {&rec.kube_proxy, &rec.kubelet}) {
    if (IsAlive(*p)) (void)Terminate(*p, seconds(5));
  }
  AIC_RETURN_IF_ERROR(node::StopNode(ctx, spec, /*purge=*/true));
  auto deleted = Kubectl(ctx.Child(seconds(30)), layout_, bin_dir_,
                         {"delete", "node", rec.name, "--ignore-not-found", "--wait=false"});
  if (!deleted.ok()) return deleted.status().Prefixed("deleting Node " + rec.name);
  return Status::Ok();
}

Result<std::vector<std::string>> Workers::Add(const Context& ctx, const std::string& pool,
                                              int count, Progress& progress) {
  AIC_ASSIGN_OR_RETURN(ClusterRecord record, LoadRecord(layout_));
  std::vector<PoolSpec> pools = record.pools.value_or(std::vector<PoolSpec>{});
  auto it =
      std::find_if(pools.begin(), pools.end(), [&](const PoolSpec& p) { return p.name == pool; });
  if (it == pools.end()) {
    std::vector<std::string> known;
    for (const auto& p : pools)
      known.push_back(p.name);
    return Error(Code::kInvalidArgument, "--pool: the cluster has no pool \"{}\"; its pools: {}",
                 pool, known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", ")));
  }
  if (count < 1) return Error(Code::kInvalidArgument, "--count: expected 1 or more");
  it->count += count;
  AIC_RETURN_IF_ERROR(ValidatePools(pools, "--count"));
  std::set<std::string> before;
  for (const auto& n : record.nodes)
    before.insert(n.name);
  AIC_RETURN_IF_ERROR(Up(ctx, pools, progress).status());
  AIC_ASSIGN_OR_RETURN(ClusterRecord after, LoadRecord(layout_));
  std::vector<std::string> added;
  for (const auto& n : after.nodes) {
    if (!before.count(n.name)) added.push_back(n.name);
  }
  return added;
}

Status Workers::Delete(const Context& ctx, const std::vector<std::string>& names,
                       Progress& progress) {
  AIC_ASSIGN_OR_RETURN(ClusterRecord record, LoadRecord(layout_));
  std::vector<PoolSpec> pools = record.pools.value_or(std::vector<PoolSpec>{});
  for (const auto& name : names) {
    const NodeRecord* n = record.FindNode(name);
    if (n == nullptr) {
      std::vector<std::string> known;
      for (const auto& k : record.nodes)
        known.push_back(k.name);
      return Error(Code::kInvalidArgument,
                   "node \"{}\" is not a node of this cluster; its nodes: {}", name,
                   known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", ")));
    }
    for (auto& p : pools) {
      if (p.name == n->pool && p.count > 0) --p.count;
    }
  }
  AIC_RETURN_IF_ERROR(ValidatePools(pools, "node delete"));
  for (const auto& name : names) {
    const NodeRecord rec = *record.FindNode(name);
    progress.Start("draining and removing node " + name);
    Status removed = RemoveNode(ctx, rec);
    if (!removed.ok()) {
      progress.Fail();
      return removed;
    }
    progress.Done();
    record.nodes.erase(std::remove_if(record.nodes.begin(), record.nodes.end(),
                                      [&](const NodeRecord& r) { return r.name == name; }),
                       record.nodes.end());
    if (record.pools) {
      for (auto& p : *record.pools) {
        if (p.name == rec.pool && p.count > 0) --p.count;
      }
    }
    AIC_RETURN_IF_ERROR(SaveRecord(layout_, record));
  }
  return Status::Ok();
}

Status Workers::Down(const Context& ctx, bool purge, Progress& progress) {
  auto loaded = LoadRecord(layout_);
  if (!loaded.ok()) return loaded.status();
  ClusterRecord& record = *loaded;
  // Whether other clusters' nodes still run decides the host settings; none may start
  // meanwhile.
  HostLock host_lock;
  if (!record.nodes.empty()) AIC_RETURN_IF_ERROR(host_lock.Acquire(ctx));
  for (auto& n : record.nodes) {
    progress.Start("stopping node " + n.name);
    node::NodeSpec spec = SpecOf(layout_, n.name, n.index, bin_dir_);
    // The agents first, politely, so that kubelet does not restart containers being stopped.
    for (ProcessId* p : {&n.kube_proxy, &n.kubelet}) {
      if (IsAlive(*p)) (void)Terminate(*p, seconds(5));
    }
    Status s = node::StopNode(ctx, spec, purge);
    if (!s.ok()) {
      progress.Fail();
      return s;
    }
    n.containerd = n.kubelet = n.kube_proxy = {};
    progress.Done();
  }
  // Nodes of other clusters still need forwarding; the last cluster to stop restores the host.
  if (IndexesHeldByOthers(NodeSpecsOf(layout_, record, bin_dir_)).empty()) {
    for (const auto& [key, value] : record.host_settings) {
      if (!value.empty() && ReadSysctl(key) != value) WriteSysctl(key, value);
    }
    ForgetSharedHostSettings();
  } else if (!record.host_settings.empty()) {
    Log()->info("host settings left as they are: nodes of other clusters still run");
  }
  record.host_settings.clear();
  return SaveRecord(layout_, record);
}

Result<std::vector<NodeHealth>> Workers::Health(const Context& ctx) {
  AIC_ASSIGN_OR_RETURN(ClusterRecord record, LoadRecord(layout_));
  std::vector<NodeHealth> out;
  json nodes;
  if (!record.nodes.empty()) {
    auto client = AdminClient(layout_);
    if (client.ok()) {
      auto list = GetJson(ctx, **client, record, "/api/v1/nodes");
      if (list.ok()) nodes = *list;
    }
  }
  for (const auto& n : record.nodes) {
    NodeHealth h{
        n.name, n.pool, "", IsAlive(n.containerd), IsAlive(n.kubelet), IsAlive(n.kube_proxy), "-"};
    // Without an answer (the apiserver is down) readiness and pod CIDR stay unknown.
    const json items = nodes.is_object() ? nodes.value("items", json::array()) : json::array();
    for (const auto& item : items) {
      if (item.value("metadata", json::object()).value("name", "") != n.name) continue;
      h.ready = ReadyCondition(item);
      h.pod_cidr = item.value("spec", json::object()).value("podCIDR", "");
    }
    out.push_back(h);
  }
  return out;
}

}  // namespace aic::local
