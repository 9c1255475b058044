#include "local/state.h"

#include <utility>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace aic::local {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string Home() {
  const char* home = getenv("HOME");
  return home && *home ? home : "/root";
}

}  // namespace

std::string DefaultStateDir(const std::string& name) {
  if (const char* dir = getenv("AICONFORM_STATE_DIR"); dir && *dir) {
    return std::string(dir) + "/" + name;
  }
  return Home() + "/.local/state/aiconform/" + name;
}

std::string DefaultBinDir() {
  if (const char* dir = getenv("AICONFORM_BIN_DIR"); dir && *dir) return dir;
  const char* cache = getenv("XDG_CACHE_HOME");
  std::string base = cache && *cache ? cache : Home() + "/.cache";
  return base + "/aiconform/bin/" + kKubeVersion;
}

const ComponentRecord* ClusterRecord::Find(const std::string& component) const {
  for (const auto& c : components) {
    if (c.name == component) return &c;
  }
  return nullptr;
}

ComponentRecord* ClusterRecord::Find(const std::string& component) {
  return const_cast<ComponentRecord*>(std::as_const(*this).Find(component));
}

NodeRecord* ClusterRecord::FindNode(const std::string& node) {
  for (auto& n : nodes) {
    if (n.name == node) return &n;
  }
  return nullptr;
}

namespace {

ProcessId PidFrom(const json& j) {
  return ProcessId{j.value("pid", 0), j.value("startTicks", 0ULL)};
}

json PidJson(const ProcessId& p) {
  return {{"pid", p.pid}, {"startTicks", p.start_ticks}};
}

}  // namespace

Result<ClusterRecord> LoadRecord(const Layout& layout) {
  std::ifstream in(layout.state_file());
  if (!in) return Status(Code::kNotFound, "no cluster state at " + layout.state_file());
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status(Code::kInvalidArgument, layout.state_file() + ": not valid JSON");
  }
  ClusterRecord r;
  r.name = j.value("name", "");
  r.bin_dir = j.value("binDir", "");
  r.advertise_address = j.value("advertiseAddress", "127.0.0.1");
  const json& p = j.value("ports", json::object());
  r.ports = Ports{p.value("apiserver", 0), p.value("etcdClient", 0), p.value("etcdPeer", 0),
                  p.value("controllerManager", 0), p.value("scheduler", 0)};
  for (const json& c : j.value("components", json::array())) {
    r.components.push_back({c.value("name", ""),
                            ProcessId{c.value("pid", 0), c.value("startTicks", 0ULL)},
                            c.value("version", "")});
  }
  for (const json& n : j.value("nodes", json::array())) {
    r.nodes.push_back({n.value("name", ""), n.value("pool", ""), n.value("index", 0),
                       PidFrom(n.value("containerd", json::object())),
                       PidFrom(n.value("kubelet", json::object())),
                       PidFrom(n.value("kubeProxy", json::object()))});
  }
  if (j.contains("pools") && j["pools"].is_array()) {
    r.pools.emplace();
    for (const json& p : j["pools"]) {
      PoolSpec pool;
      pool.name = p.value("name", "");
      pool.mode = p.value("mode", "user");
      pool.count = p.value("count", 0);
      pool.labels = p.value("labels", std::map<std::string, std::string>{});
      for (const json& t : p.value("taints", json::array())) {
        pool.taints.push_back({t.value("key", ""), t.value("value", ""), t.value("effect", "")});
      }
      r.pools->push_back(pool);
    }
  }
  const json settings = j.value("hostSettings", json::object());
  for (const auto& [key, value] : settings.items()) {
    if (value.is_string()) r.host_settings[key] = value.get<std::string>();
  }
  return r;
}

Status SaveRecord(const Layout& layout, const ClusterRecord& r) {
  json j = {{"name", r.name},
            {"binDir", r.bin_dir},
            {"advertiseAddress", r.advertise_address},
            {"ports",
             {{"apiserver", r.ports.apiserver},
              {"etcdClient", r.ports.etcd_client},
              {"etcdPeer", r.ports.etcd_peer},
              {"controllerManager", r.ports.controller_manager},
              {"scheduler", r.ports.scheduler}}},
            {"components", json::array()}};
  for (const auto& c : r.components) {
    j["components"].push_back({{"name", c.name},
                               {"pid", c.process.pid},
                               {"startTicks", c.process.start_ticks},
                               {"version", c.version}});
  }
  j["nodes"] = json::array();
  for (const auto& n : r.nodes) {
    j["nodes"].push_back({{"name", n.name},
                          {"pool", n.pool},
                          {"index", n.index},
                          {"containerd", PidJson(n.containerd)},
                          {"kubelet", PidJson(n.kubelet)},
                          {"kubeProxy", PidJson(n.kube_proxy)}});
  }
  if (r.pools) {
    j["pools"] = json::array();
    for (const auto& p : *r.pools) {
      json taints = json::array();
      for (const auto& t : p.taints)
        taints.push_back({{"key", t.key}, {"value", t.value}, {"effect", t.effect}});
      j["pools"].push_back({{"name", p.name},
                            {"mode", p.mode},
                            {"count", p.count},
                            {"labels", p.labels},
                            {"taints", taints}});
    }
  }
  j["hostSettings"] = r.host_settings;
  return WriteFile(layout.state_file(), j.dump(2) + "\n");
}

std::string HostAddress() {
  // /proc/net/route: Iface Destination Gateway ...; the default route has destination 0.
  std::ifstream routes("/proc/net/route");
  std::string line, iface;
  std::getline(routes, line);
  while (std::getline(routes, line)) {
    std::istringstream fields(line);
    std::string name, dest;
    fields >> name >> dest;
    if (dest == "00000000") {
      iface = name;
      break;
    }
  }
  std::string address = "127.0.0.1";
  ifaddrs* list = nullptr;
  if (iface.empty() || getifaddrs(&list) != 0) return address;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET || iface != a->ifa_name) {
      continue;
    }
    char buf[INET_ADDRSTRLEN];
    auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf)) != nullptr) address = buf;
    break;
  }
  freeifaddrs(list);
  return address;
}

bool PortInUse(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  // Like the Go servers we start, ignore connections lingering in TIME_WAIT: only a socket
  // bound to the port makes it unusable.
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool in_use = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0;
  close(fd);
  return in_use;
}

Result<int> FreePort(int preferred) {
  if (preferred > 0 && !PortInUse(preferred)) return preferred;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return Error(Code::kUnavailable, "no free TCP port on 127.0.0.1: {}", strerror(errno));
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

Status WriteFile(const std::string& path, const std::string& content, unsigned mode) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return Error(Code::kFailedPrecondition, "cannot create {}: {}", path, ec.message());
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Error(Code::kFailedPrecondition, "cannot write {}: {}", tmp, strerror(errno));
    chmod(tmp.c_str(), mode);
    out << content;
    if (!out.flush()) return Error(Code::kFailedPrecondition, "cannot write {}", tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) return Error(Code::kFailedPrecondition, "cannot write {}: {}", path, ec.message());
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Code::kNotFound, "cannot read {}: {}", path, strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace aic::local
