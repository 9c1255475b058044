#include "local/node/network.h"

#include <filesystem>
#include <fstream>

#include "common/log.h"
#include "local/images/digest.h"
#include "local/node/exec.h"

namespace aic::node {

namespace {
constexpr const char* kHostForwarding = "/proc/sys/net/ipv4/ip_forward";
}  // namespace

Result<std::string> EnableHostForwarding() {
  AIC_ASSIGN_OR_RETURN(std::string previous, images::ReadFile(kHostForwarding));
  while (!previous.empty() && previous.back() == '\n')
    previous.pop_back();
  AIC_RETURN_IF_ERROR(SetHostForwarding("1"));
  return previous;
}

Status SetHostForwarding(const std::string& value) {
  std::ofstream out(kHostForwarding);
  out << value << "\n";
  out.flush();
  if (!out) return Error(Code::kPermissionDenied, "cannot write {}", kHostForwarding);
  return Status::Ok();
}

bool NetnsExists(const NodeSpec& spec) {
  return std::filesystem::exists(NetnsPath(spec));
}

bool HostVethExists(const NodeSpec& spec) {
  return std::filesystem::exists("/sys/class/net/" + HostVethName(spec));
}

std::string LinkAlias(const std::string& link) {
  std::ifstream in("/sys/class/net/" + link + "/ifalias");
  std::string alias;
  std::getline(in, alias);
  return alias;
}

Status CreateNodeNetwork(const Context& ctx, const NodeSpec& spec) {
  AIC_RETURN_IF_ERROR(ValidateNodeSpec(spec));
  if (NetnsExists(spec) || HostVethExists(spec)) {
    return Error(Code::kAlreadyExists,
                 "network namespace \"{}\" or link \"{}\" exists already; tear the node down first",
                 NetnsName(spec), HostVethName(spec));
  }
  const std::string ns = NetnsName(spec), veth = HostVethName(spec);
  const std::string host_addr = fmt::format("{}/{}", spec.host_ip, spec.link_prefix);
  const std::string node_addr = fmt::format("{}/{}", spec.node_ip, spec.link_prefix);
  const std::vector<std::vector<std::string>> steps = {
      {"ip", "netns", "add", ns},
      {"ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
      {"ip", "addr", "add", host_addr, "dev", veth},
      // The alias names the node's directory: which cluster a link belongs to is then visible
      // to every cluster on the machine (HostVethOwner).
      {"ip", "link", "set", veth, "alias", spec.dir},
      {"ip", "link", "set", veth, "up"},
      {"ip", "-n", ns, "link", "set", "lo", "up"},
      {"ip", "-n", ns, "addr", "add", node_addr, "dev", "eth0"},
      {"ip", "-n", ns, "link", "set", "eth0", "up"},
      {"ip", "-n", ns, "route", "add", "default", "via", spec.host_ip},
      {"ip", "route", "add", spec.pod_cidr, "via", spec.node_ip, "dev", veth},
  };
  for (const auto& argv : steps) {
    auto out = Run(ctx, argv);
    if (!out.ok()) {
      (void)DeleteNodeNetwork(ctx, spec);
      return out.status().Prefixed(fmt::format("node {}: network", spec.name));
    }
  }

  // Per-namespace sysctl: written by a process inside the namespace.
  auto out = Run(ctx, {"sysctl", "-q", "-w", "net.ipv4.ip_forward=1"}, NetnsPath(spec));
  if (!out.ok()) {
    (void)DeleteNodeNetwork(ctx, spec);
    return out.status().Prefixed(fmt::format("node {}: ip_forward", spec.name));
  }
  log::Get("node")->info("node {}: namespace {} up, {} <-> {}, pods {}", spec.name, ns,
                         spec.host_ip, spec.node_ip, spec.pod_cidr);
  return Status::Ok();
}

Status DeleteNodeNetwork(const Context& ctx, const NodeSpec& spec) {
  if (NetnsExists(spec)) {
    auto out = Run(ctx, {"ip", "netns", "delete", NetnsName(spec)});
    if (!out.ok()) return out.status().Prefixed(fmt::format("node {}", spec.name));
  }
  // The veth goes with the namespace; it remains only while something still holds that.
  if (HostVethExists(spec)) {
    auto out = Run(ctx, {"ip", "link", "delete", HostVethName(spec)});
    if (!out.ok() && HostVethExists(spec)) {
      return out.status().Prefixed(fmt::format("node {}", spec.name));
    }
  }
  return Status::Ok();
}

}  // namespace aic::node
