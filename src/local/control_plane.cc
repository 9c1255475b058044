#include "local/control_plane.h"

#include <algorithm>
#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "common/http.h"
#include "common/log.h"
#include "local/pki.h"

namespace aic::local {
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr const char* kServiceCidr = "10.96.0.0/16";
constexpr const char* kServiceIp = "10.96.0.1";
constexpr const char* kPodCidr = "10.244.0.0/16";

std::shared_ptr<spdlog::logger> Log() {
  return log::Get("local");
}

struct Binary {
  const char* component;
  const char* file;
};
constexpr Binary kBinaries[] = {
    {"etcd", "etcd"},
    {"kube-apiserver", "kube-apiserver"},
    {"kube-controller-manager", "kube-controller-manager"},
    {"kube-scheduler", "kube-scheduler"},
};

}  // namespace

const std::vector<std::string>& ComponentNames() {
  static const std::vector<std::string> names = {"etcd", "kube-apiserver",
                                                 "kube-controller-manager", "kube-scheduler"};
  return names;
}

// HTTP clients with the credentials each probe needs.
struct ControlPlane::Clients {
  std::unique_ptr<http::Client> etcd;   // etcd CA + apiserver-etcd-client
  std::unique_ptr<http::Client> admin;  // cluster CA + admin client certificate

  static Result<Clients> Create(const Layout& layout) {
    Clients c;
    AIC_ASSIGN_OR_RETURN(std::string etcd_ca, ReadFile(layout.cert("etcd-ca")));
    AIC_ASSIGN_OR_RETURN(std::string etcd_cert, ReadFile(layout.cert("apiserver-etcd-client")));
    AIC_ASSIGN_OR_RETURN(std::string etcd_key, ReadFile(layout.key("apiserver-etcd-client")));
    AIC_ASSIGN_OR_RETURN(std::string ca, ReadFile(layout.cert("ca")));
    AIC_ASSIGN_OR_RETURN(std::string admin_cert, ReadFile(layout.cert("admin")));
    AIC_ASSIGN_OR_RETURN(std::string admin_key, ReadFile(layout.key("admin")));
    http::ClientOptions eo, ao;
    eo.tls = {etcd_ca, "", etcd_cert, etcd_key, false, ""};
    ao.tls = {ca, "", admin_cert, admin_key, false, ""};
    eo.http2 = ao.http2 = false;
    eo.connect_timeout = ao.connect_timeout = milliseconds(1000);
    AIC_ASSIGN_OR_RETURN(c.etcd, http::Client::Create(eo));
    AIC_ASSIGN_OR_RETURN(c.admin, http::Client::Create(ao));
    return c;
  }
};

ControlPlane::ControlPlane(ControlPlaneOptions options)
    : options_(std::move(options)), layout_{options_.state_dir} {}

Status ControlPlane::CheckBinaries() const {
  for (const Binary& b : kBinaries) {
    std::string path = options_.bin_dir + "/" + b.file;
    if (access(path.c_str(), X_OK) != 0) {
      return Error(Code::kFailedPrecondition,
                   "{} not found or not executable; build the binaries with "
                   "scripts/build-kube.sh (or make kube-binaries), or point --bin-dir / "
                   "AICONFORM_BIN_DIR at a directory that has them",
                   path);
    }
  }
  return Status::Ok();
}

std::string MakeKubeconfig(const std::string& cluster_name, const std::string& server,
                           const std::string& ca_pem, const std::string& user,
                           const std::string& cert_pem, const std::string& key_pem) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "apiVersion" << YAML::Value << "v1" << YAML::Key << "kind"
      << YAML::Value << "Config";
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << cluster_name << YAML::Key << "cluster" << YAML::Value
      << YAML::BeginMap << YAML::Key << "server" << YAML::Value << server << YAML::Key
      << "certificate-authority-data" << YAML::Value << Base64(ca_pem) << YAML::EndMap
      << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << user << YAML::Key << "user" << YAML::Value
      << YAML::BeginMap << YAML::Key << "client-certificate-data" << YAML::Value << Base64(cert_pem)
      << YAML::Key << "client-key-data" << YAML::Value << Base64(key_pem) << YAML::EndMap
      << YAML::EndMap << YAML::EndSeq;
  std::string context = user + "@" + cluster_name;
  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << context << YAML::Key << "context" << YAML::Value
      << YAML::BeginMap << YAML::Key << "cluster" << YAML::Value << cluster_name << YAML::Key
      << "user" << YAML::Value << user << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "current-context" << YAML::Value << context << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

namespace {

struct CertPlan {
  std::string base;  // file name under pki/
  std::string ca;    // issuing CA's base name
  CertSpec spec;
};

std::vector<CertPlan> CertPlans(const std::string& advertise_address) {
  std::vector<std::string> api_dns = {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                      "kubernetes.default.svc.cluster.local", "localhost"};
  std::vector<std::string> loopback = {"127.0.0.1"};
  return {
      {"apiserver",
       "ca",
       {"kube-apiserver", {}, api_dns, {"127.0.0.1", kServiceIp, advertise_address}, true, false}},
      {"apiserver-kubelet-client",
       "ca",
       {"kube-apiserver-kubelet-client", {"system:masters"}, {}, {}, false, true}},
      {"apiserver-etcd-client", "etcd-ca", {"kube-apiserver-etcd-client", {}, {}, {}, false, true}},
      {"etcd-server", "etcd-ca", {"etcd", {}, {"localhost"}, loopback, true, true}},
      {"front-proxy-client", "front-proxy-ca", {"front-proxy-client", {}, {}, {}, false, true}},
      {"admin", "ca", {"kubernetes-admin", {"system:masters"}, {}, {}, false, true}},
      {"controller-manager", "ca", {"system:kube-controller-manager", {}, {}, {}, false, true}},
      {"scheduler", "ca", {"system:kube-scheduler", {}, {}, {}, false, true}},
      {"controller-manager-serving",
       "ca",
       {"kube-controller-manager", {}, {"localhost"}, loopback, true, false}},
      {"scheduler-serving", "ca", {"kube-scheduler", {}, {"localhost"}, loopback, true, false}},
  };
}

Status WritePair(const Layout& layout, const std::string& base, const KeyPair& pair) {
  AIC_RETURN_IF_ERROR(WriteFile(layout.key(base), pair.key_pem, 0600));
  return WriteFile(layout.cert(base), pair.cert_pem, 0644);
}

// False when the certificate at `path` lacks one of the spec's IP addresses (the host's
// address changed since it was issued): it must then be issued again.
bool CoversAddresses(const std::string& path, const CertSpec& spec) {
  auto pem = ReadFile(path);
  if (!pem.ok()) return false;
  auto info = InspectCert(*pem);
  if (!info.ok()) return false;
  for (const auto& ip : spec.ip_addresses) {
    if (std::find(info->ip_addresses.begin(), info->ip_addresses.end(), ip) ==
        info->ip_addresses.end()) {
      return false;
    }
  }
  return true;
}

Result<KeyPair> LoadOrCreateCA(const Layout& layout, const std::string& base) {
  if (fs::exists(layout.cert(base)) && fs::exists(layout.key(base))) {
    AIC_ASSIGN_OR_RETURN(std::string cert, ReadFile(layout.cert(base)));
    AIC_ASSIGN_OR_RETURN(std::string key, ReadFile(layout.key(base)));
    return KeyPair{cert, key};
  }
  AIC_ASSIGN_OR_RETURN(KeyPair ca, CreateCA("aiconform-" + base));
  AIC_RETURN_IF_ERROR(WritePair(layout, base, ca));
  return ca;
}

}  // namespace

// Creates whatever certificate or key is missing; existing ones are kept, so a restarted
// cluster keeps its identity and its users' kubeconfigs stay valid.
Status ControlPlane::EnsureCertificates(const std::string& advertise_address) {
  std::map<std::string, KeyPair> cas;
  for (const char* base : {"ca", "etcd-ca", "front-proxy-ca"}) {
    AIC_ASSIGN_OR_RETURN(cas[base], LoadOrCreateCA(layout_, base));
  }
  for (const CertPlan& plan : CertPlans(advertise_address)) {
    if (fs::exists(layout_.cert(plan.base)) && fs::exists(layout_.key(plan.base)) &&
        CoversAddresses(layout_.cert(plan.base), plan.spec)) {
      continue;
    }
    AIC_ASSIGN_OR_RETURN(KeyPair pair, IssueCert(cas[plan.ca], plan.spec));
    AIC_RETURN_IF_ERROR(WritePair(layout_, plan.base, pair));
  }
  if (!fs::exists(layout_.key("sa"))) {
    AIC_ASSIGN_OR_RETURN(PublicKeyPair sa, CreateSigningKey());
    AIC_RETURN_IF_ERROR(WriteFile(layout_.key("sa"), sa.private_pem, 0600));
    AIC_RETURN_IF_ERROR(WriteFile(layout_.pki() + "/sa.pub", sa.public_pem, 0644));
  }
  return Status::Ok();
}

Status ControlPlane::WriteKubeconfigs(const Ports& ports) {
  std::string server = fmt::format("https://127.0.0.1:{}", ports.apiserver);
  AIC_ASSIGN_OR_RETURN(std::string ca, ReadFile(layout_.cert("ca")));
  struct Target {
    std::string path, user, base;
  };
  std::vector<Target> targets = {
      {layout_.admin_kubeconfig(), "kubernetes-admin", "admin"},
      {layout_.component_kubeconfig("controller-manager"), "system:kube-controller-manager",
       "controller-manager"},
      {layout_.component_kubeconfig("scheduler"), "system:kube-scheduler", "scheduler"},
  };
  for (const Target& t : targets) {
    AIC_ASSIGN_OR_RETURN(std::string cert, ReadFile(layout_.cert(t.base)));
    AIC_ASSIGN_OR_RETURN(std::string key, ReadFile(layout_.key(t.base)));
    AIC_RETURN_IF_ERROR(
        WriteFile(t.path, MakeKubeconfig(options_.name, server, ca, t.user, cert, key), 0600));
  }
  return Status::Ok();
}

Result<Ports> ControlPlane::ChoosePorts(const ClusterRecord* previous) const {
  if (previous != nullptr && previous->ports.apiserver != 0) {
    // A stopped cluster keeps its ports unless something else took one meanwhile (another
    // cluster started on the well-known ports); a port its own live component holds stays.
    Ports p = previous->ports;
    auto keep_or_move = [&](int& port, const char* component) -> Status {
      const ComponentRecord* c = previous->Find(component);
      if (!PortInUse(port) || (c != nullptr && IsAlive(c->process))) return Status::Ok();
      AIC_ASSIGN_OR_RETURN(int moved, FreePort());
      Log()->info("port {} of {} is taken; {} moves to {}", port, component, component, moved);
      port = moved;
      return Status::Ok();
    };
    AIC_RETURN_IF_ERROR(keep_or_move(p.apiserver, "kube-apiserver"));
    AIC_RETURN_IF_ERROR(keep_or_move(p.etcd_client, "etcd"));
    AIC_RETURN_IF_ERROR(keep_or_move(p.etcd_peer, "etcd"));
    AIC_RETURN_IF_ERROR(keep_or_move(p.controller_manager, "kube-controller-manager"));
    AIC_RETURN_IF_ERROR(keep_or_move(p.scheduler, "kube-scheduler"));
    return p;
  }
  Ports p;
  // Well-known ports when free, so a lone cluster looks like any other; any free port
  // otherwise, so several clusters (and test runs) can live side by side.
  AIC_ASSIGN_OR_RETURN(p.apiserver, FreePort(6443));
  AIC_ASSIGN_OR_RETURN(p.etcd_client, FreePort(2379));
  AIC_ASSIGN_OR_RETURN(p.etcd_peer, FreePort(2380));
  AIC_ASSIGN_OR_RETURN(p.controller_manager, FreePort(10257));
  AIC_ASSIGN_OR_RETURN(p.scheduler, FreePort(10259));
  return p;
}

std::vector<std::string> ControlPlane::Args(const std::string& name, const Ports& ports,
                                            const std::string& advertise_address) const {
  const Layout& l = layout_;
  auto f = [](const std::string& flag, const auto& value) {
    return fmt::format("--{}={}", flag, value);
  };
  std::string bin = options_.bin_dir + "/" + name;
  if (name == "etcd") {
    std::string client = fmt::format("https://127.0.0.1:{}", ports.etcd_client);
    std::string peer = fmt::format("http://127.0.0.1:{}", ports.etcd_peer);
    return {bin,
            f("name", "aiconform"),
            f("data-dir", l.etcd_data()),
            f("listen-client-urls", client),
            f("advertise-client-urls", client),
            f("listen-peer-urls", peer),
            f("initial-advertise-peer-urls", peer),
            f("initial-cluster", "aiconform=" + peer),
            f("cert-file", l.cert("etcd-server")),
            f("key-file", l.key("etcd-server")),
            f("trusted-ca-file", l.cert("etcd-ca")),
            "--client-cert-auth=true",
            f("listen-metrics-urls", ""),
            "--log-level=warn",
            f("quota-backend-bytes", 4LL << 30),
            "--snapshot-count=10000"};
  }
  if (name == "kube-apiserver") {
    return {bin, f("etcd-servers", fmt::format("https://127.0.0.1:{}", ports.etcd_client)),
            f("etcd-cafile", l.cert("etcd-ca")),
            f("etcd-certfile", l.cert("apiserver-etcd-client")),
            f("etcd-keyfile", l.key("apiserver-etcd-client")), f("bind-address", "0.0.0.0"),
            f("advertise-address", advertise_address), f("secure-port", ports.apiserver),
            f("tls-cert-file", l.cert("apiserver")), f("tls-private-key-file", l.key("apiserver")),
            f("client-ca-file", l.cert("ca")), "--anonymous-auth=false",
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true", "--enable-bootstrap-token-auth=true",
            f("service-cluster-ip-range", kServiceCidr),
            f("service-account-issuer", "https://kubernetes.default.svc.cluster.local"),
            f("service-account-key-file", l.pki() + "/sa.pub"),
            f("service-account-signing-key-file", l.key("sa")),
            f("kubelet-client-certificate", l.cert("apiserver-kubelet-client")),
            f("kubelet-client-key", l.key("apiserver-kubelet-client")),
            f("requestheader-client-ca-file", l.cert("front-proxy-ca")),
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-username-headers=X-Remote-User",
            f("proxy-client-cert-file", l.cert("front-proxy-client")),
            f("proxy-client-key-file", l.key("front-proxy-client")),
            // DRA's GA API; served by default in 1.34, stated so that a changed default
            // cannot silently drop it.
            "--runtime-config=resource.k8s.io/v1=true", "--profiling=false",
            // Node names are not resolvable here; kubelets serve certificates from our CA
            // for their node address.
            "--kubelet-preferred-address-types=InternalIP,Hostname",
            f("kubelet-certificate-authority", l.cert("ca")),
            f("cert-dir", l.pki() + "/apiserver-generated")};
  }
  bool cm = name == "kube-controller-manager";
  std::string short_name = cm ? "controller-manager" : "scheduler";
  std::string kubeconfig = l.component_kubeconfig(short_name);
  std::vector<std::string> args = {
      bin,
      f("kubeconfig", kubeconfig),
      f("authentication-kubeconfig", kubeconfig),
      f("authorization-kubeconfig", kubeconfig),
      f("bind-address", "127.0.0.1"),
      f("secure-port", cm ? ports.controller_manager : ports.scheduler),
      f("tls-cert-file", l.cert(short_name + "-serving")),
      f("tls-private-key-file", l.key(short_name + "-serving")),
      f("client-ca-file", l.cert("ca")),
      f("requestheader-client-ca-file", l.cert("front-proxy-ca")),
      "--leader-elect=true",
      "--profiling=false"};
  if (cm) {
    for (std::string a :
         {f("cluster-signing-cert-file", l.cert("ca")), f("cluster-signing-key-file", l.key("ca")),
          f("root-ca-file", l.cert("ca")), f("service-account-private-key-file", l.key("sa")),
          std::string("--use-service-account-credentials=true"),
          std::string("--controllers=*,bootstrapsigner,tokencleaner"),
          std::string("--allocate-node-cidrs=true"), f("cluster-cidr", kPodCidr),
          std::string("--node-cidr-mask-size=24"), f("service-cluster-ip-range", kServiceCidr),
          // A node whose kubelet stops renewing its lease (every 5 s) is NotReady after 20 s,
          // not the default 50 s, so that evictions in checks and tests happen in seconds.
          std::string("--node-monitor-grace-period=20s"),
          std::string("--node-monitor-period=2s")}) {
      args.push_back(a);
    }
  }
  return args;
}

Status ControlPlane::Probe(const Context& ctx, const std::string& name, const ClusterRecord& record,
                           Clients& clients) {
  const Ports& p = record.ports;
  http::Client* client = clients.admin.get();
  std::vector<std::string> urls;
  if (name == "etcd") {
    client = clients.etcd.get();
    urls = {fmt::format("https://127.0.0.1:{}/health", p.etcd_client)};
  } else if (name == "kube-apiserver") {
    // Live (no deadlock, etcd reachable) and ready (caches synced, post-start hooks done).
    urls = {fmt::format("https://127.0.0.1:{}/livez", p.apiserver),
            fmt::format("https://127.0.0.1:{}/readyz", p.apiserver)};
  } else {
    int port = name == "kube-scheduler" ? p.scheduler : p.controller_manager;
    urls = {fmt::format("https://127.0.0.1:{}/healthz", port)};
  }
  for (const auto& url : urls) {
    AIC_ASSIGN_OR_RETURN(http::Response r, client->Do(ctx.Child(seconds(2)), http::Get(url)));
    if (r.status != 200) {
      std::string body = r.body.substr(0, 200);
      return Error(Code::kUnavailable, "{} answered HTTP {}: {}", url, r.status, body);
    }
    if (name == "etcd" && r.body.find("\"health\":\"true\"") == std::string::npos) {
      return Error(Code::kUnavailable, "etcd reports itself unhealthy: {}", r.body);
    }
  }
  return Status::Ok();
}

Status ControlPlane::WaitHealthy(const Context& ctx, const std::string& name,
                                 const ClusterRecord& record, Clients& clients) {
  const ComponentRecord* rec = record.Find(name);
  Status last;
  while (true) {
    if (rec != nullptr && !IsAlive(rec->process)) {
      return Error(Code::kUnavailable, "{} exited during start-up", name);
    }
    last = Probe(ctx, name, record, clients);
    if (last.ok()) return last;
    if (Status s = ctx.Sleep(milliseconds(100)); !s.ok()) {
      return Error(s.code(), "{} not healthy in time (last probe: {})", name, last.message());
    }
  }
}

Status ControlPlane::WaitForLeases(const Context& ctx, Clients& clients,
                                   const ClusterRecord& record) {
  for (const char* lease : {"kube-controller-manager", "kube-scheduler"}) {
    std::string url = fmt::format(
        "https://127.0.0.1:{}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{}",
        record.ports.apiserver, lease);
    std::string last = "no answer";
    while (true) {
      auto r = clients.admin->Do(ctx.Child(seconds(2)), http::Get(url));
      if (r.ok() && r->status == 200) {
        auto j = nlohmann::json::parse(r->body, nullptr, false);
        std::string holder = j.is_object() ? j["spec"].value("holderIdentity", "") : "";
        if (!holder.empty()) break;
        last = "lease has no holder";
      } else {
        last = r.ok() ? fmt::format("HTTP {}", r->status) : r.status().message();
      }
      if (Status s = ctx.Sleep(milliseconds(100)); !s.ok()) {
        return Error(s.code(), "{} did not take its leader lease in time ({})", lease, last);
      }
    }
  }
  return Status::Ok();
}

Status ControlPlane::StartComponent(const Context& ctx, const std::string& name,
                                    ClusterRecord& record, Clients& clients, Progress& progress) {
  progress.Start("starting " + name);
  std::vector<std::string> args = Args(name, record.ports, record.advertise_address);
  Log()->info("starting {}: {}", name, fmt::join(args, " "));
  auto pid = SpawnDetached({args, {}, layout_.log(name), layout_.root});
  if (!pid.ok()) {
    progress.Fail();
    return pid.status();
  }
  ComponentRecord* rec = record.Find(name);
  if (rec == nullptr) {
    record.components.push_back({name, {}, ""});
    rec = &record.components.back();
  }
  rec->process = *pid;
  AIC_RETURN_IF_ERROR(SaveRecord(layout_, record));
  Status healthy = WaitHealthy(ctx, name, record, clients);
  if (!healthy.ok()) {
    progress.Fail();
    return Error(healthy.code(), "{}\nlast lines of {}:\n{}", healthy.message(), layout_.log(name),
                 TailFile(layout_.log(name), 15));
  }
  progress.Done();
  return Status::Ok();
}

namespace {

// "--version" of each binary, asked in parallel: "etcd Version: 3.6.16" -> "3.6.16",
// "Kubernetes v1.34.2" -> "v1.34.2".
std::map<std::string, std::string> Versions(const Context& ctx, const std::string& bin_dir) {
  std::map<std::string, std::future<Result<std::string>>> pending;
  for (const Binary& b : kBinaries) {
    std::vector<std::string> argv = {bin_dir + "/" + b.file, "--version"};
    pending[b.component] = std::async(
        std::launch::async, [ctx, argv] { return RunCapture(ctx.Child(seconds(20)), argv); });
  }
  std::map<std::string, std::string> out;
  for (auto& [name, f] : pending) {
    auto r = f.get();
    std::string first = r.ok() ? r->substr(0, r->find('\n')) : "";
    out[name] = first.empty() ? "unknown" : first.substr(first.rfind(' ') + 1);
  }
  return out;
}

bool AllRunning(const ClusterRecord& record) {
  for (const auto& name : ComponentNames()) {
    const ComponentRecord* rec = record.Find(name);
    if (rec == nullptr || !IsAlive(rec->process)) return false;
  }
  return true;
}

// True when a component failed because its port was bound by someone else.
bool PortTakenMeanwhile(const Status& s) {
  return !s.ok() && s.message().find("address already in use") != std::string::npos;
}

// Any free ports, not the well-known ones: used when those were just lost to a race.
Result<Ports> AnyFreePorts() {
  Ports p;
  for (int* port :
       {&p.apiserver, &p.etcd_client, &p.etcd_peer, &p.controller_manager, &p.scheduler}) {
    AIC_ASSIGN_OR_RETURN(*port, FreePort());
  }
  return p;
}

void StopStarted(ClusterRecord& record, const std::vector<std::string>& started) {
  for (auto it = started.rbegin(); it != started.rend(); ++it) {
    if (ComponentRecord* rec = record.Find(*it)) {
      Status s = Terminate(rec->process, seconds(5));
      if (!s.ok()) Log()->error("stopping {}: {}", *it, s.message());
      rec->process = {};
    }
  }
}

}  // namespace

Result<bool> ControlPlane::Up(const Context& ctx, Progress& progress) {
  AIC_RETURN_IF_ERROR(CheckBinaries());
  auto previous = LoadRecord(layout_);
  if (!previous.ok() && previous.status().code() != Code::kNotFound) return previous.status();
  bool fresh = !previous.ok();
  if (!fresh && AllRunning(*previous)) return false;
  bool dir_existed = fs::exists(layout_.root);

  auto versions = std::async(std::launch::async, Versions, ctx, options_.bin_dir);
  progress.Start("certificates and kubeconfigs");
  ClusterRecord record = fresh ? ClusterRecord{} : *previous;
  if (fresh) record.name = options_.name;
  AIC_ASSIGN_OR_RETURN(record.ports, ChoosePorts(fresh ? nullptr : &record));
  record.bin_dir = options_.bin_dir;
  if (fresh) record.advertise_address = HostAddress();
  std::error_code ec;
  fs::create_directories(layout_.logs(), ec);
  Status prepared =
      ec ? Error(Code::kFailedPrecondition, "cannot create {}: {}", layout_.logs(), ec.message())
         : EnsureCertificates(record.advertise_address);
  if (prepared.ok()) prepared = WriteKubeconfigs(record.ports);
  if (prepared.ok()) prepared = SaveRecord(layout_, record);
  if (!prepared.ok()) {
    progress.Fail();
    return prepared;
  }
  progress.Done();

  Status result = StartAll(ctx, record, progress);
  for (int retry = 0; retry < 2 && PortTakenMeanwhile(result) && ctx.Check().ok(); ++retry) {
    // Free when chosen, bound by someone else before the component started (often another
    // cluster starting at the same moment): stop what started and try other ports.
    progress.Note("a port was taken meanwhile; trying other ports");
    StopStarted(record, started_);
    started_.clear();
    auto ports = AnyFreePorts();
    result = ports.ok() ? WriteKubeconfigs(*ports) : ports.status();
    if (result.ok()) {
      record.ports = *ports;
      result = SaveRecord(layout_, record);
    }
    if (result.ok()) result = StartAll(ctx, record, progress);
  }
  auto v = versions.get();
  for (auto& c : record.components)
    c.version = v[c.name];
  if (result.ok()) {
    progress.Start("waiting for controller leases");
    result = WaitForLeases(ctx, *clients_, record);
    result.ok() ? progress.Done() : progress.Fail();
  }
  if (result.ok()) {
    AIC_RETURN_IF_ERROR(SaveRecord(layout_, record));
    return true;
  }
  StopStarted(record, started_);
  if (fresh && !dir_existed) {
    std::error_code ec;
    fs::remove_all(layout_.root, ec);
  } else {
    (void)SaveRecord(layout_, record);
  }
  return result;
}

Status ControlPlane::StartAll(const Context& ctx, ClusterRecord& record, Progress& progress) {
  AIC_ASSIGN_OR_RETURN(Clients clients, Clients::Create(layout_));
  clients_ = std::make_shared<Clients>(std::move(clients));
  for (const auto& name : ComponentNames()) {
    ComponentRecord* rec = record.Find(name);
    if (rec != nullptr && IsAlive(rec->process)) {
      progress.Note(name + " already running (pid " + std::to_string(rec->process.pid) + ")");
      continue;
    }
    started_.push_back(name);
    AIC_RETURN_IF_ERROR(StartComponent(ctx, name, record, *clients_, progress));
  }
  return Status::Ok();
}

Status ControlPlane::Down(const Context&, bool purge, Progress& progress) {
  auto record = LoadRecord(layout_);
  if (!record.ok()) {
    if (purge && fs::exists(layout_.root)) {
      std::error_code ec;
      fs::remove_all(layout_.root, ec);
      return Status::Ok();
    }
    return Status(Code::kNotFound, "no local cluster \"" + options_.name + "\" at " + layout_.root);
  }
  const auto& names = ComponentNames();
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    ComponentRecord* rec = record->Find(*it);
    if (rec == nullptr || !IsAlive(rec->process)) continue;
    progress.Start("stopping " + *it);
    Status s = Terminate(rec->process, seconds(10));
    if (!s.ok()) {
      progress.Fail();
      return s.Prefixed("stopping " + *it);
    }
    progress.Done();
  }
  for (auto& c : record->components)
    c.process = {};
  if (purge) {
    std::error_code ec;
    fs::remove_all(layout_.root, ec);
    if (ec) return Error(Code::kFailedPrecondition, "removing {}: {}", layout_.root, ec.message());
    return Status::Ok();
  }
  return SaveRecord(layout_, *record);
}

Result<std::vector<ComponentHealth>> ControlPlane::Health(const Context& ctx) {
  AIC_ASSIGN_OR_RETURN(ClusterRecord record, LoadRecord(layout_));
  AIC_ASSIGN_OR_RETURN(Clients clients, Clients::Create(layout_));
  std::vector<ComponentHealth> out;
  for (const auto& name : ComponentNames()) {
    ComponentHealth h;
    h.name = name;
    if (const ComponentRecord* rec = record.Find(name)) {
      h.process = rec->process;
      h.version = rec->version;
    }
    h.running = IsAlive(h.process);
    h.uptime_seconds = UptimeSeconds(h.process);
    if (!h.running) {
      h.detail = "not running";
    } else {
      Status s = Probe(ctx, name, record, clients);
      h.healthy = s.ok();
      h.detail = s.ok() ? "ok" : s.message();
    }
    out.push_back(h);
  }
  return out;
}

}  // namespace aic::local
